//! The parts the encoder and the decoder share.

use candle_core::{D, DType, Tensor};

use crate::error::Result;
use crate::models::layers::silu;
use crate::ops;
use crate::weights::Weights;

/// A convolution causal in time: the output at a frame reads it and the `kt − 1` frames
/// before; before the first frame, zeros. Spatially it pads to keep the size.
#[derive(Clone)]
pub(super) struct CausalConv {
    /// (out, kt·in, kh, kw): the time taps side by side, oldest first.
    pub(super) weight: Tensor,
    /// The same, one (out, in, kh, kw) a tap, for chunks too large to unfold at once.
    pub(super) taps: Vec<Tensor>,
    /// The most this convolution unfolds at once, in bytes.
    pub(super) unfold_budget: usize,
    pub(super) bias: Tensor,
    pub(super) kt: usize,
    pub(super) pad: usize,
    /// The last `kt − 1` input frames (fewer at the start).
    pub(super) cache: Option<Tensor>,
}

impl CausalConv {
    pub(super) fn load(
        w: &Weights,
        prefix: &str,
        input: usize,
        output: usize,
        k: [usize; 3],
    ) -> Result<Self> {
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
    pub(super) fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
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
            // A copy: a view would keep the whole chunk's storage alive until the next one.
            self.cache = Some(seen.narrow(0, seen.dim(0)? - keep, keep)?.copy()?);
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

impl CausalConv {
    /// A temporal downsampler's time convolution: no padding and no cache, and a stride of two
    /// frames, so that output frame `i` reads input frames `2i` to `2i + kt − 1`.
    pub(super) fn forward_stride2(&self, stream: &Tensor) -> Result<Tensor> {
        let frames = stream.dim(0)?;
        if frames < self.kt {
            return Ok(stream.narrow(0, 0, 0)?);
        }
        let out = (frames - self.kt) / 2 + 1;
        let taps: Vec<Tensor> = (0..self.kt)
            .map(|dt| {
                let picks: Vec<u32> = (0..out).map(|i| (2 * i + dt) as u32).collect();
                stream.index_select(&Tensor::new(picks.as_slice(), stream.device())?, 0)
            })
            .collect::<candle_core::Result<_>>()?;
        let bias = self.bias.reshape((1, (), 1, 1))?;
        Ok(Tensor::cat(&taps, 1)?
            .conv2d(&self.weight, self.pad, 1, 1, 1)?
            .broadcast_add(&bias)?)
    }
}

/// The most a convolution unfolds at once by default, in bytes.
pub(super) const UNFOLD_BUDGET: usize = 256 << 20;

/// diffusers' `WanRMS_norm`: each pixel's channel vector scaled to unit length, times
/// √channels and a learnt gain.
#[derive(Clone)]
pub(super) struct ChannelNorm {
    gamma: Tensor,
    scale: f64,
}

impl ChannelNorm {
    pub(super) fn load(w: &Weights, prefix: &str, dim: usize) -> Result<Self> {
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

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dtype = x.dtype();
        let x32 = x.to_dtype(DType::F32)?;
        let norm = x32.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        let y = (x32.broadcast_div(&norm)? * self.scale)?.to_dtype(dtype)?;
        Ok(y.broadcast_mul(&self.gamma)?)
    }
}

#[derive(Clone)]
pub(super) struct Residual {
    pub(super) norm1: ChannelNorm,
    pub(super) conv1: CausalConv,
    pub(super) norm2: ChannelNorm,
    pub(super) conv2: CausalConv,
    pub(super) shortcut: Option<CausalConv>,
}

impl Residual {
    pub(super) fn load(w: &Weights, prefix: &str, input: usize, output: usize) -> Result<Self> {
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

    pub(super) fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
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
#[derive(Clone)]
pub(super) struct AttentionBlock {
    norm: ChannelNorm,
    to_qkv: (Tensor, Tensor),
    proj: (Tensor, Tensor),
}

impl AttentionBlock {
    pub(super) fn load(w: &Weights, prefix: &str, dim: usize) -> Result<Self> {
        Ok(AttentionBlock {
            norm: ChannelNorm::load(w, &format!("{prefix}.norm"), dim)?,
            to_qkv: conv2d_parameters(w, &format!("{prefix}.to_qkv"), dim, 3 * dim, 1)?,
            proj: conv2d_parameters(w, &format!("{prefix}.proj"), dim, dim, 1)?,
        })
    }

    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
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

/// Folds `p`×`p` pixel patches into the channels, frames first: (t, c, h, w) to
/// (t, c·p·p, h/p, w/p), in diffusers' `patchify` order (channel, column, row).
pub(super) fn patchify(x: &Tensor, p: usize) -> Result<Tensor> {
    if p == 1 {
        return Ok(x.clone());
    }
    let (t, c, h, w) = x.dims4()?;
    Ok(x.reshape(vec![t, c, h / p, p, w / p, p])?
        .permute(vec![0, 1, 5, 3, 2, 4])?
        .reshape((t, c * p * p, h / p, w / p))?)
}

/// The inverse of [`patchify`].
pub(super) fn unpatchify(x: &Tensor, p: usize) -> Result<Tensor> {
    if p == 1 {
        return Ok(x.clone());
    }
    let (t, cpp, h, w) = x.dims4()?;
    let c = cpp / (p * p);
    Ok(x.reshape(vec![t, c, p, p, h, w])?
        .permute(vec![0, 1, 4, 3, 5, 2])?
        .reshape((t, c, h * p, w * p))?)
}

/// diffusers' `AvgDown3D`, frames first: `ft`×`fs`×`fs` blocks folded into the channels, then
/// each output channel the mean of its group. A chunk not a multiple of `ft` frames is padded
/// with zero frames in front.
pub(super) fn avg_down(x: &Tensor, out: usize, ft: usize, fs: usize) -> Result<Tensor> {
    let (t, c, h, w) = x.dims4()?;
    let pad = (ft - t % ft) % ft;
    let x = if pad > 0 {
        x.pad_with_zeros(0, pad, 0)?
    } else {
        x.clone()
    };
    let t = t + pad;
    let factor = ft * fs * fs;
    let group = c * factor / out;
    Ok(x.reshape(vec![t / ft, ft, c, h / fs, fs, w / fs, fs])?
        .permute(vec![0, 2, 1, 4, 6, 3, 5])?
        .reshape(vec![t / ft, out, group, h / fs, w / fs])?
        .mean(2)?)
}

/// diffusers' `DupUp3D`, frames first: each channel repeated, then unfolded into `ft`×`fs`×`fs`
/// blocks; the first chunk drops the frames before its one.
pub(super) fn dup_up(
    x: &Tensor,
    out: usize,
    ft: usize,
    fs: usize,
    first_chunk: bool,
) -> Result<Tensor> {
    let (t, c, h, w) = x.dims4()?;
    let repeats = out * ft * fs * fs / c;
    let y = x
        .unsqueeze(2)?
        .broadcast_as(vec![t, c, repeats, h, w])?
        .reshape(vec![t, out, ft, fs, fs, h, w])?
        .permute(vec![0, 2, 1, 5, 3, 6, 4])?
        .reshape((t * ft, out, h * fs, w * fs))?;
    Ok(if first_chunk && ft > 1 {
        y.narrow(0, ft - 1, t * ft - (ft - 1))?
    } else {
        y
    })
}

/// A 2D convolution's weight (out, in, k, k) and its bias, shaped (1, out, 1, 1) to broadcast.
pub(super) fn conv2d_parameters(
    w: &Weights,
    prefix: &str,
    input: usize,
    output: usize,
    k: usize,
) -> Result<(Tensor, Tensor)> {
    Ok((
        w.get(&format!("{prefix}.weight"), &[output, input, k, k])?,
        w.get(&format!("{prefix}.bias"), &[output])?
            .reshape((1, output, 1, 1))?,
    ))
}

/// `f` over the chunk `x` (frames, ..) at once, or a frame at a time when `unfolded` (what `f`
/// would unfold the whole chunk into, in bytes) is over `budget`; the results in order.
pub(super) fn by_frames(
    x: &Tensor,
    unfolded: usize,
    budget: usize,
    f: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
) -> Result<Tensor> {
    let frames = x.dim(0)?;
    if unfolded <= budget {
        return Ok(f(x)?);
    }
    let parts = (0..frames)
        .map(|i| f(&x.narrow(0, i, 1)?))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(Tensor::cat(&parts, 0)?)
}
