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
    // SAFETY: the clamp keeps n within [-126, 127], so the conversion is exact; unlike `as`,
    // it needs no saturation and so vectorises.
    let n = unsafe { n.to_int_unchecked::<i32>() };
    p * f32::from_bits(((n + 127) as u32) << 23)
}

/// The largest value, in eight running maxima so that the comparisons vectorise.
#[inline(always)]
fn row_max(row: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = if v > *lane { v } else { *lane };
        }
    }
    lanes
        .iter()
        .chain(chunks.remainder())
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// Replaces each value v by e^(v − max) and returns their sum, in the same pass; eight
/// running sums, so that the additions vectorise (a single sum is a serial chain).
#[inline(always)]
fn exp_and_sum(row: &mut [f32], max: f32) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = row.chunks_exact_mut(8);
    for chunk in &mut chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *v = exp(*v - max);
            *lane += *v;
        }
    }
    let mut rest = 0f32;
    for v in chunks.into_remainder() {
        *v = exp(*v - max);
        rest += *v;
    }
    lanes.iter().sum::<f32>() + rest
}

#[inline(always)]
fn softmax_generic(row: &mut [f32]) {
    let max = row_max(row);
    let sum = exp_and_sum(row, max);
    let inv = 1.0 / sum;
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// One block of a row's scores in a softmax taken over several blocks: the block becomes its
/// unnormalised weights `exp(s − max)` against the running `max`, which is raised to cover
/// it, and `sum` gathers them. Returns the factor by which what was gathered against the old
/// maximum must be multiplied (1 when it did not move).
#[inline(always)]
fn softmax_block_generic(row: &mut [f32], max: &mut f32, sum: &mut f32) -> f32 {
    let block_max = row_max(row);
    let new_max = if block_max > *max { block_max } else { *max };
    let block_sum = exp_and_sum(row, new_max);
    let factor = if *max == f32::NEG_INFINITY {
        0.0
    } else {
        exp(*max - new_max)
    };
    *sum = *sum * factor + block_sum;
    *max = new_max;
    factor
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
fn softmax_block_avx2(row: &mut [f32], max: &mut f32, sum: &mut f32) -> f32 {
    softmax_block_generic(row, max, sum)
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

/// Turns `row`, one block of a longer row of scores, into its weights against the running
/// maximum and sum (start them at −∞ and 0); returns the factor that rescales what the earlier
/// blocks' weights produced. Dividing by the final sum gives the softmax.
pub fn softmax_block_in_place(row: &mut [f32], max: &mut f32, sum: &mut f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has the features the function was compiled for.
        return unsafe { softmax_block_avx2(row, max, sum) };
    }
    softmax_block_generic(row, max, sum)
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
