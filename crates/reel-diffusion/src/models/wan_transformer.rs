//! The Wan diffusion transformer (diffusers' `WanTransformer3DModel`): a video latent cut into
//! spacetime patches, 3D rotary positions split over time, height and width, blocks of
//! self-attention, cross-attention to the text (and to the image for Wan2.1 I2V) and a
//! feed-forward, each modulated by tables computed from the timestep. The norms and the
//! modulation run in f32 whatever the weights' dtype, as diffusers keeps them.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::error::{DiffusionError, Result};
use crate::models::layers::{LayerNorm, Linear, RmsNorm, gelu, modulate, silu, tables};
use crate::ops;
use crate::weights::{Weights, read_config};

/// `transformer/config.json`, with diffusers' defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct WanTransformerConfig {
    #[serde(default = "default_patch")]
    pub patch_size: [usize; 3],
    #[serde(default = "default_heads")]
    pub num_attention_heads: usize,
    #[serde(default = "default_head_dim")]
    pub attention_head_dim: usize,
    #[serde(default = "default_channels")]
    pub in_channels: usize,
    #[serde(default)]
    pub out_channels: Option<usize>,
    #[serde(default = "default_text_dim")]
    pub text_dim: usize,
    #[serde(default = "default_freq_dim")]
    pub freq_dim: usize,
    #[serde(default = "default_ffn_dim")]
    pub ffn_dim: usize,
    #[serde(default = "default_layers")]
    pub num_layers: usize,
    #[serde(default = "default_true")]
    pub cross_attn_norm: bool,
    #[serde(default = "default_qk_norm")]
    pub qk_norm: Option<String>,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub image_dim: Option<usize>,
    #[serde(default)]
    pub added_kv_proj_dim: Option<usize>,
    #[serde(default = "default_rope_len")]
    pub rope_max_seq_len: usize,
    #[serde(default)]
    pub pos_embed_seq_len: Option<usize>,
}

fn default_patch() -> [usize; 3] {
    [1, 2, 2]
}
fn default_heads() -> usize {
    40
}
fn default_head_dim() -> usize {
    128
}
fn default_channels() -> usize {
    16
}
fn default_text_dim() -> usize {
    4096
}
fn default_freq_dim() -> usize {
    256
}
fn default_ffn_dim() -> usize {
    13824
}
fn default_layers() -> usize {
    40
}
fn default_true() -> bool {
    true
}
fn default_qk_norm() -> Option<String> {
    Some("rms_norm_across_heads".into())
}
fn default_eps() -> f64 {
    1e-6
}
fn default_rope_len() -> usize {
    1024
}

impl WanTransformerConfig {
    pub fn inner_dim(&self) -> usize {
        self.num_attention_heads * self.attention_head_dim
    }

    pub fn out_channels(&self) -> usize {
        self.out_channels
            .filter(|&c| c > 0)
            .unwrap_or(self.in_channels)
    }
}

pub struct WanTransformer {
    config: WanTransformerConfig,
    patch_embedding: Linear,
    time_embedder_1: Linear,
    time_embedder_2: Linear,
    time_proj: Linear,
    text_embedder_1: Linear,
    text_embedder_2: Linear,
    image_embedder: Option<ImageEmbedder>,
    blocks: Blocks,
    norm_out: LayerNorm,
    proj_out: Linear,
    scale_shift_table: Tensor,
    dtype: DType,
}

/// The transformer blocks: held on the device, or read from the mapped weights files block by
/// block as they run (layer-by-layer offload), so that only one block's weights are ever on the
/// device: for models larger than its memory, at the cost of reading every block at every step.
enum Blocks {
    Resident(Vec<Block>),
    Streamed(Weights),
}

impl WanTransformer {
    /// Loads `folder` (a diffusers `transformer/` folder) in `dtype` on `device`.
    pub fn load(folder: &Path, device: &Device, dtype: DType) -> Result<Self> {
        Self::open(folder, device, dtype, false)
    }

    /// Loads `folder` with its blocks left in the files, each read onto the device as it runs.
    pub fn load_streamed(folder: &Path, device: &Device, dtype: DType) -> Result<Self> {
        Self::open(folder, device, dtype, true)
    }

    fn open(folder: &Path, device: &Device, dtype: DType, streamed: bool) -> Result<Self> {
        let config: WanTransformerConfig = read_config(folder, "WanTransformer3DModel")?;
        let w = Weights::open(folder, "diffusion_pytorch_model", device, dtype)?;
        let named = |e: DiffusionError| match e {
            DiffusionError::Model { .. } => e,
            other => DiffusionError::model(folder, other.to_string()),
        };
        let mut model = Self::from_parts(config, &w, !streamed).map_err(named)?;
        if streamed {
            // Every block's weights are checked now, so that a bad file fails before step one.
            for i in 0..model.config.num_layers {
                Block::load(&w, &format!("blocks.{i}"), &model.config).map_err(named)?;
            }
            model.blocks = Blocks::Streamed(w);
        }
        Ok(model)
    }

    pub fn from_weights(config: WanTransformerConfig, w: &Weights) -> Result<Self> {
        Self::from_parts(config, w, true)
    }

    fn from_parts(config: WanTransformerConfig, w: &Weights, resident: bool) -> Result<Self> {
        let c = &config;
        let dim = c.inner_dim();
        if !c.attention_head_dim.is_multiple_of(2) || c.attention_head_dim < 6 {
            return Err(DiffusionError::model(
                "config.json",
                format!(
                    "attention_head_dim {} cannot carry 3D rotary positions",
                    c.attention_head_dim
                ),
            ));
        }
        if c.patch_size.contains(&0) {
            return Err(DiffusionError::model(
                "config.json",
                format!("patch_size {:?} has a zero", c.patch_size),
            ));
        }
        match c.qk_norm.as_deref() {
            None | Some("rms_norm_across_heads") => {}
            Some(other) => {
                return Err(DiffusionError::model(
                    "config.json",
                    format!("qk_norm {other:?} is not one Wan uses"),
                ));
            }
        }
        let [pt, ph, pw] = c.patch_size;
        let patch = c.in_channels * pt * ph * pw;
        let conv = w.get("patch_embedding.weight", &[dim, c.in_channels, pt, ph, pw])?;
        let patch_embedding = Linear::from_parts(
            conv.reshape((dim, patch))?,
            Some(w.get("patch_embedding.bias", &[dim])?),
        )?;
        let image_embedder = match c.image_dim {
            Some(image_dim) => Some(ImageEmbedder::load(w, image_dim, dim, c.pos_embed_seq_len)?),
            None => None,
        };
        let blocks = if resident {
            Blocks::Resident(
                (0..c.num_layers)
                    .map(|i| Block::load(w, &format!("blocks.{i}"), c))
                    .collect::<Result<Vec<_>>>()?,
            )
        } else {
            Blocks::Resident(Vec::new())
        };
        let out = c.out_channels() * pt * ph * pw;
        Ok(WanTransformer {
            patch_embedding,
            // Kept in f32 whatever the dtype, as diffusers keeps the time embedder.
            time_embedder_1: Linear::load_as(
                w,
                "condition_embedder.time_embedder.linear_1",
                c.freq_dim,
                dim,
                DType::F32,
            )?,
            time_embedder_2: Linear::load_as(
                w,
                "condition_embedder.time_embedder.linear_2",
                dim,
                dim,
                DType::F32,
            )?,
            time_proj: Linear::load(w, "condition_embedder.time_proj", dim, 6 * dim)?,
            text_embedder_1: Linear::load(
                w,
                "condition_embedder.text_embedder.linear_1",
                c.text_dim,
                dim,
            )?,
            text_embedder_2: Linear::load(
                w,
                "condition_embedder.text_embedder.linear_2",
                dim,
                dim,
            )?,
            image_embedder,
            blocks,
            norm_out: LayerNorm::plain(w, dim, c.eps)?,
            proj_out: Linear::load(w, "proj_out", dim, out)?,
            scale_shift_table: w.get_as("scale_shift_table", &[1, 2, dim], DType::F32)?,
            dtype: w.dtype(),
            config,
        })
    }

    pub fn config(&self) -> &WanTransformerConfig {
        &self.config
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Runs `f` on every block in order, each read from the files first when streamed.
    fn each_block<T>(&self, mut f: impl FnMut(usize, &Block) -> Result<T>) -> Result<Vec<T>> {
        match &self.blocks {
            Blocks::Resident(blocks) => blocks.iter().enumerate().map(|(i, b)| f(i, b)).collect(),
            Blocks::Streamed(w) => (0..self.config.num_layers)
                .map(|i| f(i, &Block::load(w, &format!("blocks.{i}"), &self.config)?))
                .collect(),
        }
    }

    /// The model's prediction (the flow velocity for Wan) for `latents` (batch, channels,
    /// frames, height, width) at `timestep` (batch,) or, with per-token timesteps, (batch,
    /// tokens), given the encoded text (batch, text tokens, text_dim) and, for the
    /// image-conditioned 14B model, the encoded image (batch, image tokens, image_dim).
    pub fn forward(
        &self,
        latents: &Tensor,
        timestep: &Tensor,
        text: &Tensor,
        image: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.forward_with(latents, timestep, &self.context(text, image)?)
    }

    /// What the cross-attention reads of the text (and image): its projection and every
    /// block's keys and values. None of it depends on the latents or the timestep, so a
    /// generation computes it once rather than at every step.
    pub fn context(&self, text: &Tensor, image: Option<&Tensor>) -> Result<Context> {
        let c = &self.config;
        let text = text.to_dtype(self.dtype)?;
        let (batch, _, text_dim) = text.dims3()?;
        if text_dim != c.text_dim {
            return Err(DiffusionError::Usage(format!(
                "text states {:?}; the transformer takes (batch, tokens, {})",
                text.dims(),
                c.text_dim
            )));
        }
        let text = self
            .text_embedder_2
            .forward(&self.text_embedder_1.forward_gelu_tanh(&text)?)?;
        let image = match (&self.image_embedder, image) {
            (Some(embedder), Some(image)) => Some(embedder.forward(&image.to_dtype(self.dtype)?)?),
            (None, None) => None,
            (Some(_), None) => {
                return Err(DiffusionError::Usage(
                    "this model needs an encoded image".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(DiffusionError::Usage("this model takes no image".into()));
            }
        };
        let blocks =
            self.each_block(|_, b| b.cross_attention.keys_values(&text, image.as_ref()))?;
        Ok(Context { batch, blocks })
    }

    /// [`forward`](Self::forward) with the text's [`Context`] computed beforehand.
    pub fn forward_with(
        &self,
        latents: &Tensor,
        timestep: &Tensor,
        context: &Context,
    ) -> Result<Tensor> {
        let c = &self.config;
        let (batch, channels, frames, height, width) = latents.dims5()?;
        let [pt, ph, pw] = c.patch_size;
        if channels != c.in_channels {
            return Err(DiffusionError::Usage(format!(
                "the latents have {channels} channels; the transformer takes {}",
                c.in_channels
            )));
        }
        if frames % pt != 0 || height % ph != 0 || width % pw != 0 {
            return Err(DiffusionError::Usage(format!(
                "latents of {frames}x{height}x{width} do not divide into patches of {pt}x{ph}x{pw}"
            )));
        }
        let grid = (frames / pt, height / ph, width / pw);
        let tokens = grid.0 * grid.1 * grid.2;
        if grid.0.max(grid.1).max(grid.2) > c.rope_max_seq_len {
            return Err(DiffusionError::Usage(format!(
                "a latent of {frames}x{height}x{width} is longer than the model's positions ({})",
                c.rope_max_seq_len
            )));
        }
        let device = latents.device();
        let dim = c.inner_dim();
        let (cos, sin) = rotary_tables(c, grid, device)?;

        // Spacetime patches: (b, c, F, H, W) → (b, tokens, c·pt·ph·pw) in the Conv3d's order.
        let patches = latents
            .to_dtype(self.dtype)?
            .reshape(vec![batch, channels, grid.0, pt, grid.1, ph, grid.2, pw])?
            .permute(vec![0, 2, 4, 6, 1, 3, 5, 7])?
            .contiguous()?
            .reshape((batch, tokens, channels * pt * ph * pw))?;
        let mut x = self.patch_embedding.forward(&patches)?;

        // The timestep's tables: (b, n, dim) with n = 1, or one per token.
        let per = match timestep.rank() {
            1 => 1,
            2 => timestep.dim(1)?,
            r => return Err(DiffusionError::Usage(format!("a timestep of rank {r}"))),
        };
        if timestep.dim(0)? != batch || (per != 1 && per != tokens) {
            return Err(DiffusionError::Usage(format!(
                "timestep {:?} does not fit a batch of {batch} with {tokens} tokens",
                timestep.dims()
            )));
        }
        let sinusoid = timestep_embedding(&timestep.flatten_all()?, c.freq_dim)?;
        let temb = self
            .time_embedder_2
            .forward(&silu(&self.time_embedder_1.forward(&sinusoid)?)?)?
            .to_dtype(self.dtype)?;
        let modulation = self
            .time_proj
            .forward(&silu(&temb)?)?
            .to_dtype(DType::F32)?
            .reshape((batch, per, 6, dim))?;
        let temb = temb.to_dtype(DType::F32)?.reshape((batch, per, dim))?;

        if context.blocks.len() != c.num_layers {
            return Err(DiffusionError::Usage(format!(
                "a context of {} blocks for a transformer of {}",
                context.blocks.len(),
                c.num_layers
            )));
        }
        if context.batch != batch {
            return Err(DiffusionError::Usage(format!(
                "a text context of batch {} for latents of batch {batch}",
                context.batch
            )));
        }
        self.each_block(|i, block| {
            x = block.forward(&x, &context.blocks[i], &modulation, &cos, &sin)?;
            Ok(())
        })?;

        let table = self
            .scale_shift_table
            .unsqueeze(0)?
            .broadcast_add(&temb.unsqueeze(2)?)?;
        let [shift, scale] = <[Tensor; 2]>::try_from(tables(&table, 2, 2)?).expect("two tables");
        let x = modulate(&self.norm_out.forward_f32(&x)?, &shift, &scale)?.to_dtype(self.dtype)?;
        let x = self.proj_out.forward(&x)?;
        let out = c.out_channels();
        Ok(
            x.reshape(vec![batch, grid.0, grid.1, grid.2, pt, ph, pw, out])?
                .permute(vec![0, 7, 1, 4, 2, 5, 3, 6])?
                .contiguous()?
                .reshape((batch, out, frames, height, width))?,
        )
    }
}

/// One transformer block with its modulation table.
struct Block {
    norm1: LayerNorm,
    self_attention: Attention,
    norm2: Option<LayerNorm>,
    cross_attention: Attention,
    norm3: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    scale_shift_table: Tensor,
}

impl Block {
    fn load(w: &Weights, prefix: &str, c: &WanTransformerConfig) -> Result<Self> {
        let dim = c.inner_dim();
        Ok(Block {
            norm1: LayerNorm::plain(w, dim, c.eps)?,
            self_attention: Attention::load(w, &format!("{prefix}.attn1"), c, None)?,
            norm2: if c.cross_attn_norm {
                Some(LayerNorm::load(w, &format!("{prefix}.norm2"), dim, c.eps)?)
            } else {
                None
            },
            cross_attention: Attention::load(
                w,
                &format!("{prefix}.attn2"),
                c,
                c.added_kv_proj_dim,
            )?,
            norm3: LayerNorm::plain(w, dim, c.eps)?,
            ffn_in: Linear::load(w, &format!("{prefix}.ffn.net.0.proj"), dim, c.ffn_dim)?,
            ffn_out: Linear::load(w, &format!("{prefix}.ffn.net.2"), c.ffn_dim, dim)?,
            scale_shift_table: w.get_as(
                &format!("{prefix}.scale_shift_table"),
                &[1, 6, dim],
                DType::F32,
            )?,
        })
    }

    fn forward(
        &self,
        x: &Tensor,
        context: &CrossKeysValues,
        modulation: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
    ) -> Result<Tensor> {
        let dtype = x.dtype();
        let table = self
            .scale_shift_table
            .unsqueeze(0)?
            .broadcast_add(modulation)?;
        let [shift, scale, gate, c_shift, c_scale, c_gate] =
            <[Tensor; 6]>::try_from(tables(&table, 6, 2)?).expect("six tables");

        let h = modulate(&self.norm1.forward_f32(x)?, &shift, &scale)?.to_dtype(dtype)?;
        let attended = self.self_attention.self_attend(&h, cos, sin)?;
        let x = (x.to_dtype(DType::F32)? + attended.to_dtype(DType::F32)?.broadcast_mul(&gate)?)?
            .to_dtype(dtype)?;

        let h = match &self.norm2 {
            Some(norm) => norm.forward_f32(&x)?.to_dtype(dtype)?,
            None => x.clone(),
        };
        let x = (&x + self.cross_attention.cross_attend(&h, context)?)?;

        let h = modulate(&self.norm3.forward_f32(&x)?, &c_shift, &c_scale)?.to_dtype(dtype)?;
        let ff = self.ffn_out.forward(&self.ffn_in.forward_gelu_tanh(&h)?)?;
        Ok(
            (x.to_dtype(DType::F32)? + ff.to_dtype(DType::F32)?.broadcast_mul(&c_gate)?)?
                .to_dtype(dtype)?,
        )
    }
}

/// Multi-head attention with q and k RMS-normalised across all heads, rotary positions on
/// self-attention, and (Wan2.1 I2V) a second set of keys and values for the image.
struct Attention {
    heads: usize,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    norm_q: Option<RmsNorm>,
    norm_k: Option<RmsNorm>,
    image: Option<(Linear, Linear, RmsNorm)>,
}

impl Attention {
    fn load(
        w: &Weights,
        prefix: &str,
        c: &WanTransformerConfig,
        added_kv: Option<usize>,
    ) -> Result<Self> {
        let dim = c.inner_dim();
        let (norm_q, norm_k) = if c.qk_norm.is_some() {
            (
                Some(RmsNorm::load(w, &format!("{prefix}.norm_q"), dim, c.eps)?),
                Some(RmsNorm::load(w, &format!("{prefix}.norm_k"), dim, c.eps)?),
            )
        } else {
            (None, None)
        };
        let image = match added_kv {
            Some(added) => Some((
                Linear::load(w, &format!("{prefix}.add_k_proj"), added, dim)?,
                Linear::load(w, &format!("{prefix}.add_v_proj"), added, dim)?,
                RmsNorm::load(w, &format!("{prefix}.norm_added_k"), dim, c.eps)?,
            )),
            None => None,
        };
        Ok(Attention {
            heads: c.num_attention_heads,
            to_q: Linear::load(w, &format!("{prefix}.to_q"), dim, dim)?,
            to_k: Linear::load(w, &format!("{prefix}.to_k"), dim, dim)?,
            to_v: Linear::load(w, &format!("{prefix}.to_v"), dim, dim)?,
            to_out: Linear::load(w, &format!("{prefix}.to_out.0"), dim, dim)?,
            norm_q,
            norm_k,
            image,
        })
    }

    /// Keys (normalised) and values of `context`.
    fn project(&self, context: &Tensor) -> Result<(Tensor, Tensor)> {
        let k = self.to_k.forward(context)?;
        let k = match &self.norm_k {
            Some(n) => n.forward(&k)?,
            None => k,
        };
        Ok((k, self.to_v.forward(context)?))
    }

    fn query(&self, x: &Tensor) -> Result<Tensor> {
        let q = self.to_q.forward(x)?;
        match &self.norm_q {
            Some(n) => n.forward(&q),
            None => Ok(q),
        }
    }

    /// Self-attention with rotary positions.
    fn self_attend(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let (k, v) = self.project(x)?;
        let q = ops::rope_interleaved(&self.query(x)?, cos, sin, self.heads)?;
        let k = ops::rope_interleaved(&k, cos, sin, self.heads)?;
        self.to_out
            .forward(&ops::attention(&q, &k, &v, self.heads)?)
    }

    /// The cross-attention's keys and values for the text (and image) tokens.
    fn keys_values(&self, text: &Tensor, image: Option<&Tensor>) -> Result<CrossKeysValues> {
        let (k, v) = self.project(text)?;
        let image = match (&self.image, image) {
            (Some((add_k, add_v, norm_k)), Some(image)) => Some((
                norm_k.forward(&add_k.forward(image)?)?,
                add_v.forward(image)?,
            )),
            _ => None,
        };
        Ok(CrossKeysValues { k, v, image })
    }

    /// Cross-attention to the text (plus, for I2V, to the image, summed).
    fn cross_attend(&self, x: &Tensor, context: &CrossKeysValues) -> Result<Tensor> {
        let q = self.query(x)?;
        let mut out = ops::attention(&q, &context.k, &context.v, self.heads)?;
        if let Some((k, v)) = &context.image {
            out = (out + ops::attention(&q, k, v, self.heads)?)?;
        }
        self.to_out.forward(&out)
    }
}

/// The text's side of a generation, computed once: see [`WanTransformer::context`].
pub struct Context {
    batch: usize,
    blocks: Vec<CrossKeysValues>,
}

struct CrossKeysValues {
    k: Tensor,
    v: Tensor,
    image: Option<(Tensor, Tensor)>,
}

/// The image tokens' projection of the I2V models (`WanImageEmbedding`).
struct ImageEmbedder {
    norm1: LayerNorm,
    ff_in: Linear,
    ff_out: Linear,
    norm2: LayerNorm,
    pos_embed: Option<Tensor>,
}

impl ImageEmbedder {
    fn load(w: &Weights, image_dim: usize, dim: usize, pos_len: Option<usize>) -> Result<Self> {
        let p = "condition_embedder.image_embedder";
        Ok(ImageEmbedder {
            norm1: LayerNorm::load(w, &format!("{p}.norm1"), image_dim, 1e-5)?,
            ff_in: Linear::load(w, &format!("{p}.ff.net.0.proj"), image_dim, image_dim)?,
            ff_out: Linear::load(w, &format!("{p}.ff.net.2"), image_dim, dim)?,
            norm2: LayerNorm::load(w, &format!("{p}.norm2"), dim, 1e-5)?,
            pos_embed: match pos_len {
                Some(len) => Some(w.get(&format!("{p}.pos_embed"), &[1, len, image_dim])?),
                None => None,
            },
        })
    }

    fn forward(&self, image: &Tensor) -> Result<Tensor> {
        let dtype = image.dtype();
        let image = match &self.pos_embed {
            // First and last frame: the two images' tokens side by side, with learnt positions.
            Some(pos) => {
                let (b, s, d) = image.dims3()?;
                image.reshape((b / 2, 2 * s, d))?.broadcast_add(pos)?
            }
            None => image.clone(),
        };
        let h = self.norm1.forward_f32(&image)?.to_dtype(dtype)?;
        let h = self.ff_out.forward(&gelu(&self.ff_in.forward(&h)?)?)?;
        Ok(self.norm2.forward_f32(&h)?.to_dtype(dtype)?)
    }
}

/// diffusers' `Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0)`: [cos, sin] of the
/// timestep at geometric frequencies, in f32.
pub fn timestep_embedding(timesteps: &Tensor, dim: usize) -> Result<Tensor> {
    let half = dim / 2;
    let device = timesteps.device();
    let freqs: Vec<f32> = (0..half)
        .map(|i| (-(10000f32.ln()) * i as f32 / half as f32).exp())
        .collect();
    let freqs = Tensor::from_vec(freqs, (1, half), device)?;
    let args = timesteps
        .to_dtype(DType::F32)?
        .unsqueeze(1)?
        .broadcast_mul(&freqs)?;
    Ok(Tensor::cat(&[args.cos()?, args.sin()?], 1)?)
}

/// The rotary tables for a grid of (frames, height, width) patches: per token, the angles of
/// its frame, row and column over the head's three slices, as (tokens, head_dim / 2) cos and
/// sin. Computed in f64, as diffusers does, then stored in f32.
fn rotary_tables(
    c: &WanTransformerConfig,
    (frames, rows, cols): (usize, usize, usize),
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let head = c.attention_head_dim;
    let hw = 2 * (head / 6);
    let slices = [head - 2 * hw, hw, hw];
    let angles = |dim: usize, pos: usize| -> Vec<f64> {
        (0..dim / 2)
            .map(|j| pos as f64 / 10000f64.powf((2 * j) as f64 / dim as f64))
            .collect()
    };
    let half = head / 2;
    let tokens = frames * rows * cols;
    let mut cos = Vec::with_capacity(tokens * half);
    let mut sin = Vec::with_capacity(tokens * half);
    for f in 0..frames {
        for r in 0..rows {
            for col in 0..cols {
                for (dim, pos) in slices.iter().zip([f, r, col]) {
                    for a in angles(*dim, pos) {
                        cos.push(a.cos() as f32);
                        sin.push(a.sin() as f32);
                    }
                }
            }
        }
    }
    Ok((
        Tensor::from_vec(cos, (tokens, half), device)?,
        Tensor::from_vec(sin, (tokens, half), device)?,
    ))
}
