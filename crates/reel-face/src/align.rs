//! Similarity-aligned face crops and the transform to paste edits back.

use reel_image::{Affine, Border, Image, Point, warp_rgb};

use crate::mesh::{Landmark, outline};

/// The five-point template of the widely used 112 x 112 face alignment (ArcFace): the eyes in
/// image order, the nose tip, the mouth corners in image order.
const TEMPLATE_112: [Point; 5] = [
    Point::new(38.2946, 51.6963),
    Point::new(73.5318, 51.5014),
    Point::new(56.0252, 71.7366),
    Point::new(41.5493, 92.3655),
    Point::new(70.7299, 92.2041),
];

fn centroid(lm: &[Landmark], idx: &[usize]) -> Point {
    let n = idx.len() as f32;
    let (sx, sy) = idx
        .iter()
        .fold((0.0, 0.0), |(x, y), &i| (x + lm[i].x, y + lm[i].y));
    Point::new(sx / n, sy / n)
}

/// The five alignment points of a face, in template order.
pub fn five_points(lm: &[Landmark]) -> [Point; 5] {
    [
        centroid(lm, outline::RIGHT_EYE),
        centroid(lm, outline::LEFT_EYE),
        lm[4].point(),
        lm[61].point(),
        lm[291].point(),
    ]
}

/// An aligned view of one face: `size` x `size` pixels, eyes level, at a fixed scale.
#[derive(Clone, Copy, Debug)]
pub struct Alignment {
    pub size: usize,
    /// Image pixels -> crop pixels.
    pub to_crop: Affine,
    /// Crop pixels -> image pixels.
    pub to_image: Affine,
}

impl Alignment {
    /// Aligns to the template scaled to `size`; `margin` zooms out (0.0 is the tight template,
    /// 0.5 shows half as much again around it, taking in hair and chin).
    pub fn new(lm: &[Landmark], size: usize, margin: f32) -> Option<Alignment> {
        let s = size as f32 / 112.0 / (1.0 + margin);
        let c = size as f32 / 2.0;
        let template: Vec<Point> = TEMPLATE_112
            .iter()
            .map(|p| Point::new(c + (p.x - 56.0) * s, c + (p.y - 56.0) * s))
            .collect();
        let to_crop = Affine::similarity(&five_points(lm), &template)?;
        Some(Alignment {
            size,
            to_crop,
            to_image: to_crop.inverse()?,
        })
    }

    /// Cuts the aligned crop out of the image.
    pub fn crop(&self, image: &Image, out: &mut Image) {
        out.reshape(self.size, self.size);
        warp_rgb(image, &self.to_image, Border::Replicate, out);
    }

    /// Face size in image pixels for one crop pixel.
    pub fn pixels_per_crop_pixel(&self) -> f32 {
        self.to_image.scale()
    }
}
