//! The layers the networks share, each reading its weights by the diffusers name of its module.

use candle_core::{DType, Tensor};

use crate::error::Result;
use crate::ops::{self, Activation};
use crate::weights::Weights;

/// `torch.nn.Linear`, its weight stored transposed once at load so that every call is one
/// plain matrix product over all leading dimensions.
pub struct Linear {
    weight_t: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    pub fn load(w: &Weights, prefix: &str, input: usize, output: usize) -> Result<Self> {
        let weight = w.get(&format!("{prefix}.weight"), &[output, input])?;
        let bias = w.get(&format!("{prefix}.bias"), &[output])?;
        Ok(Linear {
            weight_t: weight.t()?.contiguous()?,
            bias: Some(bias),
        })
    }

    /// The same, in `dtype` whatever the model's (the parts diffusers keeps in f32).
    pub fn load_as(
        w: &Weights,
        prefix: &str,
        input: usize,
        output: usize,
        dtype: DType,
    ) -> Result<Self> {
        let weight = w.get_as(&format!("{prefix}.weight"), &[output, input], dtype)?;
        let bias = w.get_as(&format!("{prefix}.bias"), &[output], dtype)?;
        Ok(Linear {
            weight_t: weight.t()?.contiguous()?,
            bias: Some(bias),
        })
    }

    pub fn load_no_bias(w: &Weights, prefix: &str, input: usize, output: usize) -> Result<Self> {
        let weight = w.get(&format!("{prefix}.weight"), &[output, input])?;
        Ok(Linear {
            weight_t: weight.t()?.contiguous()?,
            bias: None,
        })
    }

    /// From a weight (output, input) and a bias.
    pub fn from_parts(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        Ok(Linear {
            weight_t: weight.t()?.contiguous()?,
            bias,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        ops::linear(x, &self.weight_t, self.bias.as_ref(), Activation::None)
    }

    /// The product followed by the tanh GELU, in one pass where the kernels allow.
    pub fn forward_gelu_tanh(&self, x: &Tensor) -> Result<Tensor> {
        ops::linear(x, &self.weight_t, self.bias.as_ref(), Activation::GeluTanh)
    }
}

/// `LayerNorm` over the last dimension, computed in f32 as diffusers' `FP32LayerNorm` does, with
/// or without its affine weights.
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    pub fn load(w: &Weights, prefix: &str, dim: usize, eps: f64) -> Result<Self> {
        Ok(LayerNorm {
            weight: w.get_as(&format!("{prefix}.weight"), &[dim], DType::F32)?,
            bias: w.get_as(&format!("{prefix}.bias"), &[dim], DType::F32)?,
            eps: eps as f32,
        })
    }

    pub fn plain(w: &Weights, dim: usize, eps: f64) -> Result<Self> {
        Ok(LayerNorm {
            weight: Tensor::ones(dim, DType::F32, w.device())?,
            bias: Tensor::zeros(dim, DType::F32, w.device())?,
            eps: eps as f32,
        })
    }

    /// The normalised `x` in f32.
    pub fn forward_f32(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.to_dtype(DType::F32)?.contiguous()?;
        Ok(candle_nn::ops::layer_norm(
            &x,
            &self.weight,
            &self.bias,
            self.eps,
        )?)
    }
}

/// `torch.nn.RMSNorm` over the last dimension (in f32, then back to the input's dtype).
pub struct RmsNorm {
    weight: Tensor,
    eps: f32,
}

impl RmsNorm {
    pub fn load(w: &Weights, prefix: &str, dim: usize, eps: f64) -> Result<Self> {
        Ok(RmsNorm {
            weight: w.get_as(&format!("{prefix}.weight"), &[dim], DType::F32)?,
            eps: eps as f32,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dtype = x.dtype();
        let x = x.to_dtype(DType::F32)?.contiguous()?;
        Ok(candle_nn::ops::rms_norm(&x, &self.weight, self.eps)?.to_dtype(dtype)?)
    }
}

/// Softmax attention of `q` (batch, heads, tokens, head_dim) over `k`, `v` (batch, heads, keys,
/// head_dim), scaled by 1/sqrt(head_dim). Queries go in blocks, so the score matrix of a long
/// video (tens of thousands of tokens) never exists whole.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor> {
    let (_, _, tokens, head_dim) = q.dims4()?;
    let keys = k.dim(2)?;
    let q = (q * (1.0 / (head_dim as f64).sqrt()))?;
    let kt = k.t()?;
    // About 64 MiB of scores per block for each batch row and head.
    let block = (16 << 20) / keys.max(1);
    let block = block.clamp(64, tokens.max(64));
    if block >= tokens {
        return Ok(softmax_f32(&q.matmul(&kt)?)?.matmul(v)?);
    }
    let mut parts = Vec::with_capacity(tokens.div_ceil(block));
    let mut start = 0;
    while start < tokens {
        let len = block.min(tokens - start);
        let qb = q.narrow(2, start, len)?;
        parts.push(softmax_f32(&qb.matmul(&kt)?)?.matmul(v)?);
        start += len;
    }
    Ok(Tensor::cat(&parts, 2)?)
}

/// Softmax over the last dimension, summed in f32 whatever the scores' dtype (a bf16 running
/// sum over thousands of keys loses most of its terms), as PyTorch sums it.
pub fn softmax_f32(scores: &Tensor) -> Result<Tensor> {
    let dtype = scores.dtype();
    Ok(candle_nn::ops::softmax_last_dim(&scores.to_dtype(DType::F32)?)?.to_dtype(dtype)?)
}

/// `(1 + scale) * x + shift`, the adaptive norm's modulation, broadcasting the tables over tokens.
pub fn modulate(x: &Tensor, shift: &Tensor, scale: &Tensor) -> Result<Tensor> {
    Ok(x.broadcast_mul(&(scale + 1.0)?)?.broadcast_add(shift)?)
}

/// The exact (erf) GELU.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    Ok(x.gelu_erf()?)
}

pub fn silu(x: &Tensor) -> Result<Tensor> {
    Ok(x.silu()?)
}

/// The `n` tables stacked along `dim` of `x`, each with that dimension dropped.
pub fn tables(x: &Tensor, n: usize, dim: usize) -> Result<Vec<Tensor>> {
    let size = x.dim(dim)? / n;
    (0..n)
        .map(|i| Ok(x.narrow(dim, i * size, size)?.squeeze(dim)?))
        .collect()
}
