//! Element-wise math in passes the compiler vectorises: an exp accurate to a few ulp (Cephes'
//! polynomial after range reduction), softmax rows, the tanh GELU. Each is compiled twice, for
//! AVX2 with FMA and for the baseline, and picks at run time.

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in two, so that n·ln2 is subtracted exactly.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x, within a few ulp of the correctly rounded value for x in [-87, 88] (saturating outside).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_2e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let p = p * r * r + r + 1.0;
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[inline(always)]
fn softmax_generic(row: &mut [f32]) {
    let mut max = f32::NEG_INFINITY;
    for &v in row.iter() {
        max = if v > max { v } else { max };
    }
    for v in row.iter_mut() {
        *v = exp(*v - max);
    }
    // Eight running sums, so that the additions vectorise (a single sum is a serial chain).
    let mut lanes = [0f32; 8];
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    let sum = lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>();
    let inv = 1.0 / sum;
    for v in row.iter_mut() {
        *v *= inv;
    }
}

#[inline(always)]
fn gelu_tanh_generic(xs: &mut [f32]) {
    const K: f32 = 0.797_884_6; // sqrt(2/pi)
    for v in xs.iter_mut() {
        let x = *v;
        let u = K * (x + 0.044_715 * x * x * x);
        // tanh(u) = 1 − 2/(e^{2u} + 1), which saturates cleanly at both ends.
        let t = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
        *v = 0.5 * x * (1.0 + t);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softmax_avx2(row: &mut [f32]) {
    softmax_generic(row)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gelu_tanh_avx2(xs: &mut [f32]) {
    gelu_tanh_generic(xs)
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Replaces `row` by its softmax.
pub fn softmax_in_place(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has the features the function was compiled for.
        return unsafe { softmax_avx2(row) };
    }
    softmax_generic(row)
}

/// Replaces each value by its GELU (tanh approximation, as `gelu-approximate` in diffusers).
pub fn gelu_tanh_in_place(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has the features the function was compiled for.
        return unsafe { gelu_tanh_avx2(xs) };
    }
    gelu_tanh_generic(xs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_a_few_ulp() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let ours = exp(x) as f64;
            let exact = (x as f64).exp();
            worst = worst.max(((ours - exact) / exact).abs());
            x += 0.0137;
        }
        assert!(
            worst < 4.0 * f32::EPSILON as f64,
            "worst relative error {worst:e}"
        );
    }

    #[test]
    fn softmax_and_gelu_match_their_definitions() {
        let mut row: Vec<f32> = (0..100)
            .map(|i| ((i * 37) % 23) as f32 * 0.7 - 8.0)
            .collect();
        let max = row.iter().cloned().fold(f32::MIN, f32::max) as f64;
        let total: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
        let expected: Vec<f64> = row
            .iter()
            .map(|&v| (v as f64 - max).exp() / total)
            .collect();
        softmax_in_place(&mut row);
        for (a, b) in row.iter().zip(&expected) {
            assert!((*a as f64 - b).abs() < 1e-7, "{a} against {b}");
        }
        let mut xs: Vec<f32> = (0..400).map(|i| i as f32 * 0.05 - 10.0).collect();
        let expected: Vec<f64> = xs
            .iter()
            .map(|&x| {
                let x = x as f64;
                0.5 * x
                    * (1.0
                        + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
            })
            .collect();
        gelu_tanh_in_place(&mut xs);
        for (a, b) in xs.iter().zip(&expected) {
            assert!(
                (*a as f64 - b).abs() < 2e-6 * (1.0 + b.abs()),
                "{a} against {b}"
            );
        }
    }
}
