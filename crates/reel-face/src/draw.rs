//! Drawing analysed faces over a frame, for previews: mesh, outlines, boxes, ids and masks.

use crate::Face;
use crate::mask::{Region, face_mask};
use crate::mesh::outline;
use reel_image::Affine;
use reel_image::{Canvas, GLYPH_HEIGHT, Image, Point};

const MESH: [u8; 3] = [64, 255, 96];
const OUTLINE: [u8; 3] = [255, 255, 255];
const BOX: [u8; 3] = [255, 200, 0];

pub fn draw_faces(image: &mut Image, faces: &[Face]) {
    let mut canvas = Canvas { image };
    for face in faces {
        let lm = &face.landmarks;
        for part in [
            outline::FACE_OVAL,
            outline::LEFT_EYE,
            outline::RIGHT_EYE,
            outline::LEFT_BROW,
            outline::RIGHT_BROW,
            outline::LIPS,
        ] {
            let pts: Vec<Point> = part.iter().map(|&i| lm[i].point()).collect();
            canvas.polygon(&pts, OUTLINE);
        }
        for l in lm {
            canvas.dot(l.point(), 0, MESH);
        }
        let [x, y, w, h] = face.bbox;
        canvas.polygon(
            &[
                Point::new(x, y),
                Point::new(x + w, y),
                Point::new(x + w, y + h),
                Point::new(x, y + h),
            ],
            BOX,
        );
        let scale = ((w / 60.0).round() as isize).clamp(1, 6);
        let label = format!("#{}", face.id);
        let top = y as isize - (GLYPH_HEIGHT as isize + 2) * scale;
        canvas.text(x as isize, top.max(0), &label, scale, BOX);
    }
}

/// Tints the chosen mask region of every face (or the person, from `person`, one value per
/// pixel) so that masks can be checked by eye.
pub fn tint_masks(
    image: &mut Image,
    faces: &[Face],
    region: Option<Region>,
    person: Option<&[u8]>,
) {
    const TINT: [f32; 3] = [255.0, 0.0, 160.0];
    let blend = |px: &mut [u8], a: f32| {
        for (c, t) in px.iter_mut().zip(TINT) {
            *c = (*c as f32 * (1.0 - 0.5 * a) + t * 0.5 * a) as u8;
        }
    };
    if let Some(person) = person {
        for (px, &a) in image.data.chunks_exact_mut(3).zip(person) {
            blend(px, a as f32 / 255.0);
        }
    }
    let Some(region) = region else { return };
    let (w, h) = (image.width, image.height);
    for face in faces {
        let m = face_mask(&face.landmarks, region, &Affine::IDENTITY, (w, h), 0.02);
        for y in 0..m.height {
            for x in 0..m.width {
                let a = m.data[y * m.width + x];
                if a > 0.0 {
                    let i = ((m.y0 + y) * w + m.x0 + x) * 3;
                    blend(&mut image.data[i..i + 3], a);
                }
            }
        }
    }
}
