//! Colour transfer: making a replacement face take the colour of the face it replaces, measured
//! over the pixels both cover. Three methods, as compositors choose per shot:
//! - Reinhard: each CIELAB channel's mean and spread matched (Reinhard et al. 2001; DeepFaceLab's
//!   "rct" is this transfer);
//! - linear: the full RGB mean and covariance matched (the colours' correlations too);
//! - histogram: each CIELAB channel's whole distribution matched (quantile mapping).

// Matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use reel_image::color::{lab_to_rgb, rgb_to_lab};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMatch {
    None,
    Reinhard,
    Linear,
    Histogram,
}

impl ColorMatch {
    pub fn parse(name: &str) -> Option<ColorMatch> {
        Some(match name {
            "none" => ColorMatch::None,
            "reinhard" | "rct" => ColorMatch::Reinhard,
            "linear" => ColorMatch::Linear,
            "histogram" => ColorMatch::Histogram,
            _ => return None,
        })
    }
}

/// Recolours `pixels` (RGB, 0..255) in place so that the chosen `sample` of them matches the
/// colour of `reference` (the same places in the target).
pub fn transfer(
    method: ColorMatch,
    pixels: &mut [[f32; 3]],
    sample: &[usize],
    reference: &[[f32; 3]],
) {
    if sample.len() < 32 || sample.len() != reference.len() {
        return;
    }
    match method {
        ColorMatch::None => {}
        ColorMatch::Reinhard => reinhard(pixels, sample, reference),
        ColorMatch::Linear => linear(pixels, sample, reference),
        ColorMatch::Histogram => histogram(pixels, sample, reference),
    }
}

fn mean_std(values: impl Iterator<Item = [f32; 3]>) -> ([f32; 3], [f32; 3]) {
    let (mut n, mut sum, mut sq) = (0.0f64, [0.0f64; 3], [0.0f64; 3]);
    for v in values {
        n += 1.0;
        for k in 0..3 {
            sum[k] += v[k] as f64;
            sq[k] += (v[k] * v[k]) as f64;
        }
    }
    let mean = sum.map(|s| (s / n) as f32);
    let std =
        [0, 1, 2].map(|k| ((sq[k] / n - (sum[k] / n).powi(2)).max(1e-6).sqrt() as f32).max(0.5));
    (mean, std)
}

fn reinhard(pixels: &mut [[f32; 3]], sample: &[usize], reference: &[[f32; 3]]) {
    let (sm, ss) = mean_std(sample.iter().map(|&i| rgb_to_lab(pixels[i])));
    let (tm, ts) = mean_std(reference.iter().map(|&p| rgb_to_lab(p)));
    for p in pixels.iter_mut() {
        let l = rgb_to_lab(*p);
        *p = lab_to_rgb([0, 1, 2].map(|k| (l[k] - sm[k]) * ts[k] / ss[k] + tm[k]));
    }
}

type M3 = [[f64; 3]; 3];

fn covariance(values: &[[f32; 3]]) -> ([f64; 3], M3) {
    let n = values.len() as f64;
    let mut mean = [0.0f64; 3];
    for v in values {
        for k in 0..3 {
            mean[k] += v[k] as f64 / n;
        }
    }
    let mut c = [[0.0f64; 3]; 3];
    for v in values {
        for i in 0..3 {
            for j in 0..3 {
                c[i][j] += (v[i] as f64 - mean[i]) * (v[j] as f64 - mean[j]) / n;
            }
        }
    }
    for (i, row) in c.iter_mut().enumerate() {
        row[i] += 1e-3;
    }
    (mean, c)
}

/// Lower-triangular L with L Lt = c.
fn cholesky(c: &M3) -> M3 {
    let mut l = [[0.0f64; 3]; 3];
    for i in 0..3 {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = if i == j {
                (c[i][i] - s).max(1e-9).sqrt()
            } else {
                (c[i][j] - s) / l[j][j]
            };
        }
    }
    l
}

fn invert_lower(l: &M3) -> M3 {
    let mut inv = [[0.0f64; 3]; 3];
    for i in 0..3 {
        inv[i][i] = 1.0 / l[i][i];
        for j in 0..i {
            let s: f64 = (j..i).map(|k| l[i][k] * inv[k][j]).sum();
            inv[i][j] = -s / l[i][i];
        }
    }
    inv
}

fn mul(a: &M3, b: &M3) -> M3 {
    let mut c = [[0.0f64; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    c
}

fn linear(pixels: &mut [[f32; 3]], sample: &[usize], reference: &[[f32; 3]]) {
    let src: Vec<[f32; 3]> = sample.iter().map(|&i| pixels[i]).collect();
    let (ms, cs) = covariance(&src);
    let (mt, ct) = covariance(reference);
    // Whiten with the source's covariance, colour with the target's.
    let t = mul(&cholesky(&ct), &invert_lower(&cholesky(&cs)));
    for p in pixels.iter_mut() {
        let d = [0, 1, 2].map(|k| p[k] as f64 - ms[k]);
        *p = [0, 1, 2].map(|i| (mt[i] + (0..3).map(|j| t[i][j] * d[j]).sum::<f64>()) as f32);
    }
}

fn histogram(pixels: &mut [[f32; 3]], sample: &[usize], reference: &[[f32; 3]]) {
    let mut src: Vec<[f32; 3]> = sample.iter().map(|&i| rgb_to_lab(pixels[i])).collect();
    let mut tgt: Vec<[f32; 3]> = reference.iter().map(|&p| rgb_to_lab(p)).collect();
    // Sorted values per channel give each channel's quantiles.
    let mut quantiles = [
        (Vec::new(), Vec::new()),
        (Vec::new(), Vec::new()),
        (Vec::new(), Vec::new()),
    ];
    for (k, q) in quantiles.iter_mut().enumerate() {
        let mut s: Vec<f32> = src.iter().map(|v| v[k]).collect();
        let mut t: Vec<f32> = tgt.iter().map(|v| v[k]).collect();
        s.sort_by(f32::total_cmp);
        t.sort_by(f32::total_cmp);
        *q = (s, t);
    }
    src.clear();
    tgt.clear();
    for p in pixels.iter_mut() {
        let l = rgb_to_lab(*p);
        let mapped = [0, 1, 2].map(|k| {
            let (s, t) = (&quantiles[k].0, &quantiles[k].1);
            let rank = s.partition_point(|&v| v < l[k]) as f32 / s.len() as f32;
            t[((rank * t.len() as f32) as usize).min(t.len() - 1)]
        });
        *p = lab_to_rgb(mapped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(seed: u32, shift: [f32; 3], scale: f32) -> Vec<[f32; 3]> {
        let mut s = seed;
        (0..500)
            .map(|_| {
                let mut v = [0.0; 3];
                for (k, x) in v.iter_mut().enumerate() {
                    s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *x = (shift[k] + scale * ((s >> 8) as f32 / (1 << 24) as f32 - 0.5) * 60.0)
                        .clamp(0.0, 255.0);
                }
                v
            })
            .collect()
    }

    #[test]
    fn every_method_moves_the_colour_to_the_reference() {
        let reference = cloud(1, [200.0, 140.0, 120.0], 1.0);
        for method in [
            ColorMatch::Reinhard,
            ColorMatch::Linear,
            ColorMatch::Histogram,
        ] {
            let mut pixels = cloud(2, [120.0, 120.0, 150.0], 0.5);
            let sample: Vec<usize> = (0..pixels.len()).collect();
            let before = mean_std(pixels.iter().copied()).0;
            transfer(method, &mut pixels, &sample, &reference);
            let (after, target) = (
                mean_std(pixels.iter().copied()).0,
                mean_std(reference.iter().copied()).0,
            );
            for k in 0..3 {
                assert!(
                    (after[k] - target[k]).abs() < 0.25 * (before[k] - target[k]).abs() + 2.0,
                    "{method:?} channel {k}: {after:?} vs {target:?}"
                );
            }
        }
    }
}
