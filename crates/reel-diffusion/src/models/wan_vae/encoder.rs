//! The encoder: frames to latents, the first frame alone and then four frames at a time, each
//! chunk one latent frame. Image to video encodes its conditioning video with it.

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::WanVaeConfig;
use super::blocks::{
    AttentionBlock, CausalConv, ChannelNorm, Residual, UNFOLD_BUDGET, avg_down, by_frames,
    conv2d_parameters, patchify,
};
use crate::error::{DiffusionError, Result};
use crate::models::layers::silu;
use crate::weights::Weights;

/// The encoder and its streaming state.
pub struct WanVaeEncoder {
    config: WanVaeConfig,
    conv_in: CausalConv,
    stages: Vec<DownStage>,
    mid: (Residual, AttentionBlock, Residual),
    norm_out: ChannelNorm,
    conv_out: CausalConv,
    quant_conv: CausalConv,
    /// Frames encoded so far.
    seen: usize,
}

/// One resolution: its residual blocks, the downsampler after them (but the last) and, in the
/// Wan2.2 VAE, a parameter-free shortcut around them all (channels' means over the blocks it
/// shrinks), with its output channels and time and space factors.
struct DownStage {
    resnets: Vec<Residual>,
    down: Option<Downsample>,
    shortcut: Option<(usize, usize, usize)>,
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
        let stages_count = c.dim_mult.len();
        let mut stages = Vec::new();
        // Wan2.1 keeps the residual blocks and the downsamplers in one flat list; Wan2.2 a
        // block a resolution.
        let mut flat = 0;
        let mut name = |stage: usize, part: Option<usize>| {
            if c.is_residual {
                match part {
                    Some(j) => format!("{e}.down_blocks.{stage}.resnets.{j}"),
                    None => format!("{e}.down_blocks.{stage}.downsampler"),
                }
            } else {
                flat += 1;
                format!("{e}.down_blocks.{}", flat - 1)
            }
        };
        for i in 0..stages_count {
            let (mut input, output) = (dims[i], dims[i + 1]);
            let mut resnets = Vec::new();
            for j in 0..c.num_res_blocks {
                resnets.push(Residual::load(w, &name(i, Some(j)), input, output)?);
                input = output;
            }
            let last = i + 1 == stages_count;
            let temporal = !last && c.temperal_downsample[i];
            let down = if last {
                None
            } else {
                Some(Downsample::load(w, &name(i, None), output, temporal)?)
            };
            let shortcut = c.is_residual.then_some((
                output,
                if temporal { 2 } else { 1 },
                if last { 1 } else { 2 },
            ));
            stages.push(DownStage {
                resnets,
                down,
                shortcut,
            });
        }
        let top = dims[dims.len() - 1];
        let z2 = 2 * c.z_dim;
        Ok(WanVaeEncoder {
            conv_in: CausalConv::load(
                w,
                &format!("{e}.conv_in"),
                c.in_channels,
                dims[0],
                [3, 3, 3],
            )?,
            stages,
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
        for stage in &mut self.stages {
            for r in &mut stage.resnets {
                convs.extend([&mut r.conv1, &mut r.conv2]);
            }
            if let Some(d) = &mut stage.down {
                d.last = None;
            }
        }
        for conv in convs {
            conv.cache = None;
        }
    }

    /// Encodes the next chunk (frames, 3, height, width) of the video, in [-1, 1]: the first
    /// frame alone, then four frames at a time. Returns its latent frame (1, z_dim, height/8,
    /// width/8, or /16 for Wan2.2), the distribution's mean, normalised into the transformer's
    /// space.
    pub fn encode_chunk(&mut self, chunk: &Tensor) -> Result<Tensor> {
        let (frames, channels, height, width) = chunk.dims4()?;
        let expected = if self.seen == 0 {
            1
        } else {
            self.config.temporal_factor()
        };
        let scale = self.config.spatial_factor();
        if frames != expected || channels != 3 {
            return Err(DiffusionError::Usage(format!(
                "the VAE encodes the first frame alone and then {} frames at a time; it was \
                 given ({frames}, {channels}, ..) after {} frames",
                self.config.temporal_factor(),
                self.seen
            )));
        }
        if !height.is_multiple_of(scale) || !width.is_multiple_of(scale) {
            return Err(DiffusionError::Usage(format!(
                "{width}x{height} frames: the VAE needs multiples of {scale}"
            )));
        }
        let dtype = self.conv_in.weight.dtype();
        let x = patchify(&chunk.to_dtype(dtype)?, self.config.patch())?;
        let mut x = self.conv_in.forward(&x)?;
        for stage in &mut self.stages {
            let input = x.clone();
            for r in &mut stage.resnets {
                x = r.forward(&x)?;
            }
            if let Some(d) = &mut stage.down {
                x = d.forward(&x)?;
            }
            if let Some((out, ft, fs)) = stage.shortcut {
                x = (x + avg_down(&input, out, ft, fs)?)?;
            }
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
    /// (1, z_dim, k + 1, height/f, width/f), as diffusers' `encode(..).latent_dist.mode()`
    /// followed by the pipelines' normalisation.
    pub fn encode(&mut self, video: &Tensor) -> Result<Tensor> {
        let (_, _, frames, _, _) = video.dims5()?;
        let step = self.config.temporal_factor();
        if frames == 0 || (frames - 1) % step != 0 {
            return Err(DiffusionError::Usage(format!(
                "{frames} frames: the VAE encodes {step}k+1"
            )));
        }
        self.reset();
        let video = video.squeeze(0)?.permute((1, 0, 2, 3))?;
        let mut out = vec![self.encode_chunk(&video.narrow(0, 0, 1)?)?];
        for start in (1..frames).step_by(step) {
            out.push(self.encode_chunk(&video.narrow(0, start, step)?)?);
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
            conv: conv2d_parameters(w, &format!("{prefix}.resample.1"), dim, dim, 3)?,
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
        let y = by_frames(x, unfolded, UNFOLD_BUDGET, |part| {
            part.pad_with_zeros(3, 0, 1)?
                .pad_with_zeros(2, 0, 1)?
                .conv2d(&self.conv.0, 0, 2, 1, 1)?
                .broadcast_add(&self.conv.1)
        })?;
        let Some(time_conv) = &self.time_conv else {
            return Ok(y);
        };
        let last = y.narrow(0, frames - 1, 1)?.copy()?;
        Ok(match self.last.replace(last) {
            // The first chunk passes through and is remembered.
            None => y,
            Some(previous) => time_conv.forward_stride2(&Tensor::cat(&[&previous, &y], 0)?)?,
        })
    }
}
