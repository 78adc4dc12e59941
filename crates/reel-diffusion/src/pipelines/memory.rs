//! Whether a stage fits in memory, asked before it starts: on the CPU an allocation that fails
//! ends the process, so reel estimates each stage's peak and refuses with what to lower.

use candle_core::Device;

use crate::error::{DiffusionError, Result};

const GIB: f64 = (1u64 << 30) as f64;

/// The memory the system can still give (Linux's MemAvailable), if known.
pub fn available() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Whether `bytes` fit in the memory free (always, off the CPU, where it is not known).
pub fn fits(bytes: usize, device: &Device) -> bool {
    !device.is_cpu() || available().is_none_or(|free| bytes <= free)
}

/// Refuses `stage` on the CPU when its estimated peak (`bytes`) is more than the memory free.
pub fn ensure_fits(stage: &str, bytes: usize, device: &Device) -> Result<()> {
    if !device.is_cpu() {
        return Ok(());
    }
    match available() {
        Some(free) if bytes > free => Err(DiffusionError::Usage(format!(
            "{stage} needs about {:.1} GiB and {:.1} GiB is free: lower --size or --frames, turn \
             guidance off (--guidance 1), use --dtype bf16, or run on a GPU",
            bytes as f64 / GIB,
            free as f64 / GIB
        ))),
        _ => Ok(()),
    }
}

/// The transformer's working memory for a batch of `batch` over `tokens` tokens: the block's
/// activations (measured: 5.6 GiB at 832x480x81, batch 2, width 1536).
pub fn transformer_activations(batch: usize, tokens: usize, dim: usize, ffn_dim: usize) -> usize {
    batch * tokens * (4 * dim + 2 * ffn_dim) * 4
}

/// A compute error, with what to lower when it is the device's memory that ran out.
pub fn explain(error: DiffusionError) -> DiffusionError {
    match &error {
        DiffusionError::Compute(e) if e.to_string().to_lowercase().contains("out of memory") => {
            DiffusionError::Usage(format!(
                "out of memory ({e}): lower --size or --frames, turn guidance off (--guidance 1), use --dtype bf16, or --offload (the transformer block by block) and --vae-tiling"
            ))
        }
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_larger_than_memory_is_refused_with_what_to_lower() {
        let Some(free) = available() else { return };
        assert!(ensure_fits("denoising", free / 2, &Device::Cpu).is_ok());
        let err = ensure_fits("denoising", free * 2, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("denoising needs about") && err.contains("lower --size"),
            "{err}"
        );
        // The estimate that the 480p measurement calibrated: 832x480x81 at the 1.3B width.
        let at_480p = transformer_activations(2, 21 * 30 * 52, 1536, 8960) as f64 / GIB;
        assert!((5.0..7.0).contains(&at_480p), "{at_480p}");
    }
}
