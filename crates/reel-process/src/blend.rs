//! Putting a new face into a frame: alpha blending through a soft mask, or multi-band blending
//! (Burt and Adelson 1983), which joins each band of detail over a width that suits it, so that
//! broad differences of shading fade in gently while fine detail keeps a crisp join.

use reel_image::blur::gaussian;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blend {
    Alpha,
    MultiBand,
}

impl Blend {
    pub fn parse(name: &str) -> Option<Blend> {
        Some(match name {
            "alpha" => Blend::Alpha,
            "multiband" => Blend::MultiBand,
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
        Blend::MultiBand => {
            let mut target = Vec::with_capacity(w * h * 3);
            for i in 0..w * h {
                target.extend(frame.data[at(i)..at(i) + 3].iter().map(|&v| v as f32));
            }
            // Where the face does not reach, the frame itself stands in.
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
            let out = multiband(&target, &source, alpha, w, h, levels);
            // The blend reaches as far as the coarsest band's blur of the mask.
            let mut reach = alpha.to_vec();
            gaussian(&mut reach, w, h, 1, (1 << levels) as f32, &mut Vec::new());
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
}
