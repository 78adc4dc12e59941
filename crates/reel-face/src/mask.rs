//! Soft masks built from the mesh: whole face, skin only, eyes, mouth. A mask covers only the
//! face's neighbourhood of the frame, so masks stay cheap on 4K frames.

use reel_image::{Affine, Point};

use crate::mesh::{Landmark, landmark_box, outline};

/// Which part of the face a mask covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// Inside the face oval (forehead to chin, cheek to cheek).
    Face,
    /// The face without eyes, brows, lips and nostrils: where skin retouching may act.
    Skin,
    Eyes,
    /// Lips and the mouth opening.
    Mouth,
}

/// Coverage in [0, 1] over a rectangle of the frame (or of a crop).
#[derive(Clone, Debug, Default)]
pub struct Mask {
    pub x0: usize,
    pub y0: usize,
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Mask {
    /// An empty (all zero) mask over a rectangle.
    pub fn new(x0: usize, y0: usize, width: usize, height: usize) -> Mask {
        Mask {
            x0,
            y0,
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// Fills a polygon (even-odd rule, sampled at pixel centres) with `value`.
    pub fn fill_polygon(&mut self, poly: &[Point], value: f32) {
        fill(self, poly, value);
    }

    /// Draws a thick polyline (round joins) with `value`.
    pub fn stroke(&mut self, line: &[Point], width: f32, value: f32) {
        let r = width / 2.0;
        for pair in line.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let len = a.distance(b).max(1e-3);
            let (nx, ny) = (-(b.y - a.y) / len * r, (b.x - a.x) / len * r);
            let quad = [
                Point::new(a.x + nx, a.y + ny),
                Point::new(b.x + nx, b.y + ny),
                Point::new(b.x - nx, b.y - ny),
                Point::new(a.x - nx, a.y - ny),
            ];
            fill(self, &quad, value);
        }
        for &p in line {
            self.fill_ellipse(p, r, r, 0.0, value);
        }
    }

    /// Fills an ellipse with radii (rx, ry) turned by `angle` radians.
    pub fn fill_ellipse(&mut self, center: Point, rx: f32, ry: f32, angle: f32, value: f32) {
        let (s, c) = angle.sin_cos();
        let poly: Vec<Point> = (0..32)
            .map(|k| {
                let t = k as f32 / 32.0 * std::f32::consts::TAU;
                let (x, y) = (rx * t.cos(), ry * t.sin());
                Point::new(center.x + c * x - s * y, center.y + s * x + c * y)
            })
            .collect();
        fill(self, &poly, value);
    }

    /// Softens the edges (a near-Gaussian of about `radius` pixels).
    pub fn feather(&mut self, radius: usize) {
        feather(self, radius);
    }

    /// Coverage at a frame pixel (zero outside the rectangle).
    pub fn at(&self, x: usize, y: usize) -> f32 {
        if x < self.x0 || y < self.y0 || x >= self.x0 + self.width || y >= self.y0 + self.height {
            return 0.0;
        }
        self.data[(y - self.y0) * self.width + (x - self.x0)]
    }
}

/// Fills a polygon (even-odd rule, sampled at pixel centres) with `value`.
fn fill(mask: &mut Mask, poly: &[Point], value: f32) {
    let (w, h) = (mask.width as isize, mask.height as isize);
    let mut xs = Vec::with_capacity(16);
    for y in 0..h {
        let py = (y + mask.y0 as isize) as f32;
        xs.clear();
        for i in 0..poly.len() {
            let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
            if (a.y <= py) != (b.y <= py) {
                xs.push(a.x + (py - a.y) / (b.y - a.y) * (b.x - a.x));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            let from = ((pair[0] - mask.x0 as f32).ceil() as isize).clamp(0, w);
            let to = ((pair[1] - mask.x0 as f32).floor() as isize + 1).clamp(0, w);
            let row = (y * w) as usize;
            for x in from..to {
                mask.data[row + x as usize] = value;
            }
        }
    }
}

/// Softens a mask with a near-Gaussian of about `radius` pixels.
fn feather(mask: &mut Mask, radius: usize) {
    if radius == 0 {
        return;
    }
    let sigma = ((radius * (radius + 1)) as f32).sqrt();
    let mut tmp = Vec::new();
    reel_image::blur::gaussian(&mut mask.data, mask.width, mask.height, 1, sigma, &mut tmp);
}

/// The box of the landmarks as `map` places them.
fn mapped_box(lm: &[Landmark], map: &Affine) -> [f32; 4] {
    let mapped: Vec<Landmark> = lm
        .iter()
        .map(|l| {
            let p = map.apply(l.point());
            Landmark {
                x: p.x,
                y: p.y,
                z: 0.0,
            }
        })
        .collect();
    landmark_box(&mapped)
}

/// Builds a soft mask of a face region in the frame (`map` = identity) or in a crop (`map` = the
/// alignment's image-to-crop transform), over a `bounds` width x height area. `feather_frac` is
/// the feather radius as a fraction of the face size. The mask covers the face's neighbourhood.
pub fn face_mask(
    lm: &[Landmark],
    region: Region,
    map: &Affine,
    bounds: (usize, usize),
    feather_frac: f32,
) -> Mask {
    let [bx, by, bw, bh] = mapped_box(lm, map);
    let radius = (bw.max(bh) * feather_frac).round().max(0.0);
    let pad = radius * 3.0 + 2.0;
    let x0 = (bx - pad).floor().clamp(0.0, bounds.0 as f32) as usize;
    let y0 = (by - pad).floor().clamp(0.0, bounds.1 as f32) as usize;
    let x1 = (bx + bw + pad).ceil().clamp(0.0, bounds.0 as f32) as usize;
    let y1 = (by + bh + pad).ceil().clamp(0.0, bounds.1 as f32) as usize;
    let mut mask = Mask::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0));
    draw_face_region(&mut mask, lm, region, map, feather_frac);
    mask
}

/// Draws a face region into an existing mask (whose rectangle the caller chose) and feathers it.
pub fn draw_face_region(
    mask: &mut Mask,
    lm: &[Landmark],
    region: Region,
    map: &Affine,
    feather_frac: f32,
) {
    let pts =
        |idx: &[usize]| -> Vec<Point> { idx.iter().map(|&i| map.apply(lm[i].point())).collect() };
    let oval = pts(outline::FACE_OVAL);
    let [_, _, bw, bh] = mapped_box(lm, map);
    let radius = (bw.max(bh) * feather_frac).round().max(0.0) as usize;
    let mask = &mut *mask;
    match region {
        Region::Face => fill(mask, &oval, 1.0),
        Region::Skin => {
            // Feathered inward: the face's silhouette against the background is not skin.
            fill(mask, &grown(&oval, -2.0 * radius as f32), 1.0);
            // The parts that are not skin grow by the feather width before they are cut out, so
            // that the feathered edge lies on skin and eyes, brows, lips and nostrils stay
            // untouched.
            let mut holes = Mask::new(mask.x0, mask.y0, mask.width, mask.height);
            for part in [
                outline::LEFT_EYE,
                outline::RIGHT_EYE,
                outline::LEFT_BROW,
                outline::RIGHT_BROW,
                outline::LIPS,
                outline::NOSTRILS,
            ] {
                fill(
                    &mut holes,
                    &grown(&pts(part), 3.0 * radius as f32 + 1.0),
                    1.0,
                );
            }
            feather(mask, radius);
            feather(&mut holes, radius);
            for (m, h) in mask.data.iter_mut().zip(&holes.data) {
                *m *= 1.0 - h;
            }
            return;
        }
        Region::Eyes => {
            fill(mask, &pts(outline::LEFT_EYE), 1.0);
            fill(mask, &pts(outline::RIGHT_EYE), 1.0);
        }
        Region::Mouth => fill(mask, &pts(outline::LIPS), 1.0),
    }
    feather(mask, radius);
}

/// The polygon pushed outward from its centre by `by` pixels.
pub fn grown(poly: &[Point], by: f32) -> Vec<Point> {
    let n = poly.len() as f32;
    let c = Point::new(
        poly.iter().map(|p| p.x).sum::<f32>() / n,
        poly.iter().map(|p| p.y).sum::<f32>() / n,
    );
    poly.iter()
        .map(|p| {
            let d = p.distance(c).max(1e-3);
            Point::new(
                c.x + (p.x - c.x) * (d + by) / d,
                c.y + (p.y - c.y) * (d + by) / d,
            )
        })
        .collect()
}
