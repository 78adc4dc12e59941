//! The transformer's heavy operations, each on reel's fused CPU kernels for f32 on the CPU, and
//! on candle's generic operations everywhere else (CUDA, half precision).

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor, bail};
use rayon::prelude::*;
use reel_runtime::kernels::{self, AttentionShape, Operand, Parallelism, f32_slice};

use crate::error::Result;

fn on_cpu_f32(tensors: &[&Tensor]) -> bool {
    tensors
        .iter()
        .all(|t| t.device().is_cpu() && t.dtype() == DType::F32)
}

/// What follows the product in the same pass.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    None,
    GeluTanh,
}

/// `x · wᵀ + bias`, then the activation; `weight_t` is the transposed weight (input, output).
pub fn linear(
    x: &Tensor,
    weight_t: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    let dims = x.dims();
    let input = dims[dims.len() - 1];
    let rows = x.elem_count() / input;
    let output = weight_t.dim(1)?;
    let mut shape = dims.to_vec();
    *shape.last_mut().expect("a last dimension") = output;
    let x2 = x.reshape((rows, input))?;
    if let Some(bias) = bias.filter(|b| on_cpu_f32(&[x, weight_t, b])) {
        let op = LinearOp { activation };
        return Ok(x2
            .contiguous()?
            .apply_op3_no_bwd(weight_t, bias, &op)?
            .reshape(shape)?);
    }
    let mut y = x2.matmul(weight_t)?;
    if let Some(b) = bias {
        y = y.broadcast_add(b)?;
    }
    if activation == Activation::GeluTanh {
        y = y.gelu()?;
    }
    Ok(y.reshape(shape)?)
}

struct LinearOp {
    activation: Activation,
}

impl CustomOp3 for LinearOp {
    fn name(&self) -> &'static str {
        "reel-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, w, bias) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?, f32_slice(s3, l3)?);
        let (rows, input) = l1.shape().dims2()?;
        let (w_in, output) = l2.shape().dims2()?;
        if w_in != input || bias.len() != output {
            bail!(
                "linear: input {:?}, weight {:?}, bias {}",
                l1.dims(),
                l2.dims(),
                bias.len()
            );
        }
        // The bias first, then the product added onto it: no separate pass for it.
        let mut out: Vec<f32> = Vec::with_capacity(rows * output);
        for _ in 0..rows {
            out.extend_from_slice(bias);
        }
        kernels::matmul(
            (rows, output, input),
            (&mut out, output),
            true,
            Operand::rows(x, input),
            Operand::rows(w, output),
            1.0,
            Parallelism::Rayon(0),
        );
        if self.activation == Activation::GeluTanh {
            out.par_chunks_mut(output.max(1) * 16)
                .for_each(kernels::gelu_tanh_in_place);
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, output))))
    }
}

/// Rotary positions on `x` (batch, tokens, heads·head_dim), each head's consecutive pairs
/// rotated by the token's angles; `cos` and `sin` are (tokens, head_dim / 2).
pub fn rope_interleaved(x: &Tensor, cos: &Tensor, sin: &Tensor, heads: usize) -> Result<Tensor> {
    if on_cpu_f32(&[x, cos, sin]) {
        return Ok(x
            .contiguous()?
            .apply_op3_no_bwd(cos, sin, &RopeOp { heads })?);
    }
    // In f32, rounded once at the end, as diffusers multiplies by its f32 tables.
    let (b, s, width) = x.dims3()?;
    let split = x
        .to_dtype(DType::F32)?
        .reshape((b, s, heads, width / heads))?
        .transpose(1, 2)?
        .contiguous()?;
    let rotated = candle_nn::rotary_emb::rope_i(&split, cos, sin)?;
    Ok(rotated
        .transpose(1, 2)?
        .reshape((b, s, width))?
        .to_dtype(x.dtype())?)
}

struct RopeOp {
    heads: usize,
}

impl CustomOp3 for RopeOp {
    fn name(&self) -> &'static str {
        "reel-rope-interleaved"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, cos, sin) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?, f32_slice(s3, l3)?);
        let (_, tokens, width) = l1.shape().dims3()?;
        let half = width / self.heads / 2;
        if cos.len() != tokens * half || sin.len() != tokens * half {
            bail!(
                "rope: {tokens} tokens of {width} against tables of {}",
                cos.len()
            );
        }
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(width)
            .zip(x.par_chunks(width))
            .enumerate()
            .for_each(|(row, (dst, src))| {
                let t = row % tokens;
                let (c, s) = (
                    &cos[t * half..(t + 1) * half],
                    &sin[t * half..(t + 1) * half],
                );
                for (dst, src) in dst
                    .chunks_exact_mut(2 * half)
                    .zip(src.chunks_exact(2 * half))
                {
                    for j in 0..half {
                        let (x1, x2) = (src[2 * j], src[2 * j + 1]);
                        dst[2 * j] = x1 * c[j] - x2 * s[j];
                        dst[2 * j + 1] = x1 * s[j] + x2 * c[j];
                    }
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// Softmax attention, scaled by 1/√head_dim, of `q` (batch, tokens, heads·head_dim) over `k`
/// and `v` (batch, keys, heads·head_dim); the result in `q`'s layout.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, heads: usize) -> Result<Tensor> {
    let head_dim = q.dim(2)? / heads;
    attention_biased(q, k, v, None, heads, 1.0 / (head_dim as f32).sqrt())
}

/// Attention with a given score scale and an additive score bias (heads, tokens, keys).
pub fn attention_biased(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    heads: usize,
    scale: f32,
) -> Result<Tensor> {
    let (b, s, width) = q.dims3()?;
    let head_dim = width / heads;
    if on_cpu_f32(&[q, k, v]) && bias.is_none_or(|b| on_cpu_f32(&[b])) {
        let (q, k, v) = (q.contiguous()?, k.contiguous()?, v.contiguous()?);
        let bias = bias.map(|b| b.contiguous()).transpose()?;
        return Ok(q.apply_op3_no_bwd(&k, &v, &AttentionOp { heads, scale, bias })?);
    }
    let split = |t: &Tensor| -> Result<Tensor> {
        let (b, s, _) = t.dims3()?;
        Ok(t.reshape((b, s, heads, head_dim))?
            .transpose(1, 2)?
            .contiguous()?)
    };
    let out = match bias {
        None => {
            let q = (split(q)? * (scale as f64 * (head_dim as f64).sqrt()))?;
            crate::models::layers::attention(&q, &split(k)?, &split(v)?)?
        }
        Some(bias) => {
            let scores = (split(q)?.matmul(&split(k)?.t()?)? * scale as f64)?;
            let scores = scores.broadcast_add(&bias.to_dtype(scores.dtype())?.unsqueeze(0)?)?;
            crate::models::layers::softmax_f32(&scores)?.matmul(&split(v)?)?
        }
    };
    Ok(out.transpose(1, 2)?.reshape((b, s, width))?)
}

struct AttentionOp {
    heads: usize,
    scale: f32,
    bias: Option<Tensor>,
}

impl CustomOp3 for AttentionOp {
    fn name(&self) -> &'static str {
        "reel-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (q, k, v) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?, f32_slice(s3, l3)?);
        let (batch, queries, width) = l1.shape().dims3()?;
        let (kb, keys, kw) = l2.shape().dims3()?;
        if kb != batch || kw != width || l3.dims() != l2.dims() {
            bail!(
                "attention: q {:?}, k {:?}, v {:?}",
                l1.dims(),
                l2.dims(),
                l3.dims()
            );
        }
        let head_dim = width / self.heads;
        let shape = AttentionShape {
            batch,
            heads: self.heads,
            queries,
            keys,
            head_dim,
        };
        let mut out = vec![0f32; q.len()];
        match &self.bias {
            None => kernels::attention(q, k, v, None, &mut out, shape, self.scale),
            Some(bias) => {
                let (storage, layout) = bias.storage_and_layout();
                let candle_core::Storage::Cpu(storage) = &*storage else {
                    bail!("attention: the bias is not on the CPU");
                };
                let bias = f32_slice(storage, layout)?;
                kernels::attention(q, k, v, Some(bias), &mut out, shape, self.scale);
            }
        }
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}
