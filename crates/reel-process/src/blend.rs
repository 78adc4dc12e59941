//! Putting a new face into a frame: alpha blending through a soft mask; multi-band blending
//! (Burt and Adelson 1983), which joins each band of detail over a width that suits it, so that
//! broad differences of shading fade in gently while fine detail keeps a crisp join; or Poisson
//! blending (Pérez, Gangnet and Blake 2003), which keeps the new face's gradients and lets the
//! frame set its level at the edge, so any remaining difference of colour or shading is spread
//! smoothly over the whole face.

use reel_image::blur::gaussian;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blend {
    Alpha,
    MultiBand,
    Poisson,
}

impl Blend {
    pub fn parse(name: &str) -> Option<Blend> {
        Some(match name {
            "alpha" => Blend::Alpha,
            "multiband" => Blend::MultiBand,
            "poisson" => Blend::Poisson,
            _ => return None,
        })
    }
}

/// Half the size (a Gaussian of sigma 1, then every other pixel).
fn down(
    img: &[f32],
    w: usize,
    h: usize,
    ch: usize,
    tmp: &mut Vec<f32>,
) -> (Vec<f32>, usize, usize) {
    let mut b = img.to_vec();
    gaussian(&mut b, w, h, ch, 1.0, tmp);
    let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
    let mut out = vec![0.0; w2 * h2 * ch];
    for y in 0..h2 {
        for x in 0..w2 {
            let (sx, sy) = ((2 * x).min(w - 1), (2 * y).min(h - 1));
            out[(y * w2 + x) * ch..(y * w2 + x + 1) * ch]
                .copy_from_slice(&b[(sy * w + sx) * ch..(sy * w + sx + 1) * ch]);
        }
    }
    (out, w2, h2)
}

/// Back to `w` x `h` from the half-size image (bilinear).
fn up(img: &[f32], w2: usize, h2: usize, w: usize, h: usize, ch: usize) -> Vec<f32> {
    let mut out = vec![0.0; w * h * ch];
    for y in 0..h {
        let fy = (y as f32 / 2.0).min((h2 - 1) as f32);
        let (y0, ty) = (fy as usize, fy - fy.floor());
        let y1 = (y0 + 1).min(h2 - 1);
        for x in 0..w {
            let fx = (x as f32 / 2.0).min((w2 - 1) as f32);
            let (x0, tx) = (fx as usize, fx - fx.floor());
            let x1 = (x0 + 1).min(w2 - 1);
            for c in 0..ch {
                let at = |xx: usize, yy: usize| img[(yy * w2 + xx) * ch + c];
                let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * tx;
                let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * tx;
                out[(y * w + x) * ch + c] = top + (bottom - top) * ty;
            }
        }
    }
    out
}

/// Blends `source` into `target` (both w x h RGB) through `mask` (w x h, 0..1) with `levels`
/// bands, and returns the result.
pub fn multiband(
    target: &[f32],
    source: &[f32],
    mask: &[f32],
    w: usize,
    h: usize,
    levels: usize,
) -> Vec<f32> {
    let mut tmp = Vec::new();
    let (mut t, mut s, mut m) = (target.to_vec(), source.to_vec(), mask.to_vec());
    let (mut cw, mut ch) = (w, h);
    // Each level keeps its band (the level minus the next level up-sampled) and its mask.
    let mut bands: Vec<(Vec<f32>, Vec<f32>, usize, usize)> = Vec::new();
    for _ in 0..levels {
        if cw < 8 || ch < 8 {
            break;
        }
        let (t2, w2, h2) = down(&t, cw, ch, 3, &mut tmp);
        let (s2, _, _) = down(&s, cw, ch, 3, &mut tmp);
        let (m2, _, _) = down(&m, cw, ch, 1, &mut tmp);
        let (tu, su) = (up(&t2, w2, h2, cw, ch, 3), up(&s2, w2, h2, cw, ch, 3));
        let band: Vec<f32> = (0..cw * ch * 3)
            .map(|i| {
                let a = m[i / 3];
                a * (s[i] - su[i]) + (1.0 - a) * (t[i] - tu[i])
            })
            .collect();
        bands.push((band, m, cw, ch));
        (t, s, m, cw, ch) = (t2, s2, m2, w2, h2);
    }
    let mut out: Vec<f32> = (0..cw * ch * 3)
        .map(|i| m[i / 3] * s[i] + (1.0 - m[i / 3]) * t[i])
        .collect();
    for (band, _, bw, bh) in bands.into_iter().rev() {
        out = up(&out, cw, ch, bw, bh, 3);
        for (o, b) in out.iter_mut().zip(&band) {
            *o += b;
        }
        (cw, ch) = (bw, bh);
    }
    out
}

/// Gauss-Seidel sweeps at each level of the Poisson solver: enough for the finest levels, whose
/// start is already close, and cheap at the coarse ones.
const SWEEPS: usize = 24;

/// A pixel of the Poisson problem: solved for, held at a known correction, or outside the
/// problem altogether.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    Free,
    Fixed,
    Outside,
}

/// One level of the Poisson problem: the correction to add to the source, unknown where free
/// and known (frame minus source) where fixed. The correction is harmonic where free (Laplace's
/// equation), so the sum keeps the source's gradients.
struct Level {
    w: usize,
    h: usize,
    cell: Vec<Cell>,
    value: Vec<[f32; 3]>,
}

impl Level {
    /// Half the size: a pixel is fixed if any child is (at their mean), outside if all children
    /// are, and free otherwise.
    fn coarser(&self) -> Level {
        let (w2, h2) = (self.w.div_ceil(2), self.h.div_ceil(2));
        let mut cell = vec![Cell::Outside; w2 * h2];
        let mut value = vec![[0.0; 3]; w2 * h2];
        for y in 0..h2 {
            for x in 0..w2 {
                let (mut sum, mut fixed, mut free) = ([0.0f32; 3], 0, false);
                for (cx, cy) in [
                    (2 * x, 2 * y),
                    (2 * x + 1, 2 * y),
                    (2 * x, 2 * y + 1),
                    (2 * x + 1, 2 * y + 1),
                ] {
                    if cx >= self.w || cy >= self.h {
                        continue;
                    }
                    let i = cy * self.w + cx;
                    match self.cell[i] {
                        Cell::Fixed => {
                            fixed += 1;
                            for (total, v) in sum.iter_mut().zip(self.value[i]) {
                                *total += v;
                            }
                        }
                        Cell::Free => free = true,
                        Cell::Outside => {}
                    }
                }
                let o = y * w2 + x;
                if fixed > 0 {
                    cell[o] = Cell::Fixed;
                    value[o] = sum.map(|v| v / fixed as f32);
                } else if free {
                    cell[o] = Cell::Free;
                }
            }
        }
        Level {
            w: w2,
            h: h2,
            cell,
            value,
        }
    }

    /// Relaxes the free pixels toward the mean of their neighbours in the problem, red-black
    /// order so each sweep sees half its neighbours updated.
    fn relax(&mut self, sweeps: usize) {
        let (w, h) = (self.w, self.h);
        for _ in 0..sweeps {
            for parity in 0..2 {
                for y in 0..h {
                    for x in ((y + parity) % 2..w).step_by(2) {
                        let i = y * w + x;
                        if self.cell[i] != Cell::Free {
                            continue;
                        }
                        let (mut sum, mut n) = ([0.0f32; 3], 0.0f32);
                        let mut add = |j: usize| {
                            if self.cell[j] != Cell::Outside {
                                n += 1.0;
                                for (total, v) in sum.iter_mut().zip(self.value[j]) {
                                    *total += v;
                                }
                            }
                        };
                        if x > 0 {
                            add(i - 1);
                        }
                        if x + 1 < w {
                            add(i + 1);
                        }
                        if y > 0 {
                            add(i - w);
                        }
                        if y + 1 < h {
                            add(i + w);
                        }
                        if n > 0.0 {
                            self.value[i] = sum.map(|v| v / n);
                        }
                    }
                }
            }
        }
    }

    /// Solves the level: the coarser level first, its solution as the start here.
    fn solve(&mut self) {
        if !self.cell.contains(&Cell::Free) {
            return;
        }
        if self.w > 4 && self.h > 4 {
            let mut coarse = self.coarser();
            coarse.solve();
            for y in 0..self.h {
                for x in 0..self.w {
                    let i = y * self.w + x;
                    if self.cell[i] == Cell::Free {
                        self.value[i] = coarse.value[(y / 2) * coarse.w + x / 2];
                    }
                }
            }
            self.relax(SWEEPS);
        } else {
            self.relax(SWEEPS * 8);
        }
    }
}

/// Poisson blending of `source` into `target` (both w x h RGB) where `mask` > 0. The source is
/// only read where the mask is above 0. Its outermost pixels there (those with a neighbour
/// outside the mask or the region) take the target's value, and inside them the source keeps
/// its gradients plus the smooth correction that meets them; the result is faded into the
/// target through the mask.
pub fn poisson(target: &[f32], source: &[f32], mask: &[f32], w: usize, h: usize) -> Vec<f32> {
    let inside = |x: usize, y: usize| mask[y * w + x] > 0.0;
    let cell: Vec<Cell> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            if !inside(x, y) {
                Cell::Outside
            } else if x > 0
                && y > 0
                && x + 1 < w
                && y + 1 < h
                && inside(x - 1, y)
                && inside(x + 1, y)
                && inside(x, y - 1)
                && inside(x, y + 1)
            {
                Cell::Free
            } else {
                Cell::Fixed
            }
        })
        .collect();
    let mut level = Level {
        w,
        h,
        value: (0..w * h)
            .map(|i| {
                if cell[i] == Cell::Fixed {
                    [0, 1, 2].map(|c| target[3 * i + c] - source[3 * i + c])
                } else {
                    [0.0; 3]
                }
            })
            .collect(),
        cell,
    };
    level.solve();
    (0..w * h * 3)
        .map(|i| {
            let a = mask[i / 3].clamp(0.0, 1.0);
            if a <= 0.0 {
                return target[i];
            }
            let cloned = source[i] + level.value[i / 3][i % 3];
            a * cloned + (1.0 - a) * target[i]
        })
        .collect()
}

/// Puts `face` (RGB, 0..255, one per pixel of `rect`) into the frame through `alpha`. Pixels the
/// blend does not reach are left exactly as they were.
pub fn paste(
    frame: &mut reel_image::Image,
    rect: (usize, usize, usize, usize),
    face: &[[f32; 3]],
    alpha: &[f32],
    blend: Blend,
) {
    let (x0, y0, w, h) = rect;
    let at = |i: usize| ((y0 + i / w) * frame.width + x0 + i % w) * 3;
    match blend {
        Blend::Alpha => {
            for (i, (&a, v)) in alpha.iter().zip(face).enumerate() {
                if a <= 0.0 {
                    continue;
                }
                let o = at(i);
                for (dst, new) in frame.data[o..o + 3].iter_mut().zip(v) {
                    let t = *dst as f32;
                    *dst = (t + a * (new - t)).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        Blend::MultiBand | Blend::Poisson => {
            let mut target = Vec::with_capacity(w * h * 3);
            for i in 0..w * h {
                target.extend(frame.data[at(i)..at(i) + 3].iter().map(|&v| v as f32));
            }
            // Where the face does not reach, the frame itself stands in (Poisson blending reads
            // the face only inside the mask).
            let source: Vec<f32> = (0..w * h)
                .flat_map(|i| {
                    if alpha[i] > 0.0 {
                        face[i]
                    } else {
                        [target[3 * i], target[3 * i + 1], target[3 * i + 2]]
                    }
                })
                .collect();
            let levels = 4;
            let (out, reach) = if blend == Blend::Poisson {
                // Poisson blending changes only what the mask covers.
                let out = poisson(&target, &source, alpha, w, h);
                (out, alpha.to_vec())
            } else {
                // The blend reaches as far as the coarsest band's blur of the mask.
                let mut reach = alpha.to_vec();
                gaussian(&mut reach, w, h, 1, (1 << levels) as f32, &mut Vec::new());
                (multiband(&target, &source, alpha, w, h, levels), reach)
            };
            for i in 0..w * h {
                if reach[i] < 1e-3 && alpha[i] <= 0.0 {
                    continue;
                }
                let o = at(i);
                for k in 0..3 {
                    frame.data[o + k] = out[3 * i + k].round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_mask_gives_the_source_and_an_empty_one_the_target() {
        let (w, h) = (40, 30);
        let t: Vec<f32> = (0..w * h * 3).map(|i| (i * 7 % 255) as f32).collect();
        let s: Vec<f32> = (0..w * h * 3).map(|i| (i * 13 % 200) as f32).collect();
        let ones = vec![1.0; w * h];
        let zeros = vec![0.0; w * h];
        let a = multiband(&t, &s, &ones, w, h, 4);
        let b = multiband(&t, &s, &zeros, w, h, 4);
        for i in 0..w * h * 3 {
            assert!((a[i] - s[i]).abs() < 1e-2, "source at {i}");
            assert!((b[i] - t[i]).abs() < 1e-2, "target at {i}");
        }
    }

    /// A face that differs from the frame only by a colour cast comes out as the frame: the
    /// cast is a constant, which Poisson blending removes entirely, while alpha blending keeps
    /// it. Pasted as the swaps paste: the face exists only inside its mask.
    #[test]
    fn poisson_blending_removes_a_colour_cast_that_alpha_blending_keeps() {
        let (w, h) = (64, 48);
        let texture = |x: usize, y: usize, c: usize| {
            100.0 + 40.0 * ((x as f32 * 0.7).sin() * (y as f32 * 0.45 + c as f32).cos())
        };
        let mut frame = reel_image::Image::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let o = (y * w + x) * 3;
                for c in 0..3 {
                    frame.data[o + c] = texture(x, y, c).round() as u8;
                }
            }
        }
        // An ellipse, hard inside and feathered at its rim.
        let mask: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - 32.0, (i / w) as f32 - 24.0);
                let r = (x / 24.0).powi(2) + (y / 17.0).powi(2);
                ((1.0 - r) * 4.0).clamp(0.0, 1.0)
            })
            .collect();
        let face: Vec<[f32; 3]> = (0..w * h)
            .map(|i| {
                let cast = [30.0, -20.0, 12.0];
                [0, 1, 2].map(|c| frame.data[3 * i + c] as f32 + cast[c])
            })
            .collect();
        let largest = |out: &reel_image::Image| {
            out.data
                .iter()
                .zip(&frame.data)
                .map(|(a, b)| (*a as i32 - *b as i32).abs())
                .max()
                .unwrap()
        };
        let mut poisson = frame.clone();
        paste(&mut poisson, (0, 0, w, h), &face, &mask, Blend::Poisson);
        assert!(largest(&poisson) <= 1, "Poisson: {}", largest(&poisson));
        let mut alpha = frame.clone();
        paste(&mut alpha, (0, 0, w, h), &face, &mask, Blend::Alpha);
        assert!(largest(&alpha) >= 29, "alpha: {}", largest(&alpha));
    }
}
