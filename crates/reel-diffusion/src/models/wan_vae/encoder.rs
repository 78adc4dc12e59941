//! The encoder: frames to latents, the first frame alone and then four frames at a time, each
//! chunk one latent frame. Image to video encodes its conditioning video with it.

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::WanVaeConfig;
use super::blocks::{AttentionBlock, CausalConv, ChannelNorm, Residual, UNFOLD_BUDGET};
use crate::error::{DiffusionError, Result};
use crate::models::layers::silu;
use crate::weights::Weights;

/// The encoder and its streaming state.
pub struct WanVaeEncoder {
    config: WanVaeConfig,
    conv_in: CausalConv,
    down: Vec<DownLayer>,
    mid: (Residual, AttentionBlock, Residual),
    norm_out: ChannelNorm,
    conv_out: CausalConv,
    quant_conv: CausalConv,
    /// Frames encoded so far.
    seen: usize,
}

enum DownLayer {
    Residual(Residual),
    Down(Downsample),
}

impl WanVaeEncoder {
    /// Loads the encoder of `folder` (a diffusers `vae/` folder).
    pub fn load(folder: &Path, device: &Device, dtype: DType) -> Result<Self> {
        let config = WanVaeConfig::read(folder)?;
        let w = Weights::open(folder, "diffusion_pytorch_model", device, dtype)?;
        Self::from_weights(config, &w)
    }

    pub fn from_weights(config: WanVaeConfig, w: &Weights) -> Result<Self> {
        let c = &config;
        let dims: Vec<usize> = std::iter::once(1)
            .chain(c.dim_mult.iter().copied())
            .map(|m| c.base_dim * m)
            .collect();
        let e = "encoder";
        // diffusers keeps the residual blocks and the downsamplers in one flat list.
        let mut down = Vec::new();
        for i in 0..c.dim_mult.len() {
            let (mut input, output) = (dims[i], dims[i + 1]);
            for _ in 0..c.num_res_blocks {
                let prefix = format!("{e}.down_blocks.{}", down.len());
                down.push(DownLayer::Residual(Residual::load(
                    w, &prefix, input, output,
                )?));
                input = output;
            }
            if i + 1 < c.dim_mult.len() {
                let prefix = format!("{e}.down_blocks.{}", down.len());
                down.push(DownLayer::Down(Downsample::load(
                    w,
                    &prefix,
                    output,
                    c.temperal_downsample[i],
                )?));
            }
        }
        let top = dims[dims.len() - 1];
        let z2 = 2 * c.z_dim;
        Ok(WanVaeEncoder {
            conv_in: CausalConv::load(w, &format!("{e}.conv_in"), 3, dims[0], [3, 3, 3])?,
            down,
            mid: (
                Residual::load(w, &format!("{e}.mid_block.resnets.0"), top, top)?,
                AttentionBlock::load(w, &format!("{e}.mid_block.attentions.0"), top)?,
                Residual::load(w, &format!("{e}.mid_block.resnets.1"), top, top)?,
            ),
            norm_out: ChannelNorm::load(w, &format!("{e}.norm_out"), top)?,
            conv_out: CausalConv::load(w, &format!("{e}.conv_out"), top, z2, [3, 3, 3])?,
            quant_conv: CausalConv::load(w, "quant_conv", z2, z2, [1, 1, 1])?,
            seen: 0,
            config,
        })
    }

    pub fn config(&self) -> &WanVaeConfig {
        &self.config
    }

    /// Forgets the frames seen, to encode another video.
    pub fn reset(&mut self) {
        self.seen = 0;
        let mut convs = vec![&mut self.conv_in, &mut self.conv_out];
        convs.extend([
            &mut self.mid.0.conv1,
            &mut self.mid.0.conv2,
            &mut self.mid.2.conv1,
            &mut self.mid.2.conv2,
        ]);
        for layer in &mut self.down {
            match layer {
                DownLayer::Residual(r) => convs.extend([&mut r.conv1, &mut r.conv2]),
                DownLayer::Down(d) => d.last = None,
            }
        }
        for conv in convs {
            conv.cache = None;
        }
    }

    /// Encodes the next chunk (frames, 3, height, width) of the video, in [-1, 1]: the first
    /// frame alone, then four frames at a time. Returns its latent frame (1, z_dim, height/8,
    /// width/8), the distribution's mean, normalised into the transformer's space.
    pub fn encode_chunk(&mut self, chunk: &Tensor) -> Result<Tensor> {
        let (frames, channels, height, width) = chunk.dims4()?;
        let expected = if self.seen == 0 { 1 } else { 4 };
        let scale = 1 << (self.config.dim_mult.len() - 1);
        if frames != expected || channels != 3 {
            return Err(DiffusionError::Usage(format!(
                "the VAE encodes the first frame alone and then four frames at a time; it was \
                 given ({frames}, {channels}, ..) after {} frames",
                self.seen
            )));
        }
        if !height.is_multiple_of(scale) || !width.is_multiple_of(scale) {
            return Err(DiffusionError::Usage(format!(
                "{width}x{height} frames: the VAE needs multiples of {scale}"
            )));
        }
        let dtype = self.conv_in.weight.dtype();
        let mut x = self.conv_in.forward(&chunk.to_dtype(dtype)?)?;
        for layer in &mut self.down {
            x = match layer {
                DownLayer::Residual(r) => r.forward(&x)?,
                DownLayer::Down(d) => d.forward(&x)?,
            };
        }
        x = self.mid.0.forward(&x)?;
        x = self.mid.1.forward(&x)?;
        x = self.mid.2.forward(&x)?;
        let x = silu(&self.norm_out.forward(&x)?)?;
        let x = self.quant_conv.forward(&self.conv_out.forward(&x)?)?;
        self.seen += frames;
        // (1, 2·z, h, w): the mean, then the log-variance.
        let mean = x.narrow(1, 0, self.config.z_dim)?.unsqueeze(2)?;
        Ok(self.config.normalise(&mean)?.squeeze(2)?)
    }

    /// Encodes a whole video (1, 3, 4k + 1, height, width) in [-1, 1] to normalised latents
    /// (1, z_dim, k + 1, height/8, width/8), as diffusers' `encode(..).latent_dist.mode()`
    /// followed by the pipelines' normalisation.
    pub fn encode(&mut self, video: &Tensor) -> Result<Tensor> {
        let (_, _, frames, _, _) = video.dims5()?;
        if frames % 4 != 1 {
            return Err(DiffusionError::Usage(format!(
                "{frames} frames: the VAE encodes 4k+1"
            )));
        }
        self.reset();
        let video = video.squeeze(0)?.permute((1, 0, 2, 3))?;
        let mut out = vec![self.encode_chunk(&video.narrow(0, 0, 1)?)?];
        for start in (1..frames).step_by(4) {
            out.push(self.encode_chunk(&video.narrow(0, start, 4)?)?);
        }
        self.reset();
        Ok(Tensor::stack(&out, 2)?)
    }
}

/// Half the size in space (a 3×3 convolution of stride 2, padded on the right and bottom) and,
/// for the temporal ones, half the frames after the first (a time convolution of stride 2 that
/// reads the previous chunk's last frame).
struct Downsample {
    conv: (Tensor, Tensor),
    time_conv: Option<CausalConv>,
    /// The last frame of the previous chunk, after the spatial convolution.
    last: Option<Tensor>,
}

impl Downsample {
    fn load(w: &Weights, prefix: &str, dim: usize, temporal: bool) -> Result<Self> {
        Ok(Downsample {
            conv: (
                w.get(&format!("{prefix}.resample.1.weight"), &[dim, dim, 3, 3])?,
                w.get(&format!("{prefix}.resample.1.bias"), &[dim])?
                    .reshape((1, dim, 1, 1))?,
            ),
            time_conv: if temporal {
                Some(CausalConv::load(
                    w,
                    &format!("{prefix}.time_conv"),
                    dim,
                    dim,
                    [3, 1, 1],
                )?)
            } else {
                None
            },
            last: None,
        })
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let (frames, c, h, w) = x.dims4()?;
        // Frame by frame when the chunk would unfold into more than the budget.
        let unfolded = frames * (h / 2) * (w / 2) * c * 9 * x.dtype().size_in_bytes();
        let step = if unfolded <= UNFOLD_BUDGET { frames } else { 1 };
        let mut parts = Vec::with_capacity(frames.div_ceil(step));
        for start in (0..frames).step_by(step) {
            let part = x
                .narrow(0, start, step.min(frames - start))?
                .pad_with_zeros(3, 0, 1)?
                .pad_with_zeros(2, 0, 1)?;
            parts.push(
                part.conv2d(&self.conv.0, 0, 2, 1, 1)?
                    .broadcast_add(&self.conv.1)?,
            );
        }
        let y = Tensor::cat(&parts, 0)?;
        let Some(time_conv) = &self.time_conv else {
            return Ok(y);
        };
        let last = y.narrow(0, frames - 1, 1)?;
        Ok(match self.last.replace(last) {
            // The first chunk passes through and is remembered.
            None => y,
            Some(previous) => time_conv.forward_stride2(&Tensor::cat(&[&previous, &y], 0)?)?,
        })
    }
}
