//! Matching a pasted face's grain to its plate's. A face drawn at a model's resolution and scaled
//! up to the plate's is smoother than the plate around it: the sensor noise and film grain are
//! gone, and it reads as pasted on. The plate's grain is measured where the face goes (from the
//! fine-scale residual's median, which the face's own edges barely move), the drawn face's
//! likewise, and fresh Gaussian grain makes up the difference, new in every frame as real grain
//! is.

/// The fine-scale residual (a pixel less the mean of its 3x3 neighbourhood) of white noise of
/// standard deviation s has standard deviation s * sqrt(8/9).
const RESIDUAL_OF_NOISE: f32 = 0.942_809;
/// Median absolute deviation to standard deviation, for a normal distribution.
const MAD_TO_SD: f32 = 1.482_6;

/// The grain of an RGB region (`w` x `h`, levels 0..255) where `weight` is above one half: the
/// noise standard deviation of each channel, in levels. `scratch` holds one channel's residuals
/// at a time, kept by the caller from frame to frame.
pub fn level(
    pixels: &[[f32; 3]],
    w: usize,
    h: usize,
    weight: &[f32],
    scratch: &mut Vec<f32>,
) -> [f32; 3] {
    let mut out = [0.0; 3];
    for (c, sd) in out.iter_mut().enumerate() {
        scratch.clear();
        for y in 1..h.saturating_sub(1) {
            for x in 1..w.saturating_sub(1) {
                let i = y * w + x;
                if weight[i] <= 0.5 {
                    continue;
                }
                let mut sum = 0.0;
                for dy in 0..3 {
                    for dx in 0..3 {
                        sum += pixels[(y + dy - 1) * w + x + dx - 1][c];
                    }
                }
                scratch.push((pixels[i][c] - sum / 9.0).abs());
            }
        }
        if scratch.is_empty() {
            continue;
        }
        let mid = scratch.len() / 2;
        let median = *scratch.select_nth_unstable_by(mid, f32::total_cmp).1;
        *sd = median * MAD_TO_SD / RESIDUAL_OF_NOISE;
    }
    out
}

/// Adds Gaussian grain of standard deviation `sd` (levels, per channel) to `pixels` where
/// `weight` is above zero (the paste's own feathering fades it at the edge). `seed` picks the
/// grain.
pub fn add(pixels: &mut [[f32; 3]], weight: &[f32], sd: [f32; 3], seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32
    };
    for (p, &w) in pixels.iter_mut().zip(weight) {
        if w <= 0.0 {
            continue;
        }
        for (v, &s) in p.iter_mut().zip(&sd) {
            // Box-Muller.
            let (u1, u2) = (uniform().max(1e-7), uniform());
            let normal = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
            *v += normal * s;
        }
    }
}

/// The grain to add to a drawn face of grain `drawn` so that it matches a plate of grain
/// `plate`, times `amount` (0..1).
pub fn missing(plate: [f32; 3], drawn: [f32; 3], amount: f32) -> [f32; 3] {
    let mut out = [0.0; 3];
    for c in 0..3 {
        out[c] = amount * (plate[c] * plate[c] - drawn[c] * drawn[c]).max(0.0).sqrt();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth gradient with a hard edge: no grain of its own.
    fn smooth(w: usize, h: usize) -> Vec<[f32; 3]> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let v = 60.0 + x as f32 * 0.5 + if y > h / 2 { 80.0 } else { 0.0 };
                [v, v * 0.8, v * 0.6]
            })
            .collect()
    }

    #[test]
    fn measured_grain_is_the_grain_added_and_the_edges_do_not_count() {
        let (w, h) = (120, 100);
        let everywhere = vec![1.0; w * h];
        assert!(
            level(&smooth(w, h), w, h, &everywhere, &mut Vec::new())
                .iter()
                .all(|&l| l < 0.1)
        );
        for sd in [2.0f32, 6.0] {
            let mut p = smooth(w, h);
            add(&mut p, &everywhere, [sd, sd * 0.5, sd], 3);
            let l = level(&p, w, h, &everywhere, &mut Vec::new());
            for (got, want) in l.iter().zip([sd, sd * 0.5, sd]) {
                assert!(
                    (got / want - 1.0).abs() < 0.08,
                    "added {want}, measured {got}"
                );
            }
        }
    }

    #[test]
    fn grain_makes_up_only_what_is_missing_and_only_where_the_face_goes() {
        assert_eq!(
            missing([5.0, 3.0, 0.0], [3.0, 4.0, 0.0], 1.0),
            [4.0, 0.0, 0.0]
        );
        assert_eq!(
            missing([5.0, 3.0, 0.0], [3.0, 4.0, 0.0], 0.5),
            [2.0, 0.0, 0.0]
        );
        let (w, h) = (40, 40);
        let mut p = smooth(w, h);
        let before = p.clone();
        let mut weight = vec![0.0; w * h];
        weight[..w * h / 2].fill(1.0);
        add(&mut p, &weight, [4.0; 3], 9);
        assert_eq!(p[w * h / 2..], before[w * h / 2..]);
        assert_ne!(p[..w * h / 2], before[..w * h / 2]);
    }
}
