//! The Wan2.1 video VAE's decoder (diffusers' `AutoencoderKLWan`): latents back to frames, one
//! latent frame at a time. Its convolutions are causal in time, so decoding streams: each one
//! keeps the last two frames it was given and reads them before the next chunk, exactly as
//! diffusers' feature cache does, and memory stays that of one chunk however long the video.
//! The first latent frame gives one frame, every later one four.
//!
//! Inside, a chunk is (frames, channels, height, width), frames first, so that a 3D
//! convolution is one 2D convolution over the frames with the time taps side by side in the
//! channels.

use std::path::Path;

use candle_core::{D, DType, Device, Tensor};
use serde::Deserialize;

use crate::error::{DiffusionError, Result};
use crate::models::layers::silu;
use crate::ops;
use crate::weights::{Weights, read_config};

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

/// The decoder and its streaming state.
pub struct WanVaeDecoder {
    config: WanVaeConfig,
    post_quant_conv: CausalConv,
    conv_in: CausalConv,
    mid: (Residual, AttentionBlock, Residual),
    up_blocks: Vec<UpBlock>,
    norm_out: ChannelNorm,
    conv_out: CausalConv,
    started: bool,
}

impl WanVaeDecoder {
    /// Loads the decoder of `folder` (a diffusers `vae/` folder).
    pub fn load(folder: &Path, device: &Device, dtype: DType) -> Result<Self> {
        let config: WanVaeConfig = read_config(folder, "AutoencoderKLWan")?;
        if config.is_residual || config.patch_size.is_some_and(|p| p > 1) {
            return Err(DiffusionError::model(
                folder,
                "the Wan2.2 VAE (residual, patched) is not supported yet; this is for the Wan2.1 VAE",
            ));
        }
        let w = Weights::open(folder, "diffusion_pytorch_model", device, dtype)?;
        Self::from_weights(config, &w)
    }

    pub fn from_weights(config: WanVaeConfig, w: &Weights) -> Result<Self> {
        let c = &config;
        if c.latents_mean.len() != c.z_dim || c.latents_std.len() != c.z_dim {
            return Err(DiffusionError::model(
                "config.json",
                "latents_mean/std do not have z_dim values",
            ));
        }
        if c.dim_mult.is_empty() || c.temperal_downsample.len() + 1 != c.dim_mult.len() {
            return Err(DiffusionError::model(
                "config.json",
                "dim_mult and temperal_downsample do not fit",
            ));
        }
        let base = c.decoder_base_dim.unwrap_or(c.base_dim);
        let mult = &c.dim_mult;
        let dims: Vec<usize> = std::iter::once(mult[mult.len() - 1])
            .chain(mult.iter().rev().copied())
            .map(|m| base * m)
            .collect();
        let temporal_up: Vec<bool> = c.temperal_downsample.iter().rev().copied().collect();
        let d = "decoder";
        let mut up_blocks = Vec::new();
        for i in 0..mult.len() {
            let (mut in_dim, out_dim) = (dims[i], dims[i + 1]);
            if i > 0 {
                in_dim /= 2;
            }
            let p = format!("{d}.up_blocks.{i}");
            let resnets = (0..=c.num_res_blocks)
                .map(|j| {
                    Residual::load(
                        w,
                        &format!("{p}.resnets.{j}"),
                        if j == 0 { in_dim } else { out_dim },
                        out_dim,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let upsample = if i + 1 == mult.len() {
                None
            } else {
                Some(Upsample::load(
                    w,
                    &format!("{p}.upsamplers.0"),
                    out_dim,
                    temporal_up[i],
                )?)
            };
            up_blocks.push(UpBlock { resnets, upsample });
        }
        let top = dims[0];
        let last = dims[dims.len() - 1];
        Ok(WanVaeDecoder {
            post_quant_conv: CausalConv::load(w, "post_quant_conv", c.z_dim, c.z_dim, [1, 1, 1])?,
            conv_in: CausalConv::load(w, &format!("{d}.conv_in"), c.z_dim, top, [3, 3, 3])?,
            mid: (
                Residual::load(w, &format!("{d}.mid_block.resnets.0"), top, top)?,
                AttentionBlock::load(w, &format!("{d}.mid_block.attentions.0"), top)?,
                Residual::load(w, &format!("{d}.mid_block.resnets.1"), top, top)?,
            ),
            up_blocks,
            norm_out: ChannelNorm::load(w, &format!("{d}.norm_out"), last)?,
            conv_out: CausalConv::load(
                w,
                &format!("{d}.conv_out"),
                last,
                c.out_channels,
                [3, 3, 3],
            )?,
            started: false,
            config,
        })
    }

    pub fn config(&self) -> &WanVaeConfig {
        &self.config
    }

    /// Forgets the frames seen, to decode another video.
    pub fn reset(&mut self) {
        self.started = false;
        for conv in self.convs_mut() {
            conv.cache = None;
        }
        for block in &mut self.up_blocks {
            if let Some(up) = &mut block.upsample {
                up.time = TimeState::First;
            }
        }
    }

    fn convs_mut(&mut self) -> Vec<&mut CausalConv> {
        let mut convs = vec![&mut self.conv_in, &mut self.conv_out];
        convs.extend([
            &mut self.mid.0.conv1,
            &mut self.mid.0.conv2,
            &mut self.mid.2.conv1,
            &mut self.mid.2.conv2,
        ]);
        for block in &mut self.up_blocks {
            for r in &mut block.resnets {
                convs.extend([&mut r.conv1, &mut r.conv2]);
            }
            if let Some(Upsample {
                time_conv: Some(t), ..
            }) = &mut block.upsample
            {
                convs.push(t);
            }
        }
        convs
    }

    /// Caps the memory each convolution unfolds its input into (by default 256 MiB): above it,
    /// a chunk goes a frame and a time tap at a time. Lower saves memory, higher is faster.
    pub fn set_unfold_budget(&mut self, bytes: usize) {
        for conv in self.convs_mut() {
            conv.unfold_budget = bytes;
        }
        for block in &mut self.up_blocks {
            if let Some(up) = &mut block.upsample {
                up.unfold_budget = bytes;
            }
        }
    }

    /// Normalised latents (the transformer's space) to the VAE's: `z·std + mean`.
    pub fn denormalise(&self, latents: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        let device = latents.device();
        let shape = (1, c.z_dim, 1, 1, 1);
        let mean = Tensor::from_slice(&c.latents_mean, c.z_dim, device)?.reshape(shape)?;
        let std = Tensor::from_slice(&c.latents_std, c.z_dim, device)?.reshape(shape)?;
        Ok(latents
            .to_dtype(DType::F32)?
            .broadcast_mul(&std)?
            .broadcast_add(&mean)?)
    }

    /// Decodes the next latent frame (channels, height, width) of the video, already
    /// denormalised: returns its frames (frames, 3, 8·height, 8·width) in [-1, 1].
    pub fn decode_frame(&mut self, latent: &Tensor) -> Result<Tensor> {
        let dtype = self.conv_in.weight.dtype();
        let x = latent.to_dtype(dtype)?.unsqueeze(0)?;
        let x = self.post_quant_conv.forward(&x)?;
        let mut x = self.conv_in.forward(&x)?;
        x = self.mid.0.forward(&x)?;
        x = self.mid.1.forward(&x)?;
        x = self.mid.2.forward(&x)?;
        for block in &mut self.up_blocks {
            for r in &mut block.resnets {
                x = r.forward(&x)?;
            }
            if let Some(up) = &mut block.upsample {
                x = up.forward(&x)?;
            }
        }
        let x = silu(&self.norm_out.forward(&x)?)?;
        let x = self.conv_out.forward(&x)?;
        self.started = true;
        let x = x.to_dtype(DType::F32)?;
        Ok(if self.config.clip_output {
            x.clamp(-1f32, 1f32)?
        } else {
            x
        })
    }

    /// Decodes a whole latent video (1, channels, frames, height, width), normalised as the
    /// transformer makes it: (1, 3, 4·(frames − 1) + 1, 8·height, 8·width) in [-1, 1].
    pub fn decode(&mut self, latents: &Tensor) -> Result<Tensor> {
        self.reset();
        let z = self.denormalise(latents)?.squeeze(0)?;
        let frames = z.dim(1)?;
        let mut out = Vec::with_capacity(frames);
        for i in 0..frames {
            out.push(self.decode_frame(&z.narrow(1, i, 1)?.squeeze(1)?)?);
        }
        self.reset();
        Ok(Tensor::cat(&out, 0)?.permute((1, 0, 2, 3))?.unsqueeze(0)?)
    }
}

/// A convolution causal in time: the output at a frame reads it and the `kt − 1` frames
/// before; before the first frame, zeros. Spatially it pads to keep the size.
struct CausalConv {
    /// (out, kt·in, kh, kw): the time taps side by side, oldest first.
    weight: Tensor,
    /// The same, one (out, in, kh, kw) a tap, for chunks too large to unfold at once.
    taps: Vec<Tensor>,
    /// The most this convolution unfolds at once, in bytes.
    unfold_budget: usize,
    bias: Tensor,
    kt: usize,
    pad: usize,
    /// The last `kt − 1` input frames (fewer at the start).
    cache: Option<Tensor>,
}

impl CausalConv {
    fn load(w: &Weights, prefix: &str, input: usize, output: usize, k: [usize; 3]) -> Result<Self> {
        let weight = w.get(
            &format!("{prefix}.weight"),
            &[output, input, k[0], k[1], k[2]],
        )?;
        let taps = (0..k[0])
            .map(|dt| weight.narrow(2, dt, 1)?.squeeze(2)?.contiguous())
            .collect::<candle_core::Result<Vec<_>>>()?;
        let weight = weight
            .permute((0, 2, 1, 3, 4))?
            .reshape((output, k[0] * input, k[1], k[2]))?
            .contiguous()?;
        Ok(CausalConv {
            weight,
            taps,
            unfold_budget: UNFOLD_BUDGET,
            bias: w.get(&format!("{prefix}.bias"), &[output])?,
            kt: k[0],
            pad: k[1] / 2,
            cache: None,
        })
    }

    /// `x` is the next chunk (frames, in, h, w) of the conv's input stream.
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let (frames, channels, h, w) = x.dims4()?;
        let stream = if self.kt == 1 {
            x.clone()
        } else {
            let context = self.kt - 1;
            let cached = self.cache.as_ref().map_or(0, |c| c.dim(0).unwrap_or(0));
            let mut parts = Vec::with_capacity(3);
            if cached < context {
                parts.push(Tensor::zeros(
                    (context - cached, channels, h, w),
                    x.dtype(),
                    x.device(),
                )?);
            }
            let seen = match &self.cache {
                Some(cache) => Tensor::cat(&[cache, x], 0)?,
                None => x.clone(),
            };
            parts.push(seen.clone());
            let keep = seen.dim(0)?.min(context);
            self.cache = Some(seen.narrow(0, seen.dim(0)? - keep, keep)?);
            Tensor::cat(&parts, 0)?
        };
        let bias = self.bias.reshape((1, (), 1, 1))?;
        // The product unfolds its input (in·kt·kh·kw values a pixel): small chunks go at once,
        // with the time taps side by side; large ones (full-size frames) a frame and a tap at a
        // time, which bounds the unfolded copy to one frame's.
        let (kh, kw) = (self.weight.dim(2)?, self.weight.dim(3)?);
        let unfolded = frames * h * w * channels * self.kt * kh * kw * x.dtype().size_in_bytes();
        if unfolded <= self.unfold_budget {
            let input = if self.kt == 1 {
                stream
            } else {
                let taps: Vec<Tensor> = (0..self.kt)
                    .map(|dt| stream.narrow(0, dt, frames))
                    .collect::<candle_core::Result<_>>()?;
                Tensor::cat(&taps, 1)?
            };
            return Ok(input
                .conv2d(&self.weight, self.pad, 1, 1, 1)?
                .broadcast_add(&bias)?);
        }
        let mut out = Vec::with_capacity(frames);
        for f in 0..frames {
            let mut y = stream
                .narrow(0, f, 1)?
                .conv2d(&self.taps[0], self.pad, 1, 1, 1)?;
            for dt in 1..self.kt {
                y = (y + stream.narrow(0, f + dt, 1)?.conv2d(
                    &self.taps[dt],
                    self.pad,
                    1,
                    1,
                    1,
                )?)?;
            }
            out.push(y.broadcast_add(&bias)?);
        }
        Ok(Tensor::cat(&out, 0)?)
    }
}

/// The most a convolution unfolds at once by default, in bytes.
const UNFOLD_BUDGET: usize = 256 << 20;

/// diffusers' `WanRMS_norm`: each pixel's channel vector scaled to unit length, times
/// √channels and a learnt gain.
struct ChannelNorm {
    gamma: Tensor,
    scale: f64,
}

impl ChannelNorm {
    fn load(w: &Weights, prefix: &str, dim: usize) -> Result<Self> {
        let name = format!("{prefix}.gamma");
        // Stored (dim, 1, 1, 1) in the video norms and (dim, 1, 1) in the attention's.
        let gamma = w
            .get(&name, &[dim, 1, 1, 1])
            .or_else(|_| w.get(&name, &[dim, 1, 1]))?
            .reshape((1, dim, 1, 1))?;
        Ok(ChannelNorm {
            gamma,
            scale: (dim as f64).sqrt(),
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dtype = x.dtype();
        let x32 = x.to_dtype(DType::F32)?;
        let norm = x32.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        let y = (x32.broadcast_div(&norm)? * self.scale)?.to_dtype(dtype)?;
        Ok(y.broadcast_mul(&self.gamma)?)
    }
}

struct Residual {
    norm1: ChannelNorm,
    conv1: CausalConv,
    norm2: ChannelNorm,
    conv2: CausalConv,
    shortcut: Option<CausalConv>,
}

impl Residual {
    fn load(w: &Weights, prefix: &str, input: usize, output: usize) -> Result<Self> {
        Ok(Residual {
            norm1: ChannelNorm::load(w, &format!("{prefix}.norm1"), input)?,
            conv1: CausalConv::load(w, &format!("{prefix}.conv1"), input, output, [3, 3, 3])?,
            norm2: ChannelNorm::load(w, &format!("{prefix}.norm2"), output)?,
            conv2: CausalConv::load(w, &format!("{prefix}.conv2"), output, output, [3, 3, 3])?,
            shortcut: if input != output {
                Some(CausalConv::load(
                    w,
                    &format!("{prefix}.conv_shortcut"),
                    input,
                    output,
                    [1, 1, 1],
                )?)
            } else {
                None
            },
        })
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let h = match &mut self.shortcut {
            Some(s) => s.forward(x)?,
            None => x.clone(),
        };
        let y = self.conv1.forward(&silu(&self.norm1.forward(x)?)?)?;
        let y = self.conv2.forward(&silu(&self.norm2.forward(&y)?)?)?;
        Ok((y + h)?)
    }
}

/// Single-head self-attention over each frame's pixels.
struct AttentionBlock {
    norm: ChannelNorm,
    to_qkv: (Tensor, Tensor),
    proj: (Tensor, Tensor),
}

impl AttentionBlock {
    fn load(w: &Weights, prefix: &str, dim: usize) -> Result<Self> {
        let conv = |name: &str, out: usize| -> Result<(Tensor, Tensor)> {
            Ok((
                w.get(&format!("{prefix}.{name}.weight"), &[out, dim, 1, 1])?,
                w.get(&format!("{prefix}.{name}.bias"), &[out])?
                    .reshape((1, out, 1, 1))?,
            ))
        };
        Ok(AttentionBlock {
            norm: ChannelNorm::load(w, &format!("{prefix}.norm"), dim)?,
            to_qkv: conv("to_qkv", 3 * dim)?,
            proj: conv("proj", dim)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (t, c, h, w) = x.dims4()?;
        let n = self.norm.forward(x)?;
        let qkv = n
            .conv2d(&self.to_qkv.0, 0, 1, 1, 1)?
            .broadcast_add(&self.to_qkv.1)?;
        // (t, 3c, h·w) → (t, h·w, 3c): one token a pixel.
        let qkv = qkv
            .reshape((t, 3 * c, h * w))?
            .transpose(1, 2)?
            .contiguous()?;
        let part = |i: usize| qkv.narrow(D::Minus1, i * c, c);
        let out = ops::attention(&part(0)?, &part(1)?, &part(2)?, 1)?;
        let out = out.transpose(1, 2)?.reshape((t, c, h, w))?;
        let out = out
            .conv2d(&self.proj.0, 0, 1, 1, 1)?
            .broadcast_add(&self.proj.1)?;
        Ok((out + x)?)
    }
}

struct UpBlock {
    resnets: Vec<Residual>,
    upsample: Option<Upsample>,
}

/// Where the temporal upsampler is: it passes the first frame through alone, then doubles.
enum TimeState {
    First,
    Doubling,
}

/// Twice the size in space (nearest, then a 3×3 convolution to half the channels) and, for
/// the temporal ones, twice the frames (a causal time convolution to two frames each).
struct Upsample {
    conv: (Tensor, Tensor),
    time_conv: Option<CausalConv>,
    time: TimeState,
    unfold_budget: usize,
}

impl Upsample {
    fn load(w: &Weights, prefix: &str, dim: usize, temporal: bool) -> Result<Self> {
        let out = dim / 2;
        Ok(Upsample {
            conv: (
                w.get(&format!("{prefix}.resample.1.weight"), &[out, dim, 3, 3])?,
                w.get(&format!("{prefix}.resample.1.bias"), &[out])?
                    .reshape((1, out, 1, 1))?,
            ),
            time_conv: if temporal {
                Some(CausalConv::load(
                    w,
                    &format!("{prefix}.time_conv"),
                    dim,
                    2 * dim,
                    [3, 1, 1],
                )?)
            } else {
                None
            },
            time: TimeState::First,
            unfold_budget: UNFOLD_BUDGET,
        })
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        if let Some(time_conv) = &mut self.time_conv {
            match self.time {
                // The first frame alone: no time convolution, and it starts no cache.
                TimeState::First => self.time = TimeState::Doubling,
                TimeState::Doubling => {
                    let (t, c, h, w) = x.dims4()?;
                    let y = time_conv.forward(&x)?;
                    // (t, 2c, h, w) → (2t, c, h, w): each frame's two halves, in order.
                    x = y.reshape((t, 2, c, h, w))?.reshape((2 * t, c, h, w))?;
                }
            }
        }
        // Frame by frame when the doubled frames would unfold into more than the budget.
        let (frames, c, h, w) = x.dims4()?;
        let unfolded = frames * 4 * h * w * c * 9 * x.dtype().size_in_bytes();
        let step = if unfolded <= self.unfold_budget {
            frames
        } else {
            1
        };
        let mut out = Vec::with_capacity(frames.div_ceil(step));
        for start in (0..frames).step_by(step) {
            let part = x.narrow(0, start, step.min(frames - start))?;
            let up = part.upsample_nearest2d(2 * h, 2 * w)?;
            out.push(
                up.conv2d(&self.conv.0, 1, 1, 1, 1)?
                    .broadcast_add(&self.conv.1)?,
            );
        }
        Ok(if out.len() == 1 {
            out.remove(0)
        } else {
            Tensor::cat(&out, 0)?
        })
    }
}
