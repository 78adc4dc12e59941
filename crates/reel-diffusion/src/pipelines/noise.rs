//! Initial noise: drawn from a seed by reel's own generator (the same numbers on every machine
//! and device), or read from a safetensors file, as diffusers' `latents=` argument takes it, so
//! that a run can be reproduced exactly against diffusers.

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::error::{DiffusionError, Result};

/// Standard normal noise of `shape` from `seed` (splitmix64 and the Box–Muller transform).
pub fn seeded(shape: &[usize], seed: u64, device: &Device) -> Result<Tensor> {
    let count: usize = shape.iter().product();
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut values = Vec::with_capacity(count + 1);
    while values.len() < count {
        // Two uniforms in (0, 1], then two independent normals.
        let u1 = ((next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (next() >> 11) as f64 / (1u64 << 53) as f64;
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        values.push((radius * angle.cos()) as f32);
        values.push((radius * angle.sin()) as f32);
    }
    values.truncate(count);
    Ok(Tensor::from_vec(values, shape, device)?)
}

/// The tensor named `latents` in the safetensors file `path`, which must have `shape`.
pub fn from_file(path: &Path, shape: &[usize], device: &Device) -> Result<Tensor> {
    let tensors = candle_core::safetensors::load(path, device).map_err(|e| {
        DiffusionError::Usage(format!("{}: not a safetensors file ({e})", path.display()))
    })?;
    let latents = tensors.get("latents").ok_or_else(|| {
        DiffusionError::Usage(format!("{}: no tensor named latents", path.display()))
    })?;
    if latents.dims() != shape {
        return Err(DiffusionError::Usage(format!(
            "{}: latents of shape {:?}; this size and frame count need {shape:?}",
            path.display(),
            latents.dims()
        )));
    }
    Ok(latents.to_dtype(DType::F32)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_noise_is_standard_normal_and_repeatable() {
        let a: Vec<f32> = seeded(&[4, 1000], 7, &Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b: Vec<f32> = seeded(&[4, 1000], 7, &Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let c: Vec<f32> = seeded(&[4, 1000], 8, &Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let n = a.len() as f64;
        let mean = a.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = a.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(
            mean.abs() < 0.05 && (var - 1.0).abs() < 0.07,
            "mean {mean}, variance {var}"
        );
    }
}
