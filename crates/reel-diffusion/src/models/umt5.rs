//! The umT5 text encoder (transformers' `UMT5EncoderModel`), which Wan reads prompts with. Unlike
//! T5, every layer has its own relative-position bias. Scores are not scaled; norms are RMS
//! norms in f32; the feed-forward is gated by the tanh GELU.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::error::{DiffusionError, Result};
use crate::models::layers::Linear;
use crate::ops;
use crate::weights::{Weights, read_model_config};

/// `text_encoder/config.json` (a transformers config).
#[derive(Debug, Clone, Deserialize)]
pub struct Umt5Config {
    pub model_type: String,
    pub vocab_size: usize,
    pub d_model: usize,
    pub d_kv: usize,
    pub d_ff: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
    #[serde(default = "default_distance")]
    pub relative_attention_max_distance: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "default_ff")]
    pub feed_forward_proj: String,
}

fn default_buckets() -> usize {
    32
}
fn default_distance() -> usize {
    128
}
fn default_eps() -> f64 {
    1e-6
}
fn default_ff() -> String {
    "gated-gelu".into()
}

pub struct Umt5Encoder {
    config: Umt5Config,
    embed: Tensor,
    layers: Vec<Layer>,
    final_norm: T5Norm,
    dtype: DType,
}

struct Layer {
    attention_norm: T5Norm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    /// (buckets, heads).
    relative_bias: Tensor,
    ff_norm: T5Norm,
    wi_0: Linear,
    wi_1: Linear,
    wo: Linear,
}

impl Umt5Encoder {
    /// Loads `folder` (a `text_encoder/` folder: config.json and model.safetensors, or shards).
    pub fn load(folder: &Path, device: &Device, dtype: DType) -> Result<Self> {
        let config: Umt5Config = read_model_config(folder, "umt5", "umT5")?;
        let path = folder.join("config.json");
        if config.feed_forward_proj != "gated-gelu" {
            return Err(DiffusionError::model(
                &path,
                format!(
                    "feed_forward_proj {:?} (Wan's umT5 is gated-gelu)",
                    config.feed_forward_proj
                ),
            ));
        }
        let w = Weights::open(folder, "model", device, dtype)?;
        Self::from_weights(config, &w)
    }

    pub fn from_weights(config: Umt5Config, w: &Weights) -> Result<Self> {
        let c = &config;
        let inner = c.num_heads * c.d_kv;
        let eps = c.layer_norm_epsilon;
        let embed_name = if w.contains("shared.weight") {
            "shared.weight"
        } else {
            "encoder.embed_tokens.weight"
        };
        let layers = (0..c.num_layers)
            .map(|i| {
                let p = format!("encoder.block.{i}.layer");
                Ok(Layer {
                    attention_norm: T5Norm::load(w, &format!("{p}.0.layer_norm"), c.d_model, eps)?,
                    q: Linear::load_no_bias(
                        w,
                        &format!("{p}.0.SelfAttention.q"),
                        c.d_model,
                        inner,
                    )?,
                    k: Linear::load_no_bias(
                        w,
                        &format!("{p}.0.SelfAttention.k"),
                        c.d_model,
                        inner,
                    )?,
                    v: Linear::load_no_bias(
                        w,
                        &format!("{p}.0.SelfAttention.v"),
                        c.d_model,
                        inner,
                    )?,
                    o: Linear::load_no_bias(
                        w,
                        &format!("{p}.0.SelfAttention.o"),
                        inner,
                        c.d_model,
                    )?,
                    relative_bias: w.get_as(
                        &format!("{p}.0.SelfAttention.relative_attention_bias.weight"),
                        &[c.relative_attention_num_buckets, c.num_heads],
                        DType::F32,
                    )?,
                    ff_norm: T5Norm::load(w, &format!("{p}.1.layer_norm"), c.d_model, eps)?,
                    wi_0: Linear::load_no_bias(
                        w,
                        &format!("{p}.1.DenseReluDense.wi_0"),
                        c.d_model,
                        c.d_ff,
                    )?,
                    wi_1: Linear::load_no_bias(
                        w,
                        &format!("{p}.1.DenseReluDense.wi_1"),
                        c.d_model,
                        c.d_ff,
                    )?,
                    wo: Linear::load_no_bias(
                        w,
                        &format!("{p}.1.DenseReluDense.wo"),
                        c.d_ff,
                        c.d_model,
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Umt5Encoder {
            embed: w.get(embed_name, &[c.vocab_size, c.d_model])?,
            layers,
            final_norm: T5Norm::load(w, "encoder.final_layer_norm", c.d_model, eps)?,
            dtype: w.dtype(),
            config,
        })
    }

    pub fn config(&self) -> &Umt5Config {
        &self.config
    }

    /// The last hidden states (tokens, d_model) of one sequence of token ids, in f32. Only the
    /// real tokens are given: padding, which the reference masks out of every key, changes
    /// nothing for them, so it is never computed.
    pub fn encode(&self, ids: &[u32]) -> Result<Tensor> {
        let c = &self.config;
        if let Some(&bad) = ids.iter().find(|&&id| id as usize >= c.vocab_size) {
            return Err(DiffusionError::Usage(format!(
                "token {bad} is outside the encoder's vocabulary of {}",
                c.vocab_size
            )));
        }
        let device = self.embed.device();
        let tokens = ids.len();
        let ids_t = Tensor::from_slice(ids, tokens, device)?;
        let mut x = self.embed.index_select(&ids_t, 0)?.unsqueeze(0)?;
        let buckets = Tensor::from_vec(
            relative_buckets(
                tokens,
                c.relative_attention_num_buckets,
                c.relative_attention_max_distance,
            ),
            tokens * tokens,
            device,
        )?;
        for layer in &self.layers {
            // The layer's bias for every (query, key) pair: (heads, tokens, tokens).
            let bias = layer
                .relative_bias
                .index_select(&buckets, 0)?
                .reshape((tokens, tokens, c.num_heads))?
                .permute((2, 0, 1))?
                .contiguous()?;
            let h = layer.attention_norm.forward(&x)?;
            let (q, k, v) = (
                layer.q.forward(&h)?,
                layer.k.forward(&h)?,
                layer.v.forward(&h)?,
            );
            let bias = bias.to_dtype(q.dtype())?;
            let attended = ops::attention_biased(&q, &k, &v, Some(&bias), c.num_heads, 1.0)?;
            x = (x + layer.o.forward(&attended)?)?;
            let h = layer.ff_norm.forward(&x)?;
            let gate = layer.wi_0.forward_gelu_tanh(&h)?;
            let ff = layer.wo.forward(&(gate * layer.wi_1.forward(&h)?)?)?;
            x = (x + ff)?;
        }
        Ok(self
            .final_norm
            .forward(&x)?
            .squeeze(0)?
            .to_dtype(DType::F32)?)
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        self.embed.device()
    }
}

/// T5's norm: scaled by the root mean square, no mean removed, no bias; computed in f32.
struct T5Norm {
    weight: Tensor,
    eps: f32,
}

impl T5Norm {
    fn load(w: &Weights, prefix: &str, dim: usize, eps: f64) -> Result<Self> {
        Ok(T5Norm {
            weight: w.get_as(&format!("{prefix}.weight"), &[dim], DType::F32)?,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dtype = x.dtype();
        let x32 = x.to_dtype(DType::F32)?.contiguous()?;
        Ok(candle_nn::ops::rms_norm(&x32, &self.weight, self.eps)?.to_dtype(dtype)?)
    }
}

/// T5's bidirectional relative-position buckets for every (query, key) pair, row-major: exact
/// offsets up to a quarter of the buckets each way, logarithmic bins beyond up to
/// `max_distance`.
fn relative_buckets(tokens: usize, buckets: usize, max_distance: usize) -> Vec<u32> {
    let half = buckets / 2;
    let max_exact = half / 2;
    let mut out = Vec::with_capacity(tokens * tokens);
    for query in 0..tokens {
        for key in 0..tokens {
            let relative = key as i64 - query as i64;
            let mut bucket = if relative > 0 { half } else { 0 };
            let distance = relative.unsigned_abs() as usize;
            bucket += if distance < max_exact {
                distance
            } else {
                // As the reference computes it: in f32, truncated.
                let ratio = (distance as f32 / max_exact as f32).ln()
                    / (max_distance as f64 / max_exact as f64).ln() as f32
                    * (half - max_exact) as f32;
                (max_exact + ratio as usize).min(half - 1)
            };
            out.push(bucket as u32);
        }
    }
    out
}
