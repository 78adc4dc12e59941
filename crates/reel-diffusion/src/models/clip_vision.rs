//! The CLIP vision transformer (transformers' `CLIPVisionModel`) that Wan2.1's image-to-video
//! models read the still with: patches embedded, a class token, learnt positions, pre-norm
//! encoder layers. The pipeline takes the states before the last layer (`hidden_states[-2]`),
//! so the last layer and the final norms are never run (nor loaded).

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::error::{DiffusionError, Result};
use crate::models::layers::{LayerNorm, Linear, gelu};
use crate::ops;
use crate::weights::{Weights, read_model_config};

/// `image_encoder/config.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ClipVisionConfig {
    pub model_type: String,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub image_size: usize,
    pub patch_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_channels")]
    pub num_channels: usize,
}

fn default_act() -> String {
    "quick_gelu".into()
}
fn default_eps() -> f64 {
    1e-5
}
fn default_channels() -> usize {
    3
}

#[derive(Debug, Clone, Copy)]
enum Activation {
    Gelu,
    QuickGelu,
    GeluTanh,
}

pub struct ClipVision {
    config: ClipVisionConfig,
    patch: Tensor,
    class: Tensor,
    positions: Tensor,
    pre_norm: LayerNorm,
    layers: Vec<Layer>,
    activation: Activation,
    dtype: DType,
}

struct Layer {
    norm1: LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl ClipVision {
    pub fn load(folder: &Path, device: &Device, dtype: DType) -> Result<Self> {
        let config: ClipVisionConfig =
            read_model_config(folder, "clip_vision_model", "a CLIP vision model")?;
        let w = Weights::open(folder, "model", device, dtype)?;
        Self::from_weights(config, &w)
    }

    pub fn from_weights(config: ClipVisionConfig, w: &Weights) -> Result<Self> {
        let c = &config;
        let activation = match c.hidden_act.as_str() {
            "gelu" => Activation::Gelu,
            "quick_gelu" => Activation::QuickGelu,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            other => {
                return Err(DiffusionError::model(
                    "image_encoder/config.json",
                    format!("hidden_act {other:?} is not one CLIP uses"),
                ));
            }
        };
        if c.num_hidden_layers < 2 || !c.image_size.is_multiple_of(c.patch_size) {
            return Err(DiffusionError::model(
                "image_encoder/config.json",
                "needs two layers or more and an image size a multiple of the patch size",
            ));
        }
        // transformers 4 saved the weights under `vision_model.`, transformers 5 without.
        let root = if w.contains("vision_model.embeddings.class_embedding") {
            "vision_model."
        } else {
            ""
        };
        let d = c.hidden_size;
        let eps = c.layer_norm_eps;
        let tokens = (c.image_size / c.patch_size).pow(2) + 1;
        let e = format!("{root}embeddings");
        let layers = (0..c.num_hidden_layers - 1)
            .map(|i| {
                let p = format!("{root}encoder.layers.{i}");
                Ok(Layer {
                    norm1: LayerNorm::load(w, &format!("{p}.layer_norm1"), d, eps)?,
                    q: Linear::load(w, &format!("{p}.self_attn.q_proj"), d, d)?,
                    k: Linear::load(w, &format!("{p}.self_attn.k_proj"), d, d)?,
                    v: Linear::load(w, &format!("{p}.self_attn.v_proj"), d, d)?,
                    out: Linear::load(w, &format!("{p}.self_attn.out_proj"), d, d)?,
                    norm2: LayerNorm::load(w, &format!("{p}.layer_norm2"), d, eps)?,
                    fc1: Linear::load(w, &format!("{p}.mlp.fc1"), d, c.intermediate_size)?,
                    fc2: Linear::load(w, &format!("{p}.mlp.fc2"), c.intermediate_size, d)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ClipVision {
            patch: w.get(
                &format!("{e}.patch_embedding.weight"),
                &[d, c.num_channels, c.patch_size, c.patch_size],
            )?,
            class: w.get(&format!("{e}.class_embedding"), &[d])?,
            positions: w.get(&format!("{e}.position_embedding.weight"), &[tokens, d])?,
            pre_norm: LayerNorm::load(w, &format!("{root}pre_layrnorm"), d, eps)?,
            layers,
            activation,
            dtype: w.dtype(),
            config,
        })
    }

    pub fn config(&self) -> &ClipVisionConfig {
        &self.config
    }

    /// The states before the last layer (1, tokens, hidden) for `pixels` (1, 3, size, size),
    /// already resized and normalised as the image processor does.
    pub fn penultimate_states(&self, pixels: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        let (batch, channels, h, w) = pixels.dims4()?;
        if channels != c.num_channels || h != c.image_size || w != c.image_size {
            return Err(DiffusionError::Usage(format!(
                "pixels {:?}; the image encoder takes (batch, {}, {size}, {size})",
                pixels.dims(),
                c.num_channels,
                size = c.image_size
            )));
        }
        let d = c.hidden_size;
        let patches = pixels
            .to_dtype(self.dtype)?
            .conv2d(&self.patch, 0, c.patch_size, 1, 1)?
            .flatten_from(2)?
            .transpose(1, 2)?;
        let class = self.class.reshape((1, 1, d))?.repeat((batch, 1, 1))?;
        let x = Tensor::cat(&[&class, &patches], 1)?.broadcast_add(&self.positions)?;
        let mut x = self.pre_norm.forward_f32(&x)?.to_dtype(self.dtype)?;
        let heads = c.num_attention_heads;
        for layer in &self.layers {
            let n = layer.norm1.forward_f32(&x)?.to_dtype(self.dtype)?;
            let a = ops::attention(
                &layer.q.forward(&n)?,
                &layer.k.forward(&n)?,
                &layer.v.forward(&n)?,
                heads,
            )?;
            x = (x + layer.out.forward(&a)?)?;
            let n = layer.norm2.forward_f32(&x)?.to_dtype(self.dtype)?;
            let h = match self.activation {
                Activation::Gelu => gelu(&layer.fc1.forward(&n)?)?,
                Activation::QuickGelu => {
                    let h = layer.fc1.forward(&n)?;
                    (&h * candle_nn::ops::sigmoid(&(&h * 1.702)?)?)?
                }
                Activation::GeluTanh => layer.fc1.forward_gelu_tanh(&n)?,
            };
            x = (x + layer.fc2.forward(&h)?)?;
        }
        Ok(x)
    }
}
