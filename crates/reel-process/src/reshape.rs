//! Smooth, local reshaping driven by mesh points: each control point moves by a small vector,
//! points that must stay put anchor the field, and every pixel in between moves by a
//! Gaussian-weighted blend. Pixels the field does not reach are left exactly as they were.

use reel_image::{Image, Point};

/// A point of the face and how far it should move, in pixels.
#[derive(Clone, Copy, Debug)]
pub struct Control {
    pub at: Point,
    pub by: [f32; 2],
}

/// The displacement at `p` for control points of reach `rho`: moved points pull it towards their
/// motion, anchors (zero motion) towards rest, and far from every point it fades to nothing.
pub fn displacement_at(p: Point, controls: &[Control], rho: f32) -> [f32; 2] {
    displacement(p, controls, 1.0 / (2.0 * rho * rho))
}

fn displacement(p: Point, controls: &[Control], inv_two_rho2: f32) -> [f32; 2] {
    let (mut wsum, mut dx, mut dy) = (0.0f32, 0.0f32, 0.0f32);
    for c in controls {
        let d2 = (p.x - c.at.x).powi(2) + (p.y - c.at.y).powi(2);
        let k = (-d2 * inv_two_rho2).exp();
        wsum += k;
        dx += k * c.by[0];
        dy += k * c.by[1];
    }
    let norm = wsum.max(1.0);
    [dx / norm, dy / norm]
}

/// Reusable buffers.
#[derive(Default)]
pub struct Reshaper {
    src: Vec<u8>,
    grid: Vec<[f32; 2]>,
}

const STEP: usize = 8;

impl Reshaper {
    /// Warps the rectangle (x0, y0, w, h) of the frame; `rho` is the reach of each control point.
    pub fn apply(
        &mut self,
        frame: &mut Image,
        rect: (usize, usize, usize, usize),
        controls: &[Control],
        rho: f32,
    ) {
        let (x0, y0, w, h) = rect;
        if w < 2 || h < 2 || controls.is_empty() {
            return;
        }
        let inv = 1.0 / (2.0 * rho * rho);
        // The field is smooth: evaluate it on a coarse grid and interpolate.
        let (gw, gh) = (w.div_ceil(STEP) + 1, h.div_ceil(STEP) + 1);
        self.grid.clear();
        for gy in 0..gh {
            for gx in 0..gw {
                let p = Point::new((x0 + gx * STEP) as f32, (y0 + gy * STEP) as f32);
                self.grid.push(displacement(p, controls, inv));
            }
        }
        self.src.clear();
        for y in 0..h {
            let s = ((y0 + y) * frame.width + x0) * 3;
            self.src.extend_from_slice(&frame.data[s..s + w * 3]);
        }
        for y in 0..h {
            let (gy, ty) = (y / STEP, (y % STEP) as f32 / STEP as f32);
            for x in 0..w {
                let (gx, tx) = (x / STEP, (x % STEP) as f32 / STEP as f32);
                let g = |ix: usize, iy: usize| self.grid[iy * gw + ix];
                let (a, b, c, d) = (g(gx, gy), g(gx + 1, gy), g(gx, gy + 1), g(gx + 1, gy + 1));
                let mut disp = [0.0f32; 2];
                for k in 0..2 {
                    let top = a[k] + (b[k] - a[k]) * tx;
                    let bottom = c[k] + (d[k] - c[k]) * tx;
                    disp[k] = top + (bottom - top) * ty;
                }
                if disp[0].abs() < 0.02 && disp[1].abs() < 0.02 {
                    continue;
                }
                // Backward mapping: this pixel shows what was at (p - displacement).
                let sx = (x as f32 - disp[0]).clamp(0.0, (w - 1) as f32);
                let sy = (y as f32 - disp[1]).clamp(0.0, (h - 1) as f32);
                let (ix, iy) = ((sx as usize).min(w - 2), (sy as usize).min(h - 2));
                let (fx, fy) = (sx - ix as f32, sy - iy as f32);
                let o = ((y0 + y) * frame.width + x0 + x) * 3;
                for ch in 0..3 {
                    let at = |xx: usize, yy: usize| self.src[(yy * w + xx) * 3 + ch] as f32;
                    let top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * fx;
                    let bottom = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * fx;
                    frame.data[o + ch] =
                        (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}
