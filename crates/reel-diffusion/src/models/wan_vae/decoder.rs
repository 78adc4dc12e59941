//! The decoder: latents back to frames, one latent frame at a time (the first gives one frame,
//! every later one four).

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::WanVaeConfig;
use super::blocks::{
    AttentionBlock, CausalConv, ChannelNorm, Residual, UNFOLD_BUDGET, by_frames, conv2d_parameters,
    dup_up, unpatchify,
};
use crate::error::Result;
use crate::models::layers::silu;
use crate::weights::Weights;

/// The decoder and its streaming state.
#[derive(Clone)]
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
        let config = WanVaeConfig::read(folder)?;
        let w = Weights::open(folder, "diffusion_pytorch_model", device, dtype)?;
        Self::from_weights(config, &w)
    }

    pub fn from_weights(config: WanVaeConfig, w: &Weights) -> Result<Self> {
        let c = &config;
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
            // Wan2.1's upsamplers halve the channels; Wan2.2's keep them.
            if i > 0 && !c.is_residual {
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
            let last = i + 1 == mult.len();
            let temporal = !last && temporal_up[i];
            let upsample = if last {
                None
            } else if c.is_residual {
                Some(Upsample::load(
                    w,
                    &format!("{p}.upsampler"),
                    out_dim,
                    out_dim,
                    temporal,
                )?)
            } else {
                Some(Upsample::load(
                    w,
                    &format!("{p}.upsamplers.0"),
                    out_dim,
                    out_dim / 2,
                    temporal,
                )?)
            };
            let shortcut =
                (c.is_residual && !last).then_some((out_dim, if temporal { 2 } else { 1 }));
            up_blocks.push(UpBlock {
                resnets,
                upsample,
                shortcut,
            });
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
        self.config.denormalise(latents)
    }

    /// Decodes the next latent frame (channels, height, width) of the video, already
    /// denormalised: returns its frames (frames, 3, f·height, f·width) in [-1, 1], f the
    /// spatial factor (8, or 16 for Wan2.2).
    pub fn decode_frame(&mut self, latent: &Tensor) -> Result<Tensor> {
        let raw = self.decode_raw(latent)?;
        self.finish(&raw)
    }

    /// The decoder's own output for the next latent frame: in f32, still in pixel patches
    /// (Wan2.2) and not yet clipped, as tiles are blended.
    pub(super) fn decode_raw(&mut self, latent: &Tensor) -> Result<Tensor> {
        let dtype = self.conv_in.weight.dtype();
        let x = latent.to_dtype(dtype)?.unsqueeze(0)?;
        let x = self.post_quant_conv.forward(&x)?;
        let mut x = self.conv_in.forward(&x)?;
        x = self.mid.0.forward(&x)?;
        x = self.mid.1.forward(&x)?;
        x = self.mid.2.forward(&x)?;
        let first_chunk = !self.started;
        for block in &mut self.up_blocks {
            let input = x.clone();
            for r in &mut block.resnets {
                x = r.forward(&x)?;
            }
            if let Some(up) = &mut block.upsample {
                x = up.forward(&x)?;
            }
            if let Some((out, ft)) = block.shortcut {
                x = (x + dup_up(&input, out, ft, 2, first_chunk)?)?;
            }
        }
        let x = silu(&self.norm_out.forward(&x)?)?;
        let x = self.conv_out.forward(&x)?;
        self.started = true;
        Ok(x.to_dtype(DType::F32)?)
    }

    /// Raw output to frames: the patches unfolded, the values clipped to [-1, 1].
    pub(super) fn finish(&self, raw: &Tensor) -> Result<Tensor> {
        let x = unpatchify(raw, self.config.patch())?;
        Ok(if self.config.clip_output {
            x.clamp(-1f32, 1f32)?
        } else {
            x
        })
    }

    /// Decodes a whole latent video (1, channels, frames, height, width), normalised as the
    /// transformer makes it: (1, 3, 4·(frames − 1) + 1, f·height, f·width) in [-1, 1].
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

#[derive(Clone)]
struct UpBlock {
    resnets: Vec<Residual>,
    upsample: Option<Upsample>,
    /// Wan2.2: the parameter-free shortcut around the block (output channels, time factor).
    shortcut: Option<(usize, usize)>,
}

/// Where the temporal upsampler is: it passes the first frame through alone, then doubles.
#[derive(Clone)]
enum TimeState {
    First,
    Doubling,
}

/// Twice the size in space (nearest, then a 3×3 convolution, to half the channels in Wan2.1) and, for
/// the temporal ones, twice the frames (a causal time convolution to two frames each).
#[derive(Clone)]
struct Upsample {
    conv: (Tensor, Tensor),
    time_conv: Option<CausalConv>,
    time: TimeState,
    unfold_budget: usize,
}

impl Upsample {
    fn load(w: &Weights, prefix: &str, dim: usize, out: usize, temporal: bool) -> Result<Self> {
        Ok(Upsample {
            conv: conv2d_parameters(w, &format!("{prefix}.resample.1"), dim, out, 3)?,
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
        by_frames(&x, unfolded, self.unfold_budget, |part| {
            part.upsample_nearest2d(2 * h, 2 * w)?
                .conv2d(&self.conv.0, 1, 1, 1, 1)?
                .broadcast_add(&self.conv.1)
        })
    }
}
