//! The Wan video VAEs (diffusers' `AutoencoderKLWan`): frames to latents and back, streaming.
//! Wan2.1's compresses 4×8×8 into 16 channels; Wan2.2's (TI2V-5B) 4×16×16 into 48, with 2×2
//! pixel patches folded into the channels first and a parameter-free shortcut around every
//! resolution's blocks (`is_residual`).
//! Its convolutions are causal in time, so both directions go a chunk at a time: each
//! convolution keeps the last two frames it was given and reads them before the next chunk,
//! exactly as diffusers' feature cache does, and memory stays that of one chunk however long
//! the video. The first frame is a chunk alone, then every four frames are one latent frame.
//!
//! Inside, a chunk is (frames, channels, height, width), frames first, so that a 3D
//! convolution is one 2D convolution over the frames with the time taps side by side in the
//! channels.

mod blocks;
mod decoder;
mod encoder;
mod tiled;

use std::path::Path;

use candle_core::{DType, Tensor};
use serde::Deserialize;

pub use decoder::WanVaeDecoder;
pub use encoder::WanVaeEncoder;
pub use tiled::{Decoded, TiledDecoder, Tiling};

use crate::error::{DiffusionError, Result};
use crate::weights::read_config;

/// `vae/config.json`, with diffusers' defaults (the Wan2.1 VAE).
#[derive(Debug, Clone, Deserialize)]
pub struct WanVaeConfig {
    #[serde(default = "default_base_dim")]
    pub base_dim: usize,
    #[serde(default)]
    pub decoder_base_dim: Option<usize>,
    #[serde(default = "default_z_dim")]
    pub z_dim: usize,
    #[serde(default = "default_mult")]
    pub dim_mult: Vec<usize>,
    #[serde(default = "default_res_blocks")]
    pub num_res_blocks: usize,
    #[serde(default = "default_temporal")]
    pub temperal_downsample: Vec<bool>,
    #[serde(default)]
    pub is_residual: bool,
    #[serde(default = "default_out")]
    pub in_channels: usize,
    #[serde(default = "default_out")]
    pub out_channels: usize,
    #[serde(default)]
    pub patch_size: Option<usize>,
    pub latents_mean: Vec<f32>,
    pub latents_std: Vec<f32>,
    #[serde(default = "default_true")]
    pub clip_output: bool,
}

fn default_base_dim() -> usize {
    96
}
fn default_z_dim() -> usize {
    16
}
fn default_mult() -> Vec<usize> {
    vec![1, 2, 4, 4]
}
fn default_res_blocks() -> usize {
    2
}
fn default_temporal() -> Vec<bool> {
    vec![false, true, true]
}
fn default_out() -> usize {
    3
}
fn default_true() -> bool {
    true
}

impl WanVaeConfig {
    /// Reads `folder/config.json`.
    pub fn read(folder: &Path) -> Result<Self> {
        let config: WanVaeConfig = read_config(folder, "AutoencoderKLWan")?;
        let p2 = config.patch() * config.patch();
        if config.in_channels != 3 * p2 || config.out_channels != 3 * p2 {
            return Err(DiffusionError::model(
                folder.join("config.json"),
                format!(
                    "in_channels {} and out_channels {}: RGB in patches of {p}x{p} is {}",
                    config.in_channels,
                    config.out_channels,
                    3 * p2,
                    p = config.patch()
                ),
            ));
        }
        if config.latents_mean.len() != config.z_dim || config.latents_std.len() != config.z_dim {
            return Err(DiffusionError::model(
                folder.join("config.json"),
                "latents_mean/std do not have z_dim values",
            ));
        }
        if config.dim_mult.is_empty()
            || config.temperal_downsample.len() + 1 != config.dim_mult.len()
        {
            return Err(DiffusionError::model(
                folder.join("config.json"),
                "dim_mult and temperal_downsample do not fit",
            ));
        }
        Ok(config)
    }

    /// The pixel patch folded into the channels (1 for Wan2.1, 2 for Wan2.2).
    pub fn patch(&self) -> usize {
        self.patch_size.unwrap_or(1).max(1)
    }

    /// How many pixels across one latent is.
    pub fn spatial_factor(&self) -> usize {
        (1 << (self.dim_mult.len() - 1)) * self.patch()
    }

    /// How many frames one latent frame after the first is.
    pub fn temporal_factor(&self) -> usize {
        1 << self.temperal_downsample.iter().filter(|&&t| t).count()
    }

    fn statistics(&self, latents: &Tensor) -> Result<(Tensor, Tensor)> {
        let device = latents.device();
        let shape = (1, self.z_dim, 1, 1, 1);
        let mean = Tensor::from_slice(&self.latents_mean, self.z_dim, device)?.reshape(shape)?;
        let std = Tensor::from_slice(&self.latents_std, self.z_dim, device)?.reshape(shape)?;
        Ok((mean, std))
    }

    /// Normalised latents (the transformer's space) to the VAE's: `z·std + mean`.
    pub fn denormalise(&self, latents: &Tensor) -> Result<Tensor> {
        let (mean, std) = self.statistics(latents)?;
        Ok(latents
            .to_dtype(DType::F32)?
            .broadcast_mul(&std)?
            .broadcast_add(&mean)?)
    }

    /// The VAE's latents to the transformer's space: `(z − mean) / std`.
    pub fn normalise(&self, latents: &Tensor) -> Result<Tensor> {
        let (mean, std) = self.statistics(latents)?;
        Ok(latents
            .to_dtype(DType::F32)?
            .broadcast_sub(&mean)?
            .broadcast_div(&std)?)
    }
}
