//! Convolutions for training and running swap models on the CPU.
//!
//! candle's CPU backward pass of a convolution runs a direct transposed convolution for the input
//! gradient and a convolution whose kernel is the whole gradient map for the weight gradient;
//! together they took most of a training iteration. Here each image is unfolded once (im2col)
//! and every pass, forward or backward, is one matrix product per image. A nearest-neighbour 2x
//! upsampling of the input is folded into the unfolding, so the decoder's "upsample, then
//! convolve" never materialises the upsampled map. On CUDA the layers use candle's own kernels.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, D, Layout, Module, Result, Shape, Tensor, bail,
};
use candle_nn::{Init, VarBuilder};
use rayon::prelude::*;
use reel_runtime::kernels::{Operand, Parallelism, f32_slice, matmul, with_scratch};

/// Marks a kernel tap that falls in the zero padding.
const PAD: u32 = u32::MAX;

/// The output positions of one kernel tap that read inside the input (taps are monotonic, so
/// the padding lies at the two ends).
fn inside(taps: &[u32]) -> std::ops::Range<usize> {
    let start = taps.iter().position(|&t| t != PAD).unwrap_or(taps.len());
    let end = taps
        .iter()
        .rposition(|&t| t != PAD)
        .map_or(start, |i| i + 1);
    start..end
}

#[derive(Clone, Copy, Debug)]
struct Geometry {
    kernel: usize,
    stride: usize,
    padding: usize,
    /// 1, or 2 to convolve the input upsampled 2x (nearest neighbour).
    upsample: usize,
}

/// The sizes of one call.
#[derive(Clone, Copy, Debug)]
struct Dims {
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    out_h: usize,
    out_w: usize,
}

impl Dims {
    fn patch(&self, g: &Geometry) -> usize {
        self.c_in * g.kernel * g.kernel
    }
    fn positions(&self) -> usize {
        self.out_h * self.out_w
    }
}

impl Geometry {
    fn output_size(&self, size: usize) -> Result<usize> {
        let padded = size * self.upsample + 2 * self.padding;
        if padded < self.kernel {
            bail!("convolution input of {size} px is smaller than its kernel");
        }
        Ok((padded - self.kernel) / self.stride + 1)
    }

    fn dims(&self, input: &[usize], c_out: usize) -> Result<Dims> {
        let &[n, c_in, h, w] = input else {
            bail!("convolution input must be (N, C, H, W), not {input:?}");
        };
        Ok(Dims {
            n,
            c_in,
            h,
            w,
            c_out,
            out_h: self.output_size(h)?,
            out_w: self.output_size(w)?,
        })
    }

    /// For each kernel tap and output coordinate, the input coordinate read (PAD in the padding).
    fn taps(&self, in_size: usize, out_size: usize) -> Vec<u32> {
        let virtual_size = (in_size * self.upsample) as isize;
        let mut taps = Vec::with_capacity(self.kernel * out_size);
        for t in 0..self.kernel {
            for o in 0..out_size {
                let i = (o * self.stride + t) as isize - self.padding as isize;
                taps.push(if (0..virtual_size).contains(&i) {
                    (i as usize / self.upsample) as u32
                } else {
                    PAD
                });
            }
        }
        taps
    }

    /// Unfolds one image (C, H, W) into columns (C*K*K, OH*OW).
    fn unfold(&self, d: &Dims, ys: &[u32], xs: &[u32], image: &[f32], col: &mut [f32]) {
        let (k, positions) = (self.kernel, d.positions());
        for (c, plane) in image.chunks_exact(d.h * d.w).enumerate() {
            for ky in 0..k {
                for kx in 0..k {
                    let row = &mut col[((c * k + ky) * k + kx) * positions..][..positions];
                    let xt = &xs[kx * d.out_w..][..d.out_w];
                    let inside = inside(xt);
                    for (oy, dst) in row.chunks_exact_mut(d.out_w).enumerate() {
                        let sy = ys[ky * d.out_h + oy];
                        if sy == PAD {
                            dst.fill(0.0);
                            continue;
                        }
                        let src = &plane[sy as usize * d.w..][..d.w];
                        dst[..inside.start].fill(0.0);
                        dst[inside.end..].fill(0.0);
                        for (o, &sx) in dst[inside.clone()].iter_mut().zip(&xt[inside.clone()]) {
                            *o = src[sx as usize];
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `unfold`: adds columns back onto one image's gradient.
    fn fold(&self, d: &Dims, ys: &[u32], xs: &[u32], col: &[f32], image: &mut [f32]) {
        let (k, positions) = (self.kernel, d.positions());
        for (c, plane) in image.chunks_exact_mut(d.h * d.w).enumerate() {
            for ky in 0..k {
                for kx in 0..k {
                    let row = &col[((c * k + ky) * k + kx) * positions..][..positions];
                    let xt = &xs[kx * d.out_w..][..d.out_w];
                    let inside = inside(xt);
                    for (oy, src) in row.chunks_exact(d.out_w).enumerate() {
                        let sy = ys[ky * d.out_h + oy];
                        if sy == PAD {
                            continue;
                        }
                        let dst = &mut plane[sy as usize * d.w..][..d.w];
                        for (&v, &sx) in src[inside.clone()].iter().zip(&xt[inside.clone()]) {
                            dst[sx as usize] += v;
                        }
                    }
                }
            }
        }
    }
}

/// Images in parallel when there are enough of them, else each product in parallel.
fn split(images: usize) -> Parallelism {
    if images >= rayon::current_num_threads() {
        Parallelism::None
    } else {
        Parallelism::Rayon(0)
    }
}

/// Runs `run` on each image's slice of `src` and of `dst` (`src_len` and `dst_len` values an
/// image), the images spread over the threads.
fn per_image(
    src: &[f32],
    src_len: usize,
    dst: &mut [f32],
    dst_len: usize,
    run: impl Fn((&[f32], &mut [f32])) + Sync + Send,
) {
    src.par_chunks_exact(src_len)
        .zip(dst.par_chunks_exact_mut(dst_len))
        .with_max_len(1)
        .for_each(run);
}

/// Forward: (input, weight, bias) -> activation(convolution + bias), the activation a leaky
/// ReLU of the given slope, or none.
struct Forward {
    geometry: Geometry,
    slope: Option<f32>,
}

/// The gradient through a leaky ReLU, from its output: (output, gradient) -> gradient.
struct LeakyReluGrad(f32);

/// Input gradient: (output gradient, weight) -> input gradient, for an input of `size`.
struct InputGrad {
    geometry: Geometry,
    size: (usize, usize),
}

/// Weight gradient: (input, output gradient) -> weight gradient.
struct WeightGrad(Geometry);

impl CustomOp3 for Forward {
    fn name(&self) -> &'static str {
        "reel-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = &self.geometry;
        let (input, weight, bias) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?, f32_slice(s3, l3)?);
        let d = g.dims(l1.dims(), l2.dims()[0])?;
        let (patch, positions) = (d.patch(g), d.positions());
        if weight.len() != d.c_out * patch || bias.len() != d.c_out {
            bail!(
                "convolution weight {:?} does not fit input {:?}",
                l2.dims(),
                l1.dims()
            );
        }
        let (ys, xs) = (g.taps(d.h, d.out_h), g.taps(d.w, d.out_w));
        let mut out = vec![0f32; d.n * d.c_out * positions];
        let par = split(d.n);
        let run = |(image, dst): (&[f32], &mut [f32])| {
            with_scratch(patch * positions, |col| {
                g.unfold(&d, &ys, &xs, image, col);
                matmul(
                    (d.c_out, positions, patch),
                    (dst, positions),
                    false,
                    Operand::rows(weight, patch),
                    Operand::rows(col, positions),
                    1.0,
                    par,
                );
            });
            // Bias and activation while the image's output is still in cache.
            for (plane, &b) in dst.chunks_exact_mut(positions).zip(bias) {
                match self.slope {
                    Some(slope) => plane.iter_mut().for_each(|v| {
                        let x = *v + b;
                        *v = if x > 0.0 { x } else { x * slope };
                    }),
                    None => plane.iter_mut().for_each(|v| *v += b),
                }
            }
        };
        per_image(
            input,
            d.c_in * d.h * d.w,
            &mut out,
            d.c_out * positions,
            run,
        );
        Ok((
            CpuStorage::F32(out),
            Shape::from((d.n, d.c_out, d.out_h, d.out_w)),
        ))
    }

    fn bwd(
        &self,
        input: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        output: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = match self.slope {
            Some(slope) => output.apply_op2_no_bwd(&grad.contiguous()?, &LeakyReluGrad(slope))?,
            None => grad.contiguous()?,
        };
        let (_, _, h, w) = input.dims4()?;
        // The first layer's input is the data: no gradient to compute there.
        let grad_input = if input.track_op() {
            Some(grad.apply_op2_no_bwd(
                weight,
                &InputGrad {
                    geometry: self.geometry,
                    size: (h, w),
                },
            )?)
        } else {
            None
        };
        let grad_weight = input.apply_op2_no_bwd(&grad, &WeightGrad(self.geometry))?;
        let grad_bias = grad.sum(D::Minus1)?.sum(D::Minus1)?.sum(0)?;
        Ok((grad_input, Some(grad_weight), Some(grad_bias)))
    }
}

impl CustomOp2 for LeakyReluGrad {
    fn name(&self) -> &'static str {
        "reel-leaky-relu-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (output, grad) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        let slope = self.0;
        // The output has the sign of the input (slope > 0), so it tells which side was taken.
        let out = output
            .par_iter()
            .zip(grad)
            .map(|(&y, &g)| if y > 0.0 { g } else { g * slope })
            .collect();
        Ok((CpuStorage::F32(out), l2.shape().clone()))
    }
}

impl CustomOp2 for InputGrad {
    fn name(&self) -> &'static str {
        "reel-conv2d-input-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = &self.geometry;
        let (grad, weight) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        let &[n, c_out, _, _] = l1.dims() else {
            bail!("convolution gradient must be 4-D");
        };
        let c_in = l2.dims()[1];
        let d = g.dims(&[n, c_in, self.size.0, self.size.1], c_out)?;
        let (patch, positions) = (d.patch(g), d.positions());
        let (ys, xs) = (g.taps(d.h, d.out_h), g.taps(d.w, d.out_w));
        let mut out = vec![0f32; n * c_in * d.h * d.w];
        let par = split(n);
        let run = |(g_out, dst): (&[f32], &mut [f32])| {
            with_scratch(patch * positions, |col| {
                matmul(
                    (patch, positions, c_out),
                    (col, positions),
                    false,
                    Operand::transposed(weight, patch),
                    Operand::rows(g_out, positions),
                    1.0,
                    par,
                );
                g.fold(&d, &ys, &xs, col, dst);
            })
        };
        per_image(grad, c_out * positions, &mut out, c_in * d.h * d.w, run);
        Ok((CpuStorage::F32(out), Shape::from((n, c_in, d.h, d.w))))
    }
}

impl CustomOp2 for WeightGrad {
    fn name(&self) -> &'static str {
        "reel-conv2d-weight-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = &self.0;
        let (input, grad) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        let d = g.dims(l1.dims(), l2.dims()[1])?;
        let (patch, positions) = (d.patch(g), d.positions());
        let (ys, xs) = (g.taps(d.h, d.out_h), g.taps(d.w, d.out_w));
        let par = split(d.n);
        let accumulate = |mut acc: Vec<f32>, (image, g_out): (&[f32], &[f32])| {
            with_scratch(patch * positions, |col| {
                g.unfold(&d, &ys, &xs, image, col);
                matmul(
                    (d.c_out, patch, positions),
                    (&mut acc, patch),
                    true,
                    Operand::rows(g_out, positions),
                    Operand::transposed(col, positions),
                    1.0,
                    par,
                );
            });
            acc
        };
        let start = || vec![0f32; d.c_out * patch];
        let images = input.par_chunks_exact(d.c_in * d.h * d.w);
        let grads = grad.par_chunks_exact(d.c_out * positions);
        let out = if matches!(par, Parallelism::None) {
            images
                .zip(grads)
                .fold(start, accumulate)
                .reduce_with(|mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                })
                .unwrap_or_else(start)
        } else {
            let images = input.chunks_exact(d.c_in * d.h * d.w);
            images
                .zip(grad.chunks_exact(d.c_out * positions))
                .fold(start(), accumulate)
        };
        Ok((
            CpuStorage::F32(out),
            Shape::from((d.c_out, d.c_in, g.kernel, g.kernel)),
        ))
    }
}

/// A 2-D convolution layer with bias, its weights named as candle_nn's (`weight`, `bias`).
pub struct Conv {
    weight: Tensor,
    bias: Tensor,
    geometry: Geometry,
    /// A leaky ReLU of this slope after the bias, or none.
    slope: Option<f32>,
}

impl Conv {
    /// A square `kernel` convolution; `upsample` 2 convolves the input upsampled 2x; `slope`
    /// adds a leaky ReLU.
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        (stride, padding, upsample): (usize, usize, usize),
        slope: Option<f32>,
        vb: VarBuilder,
    ) -> Result<Conv> {
        let weight = vb.get_with_hints(
            (c_out, c_in, kernel, kernel),
            "weight",
            candle_nn::init::DEFAULT_KAIMING_NORMAL,
        )?;
        let bound = 1.0 / (c_in as f64).sqrt();
        let bias = vb.get_with_hints(
            c_out,
            "bias",
            Init::Uniform {
                lo: -bound,
                up: bound,
            },
        )?;
        Ok(Conv {
            weight,
            bias,
            geometry: Geometry {
                kernel,
                stride,
                padding,
                upsample,
            },
            slope,
        })
    }
}

impl Module for Conv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let g = self.geometry;
        if x.device().is_cpu() {
            let op = Forward {
                geometry: g,
                slope: self.slope,
            };
            return x.contiguous()?.apply_op3(&self.weight, &self.bias, op);
        }
        let y = {
            let (_, _, h, w) = x.dims4()?;
            let x = if g.upsample > 1 {
                x.upsample_nearest2d(h * g.upsample, w * g.upsample)?
            } else {
                x.clone()
            };
            x.conv2d(&self.weight, g.padding, g.stride, 1, 1)?
        };
        let y = y.broadcast_add(&self.bias.reshape((1, (), 1, 1))?)?;
        match self.slope {
            Some(slope) => candle_nn::ops::leaky_relu(&y, slope as f64),
            None => Ok(y),
        }
    }
}

/// A Gaussian blur of every channel with zero padding (output the size of the input). With
/// symmetric taps and zero padding the operator is its own adjoint, so the backward pass is the
/// same blur.
struct Blur(Vec<f32>);

impl CustomOp1 for Blur {
    fn name(&self) -> &'static str {
        "reel-gaussian-blur"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l)?;
        let &[.., h, w] = l.dims() else {
            bail!("blur expects an image tensor");
        };
        let taps = &self.0;
        let r = taps.len() / 2;
        let mut out = vec![0f32; x.len()];
        out.par_chunks_exact_mut(h * w)
            .zip(x.par_chunks_exact(h * w))
            .for_each_init(
                || vec![0f32; h * w],
                |tmp, (dst, src)| {
                    for (t_row, s_row) in tmp.chunks_exact_mut(w).zip(src.chunks_exact(w)) {
                        for (x, t) in t_row.iter_mut().enumerate() {
                            let lo = x.saturating_sub(r);
                            let hi = (x + r).min(w - 1);
                            *t = (lo..=hi).map(|i| s_row[i] * taps[i + r - x]).sum();
                        }
                    }
                    for y in 0..h {
                        let d_row = &mut dst[y * w..][..w];
                        for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                            let tap = taps[yy + r - y];
                            for (d, t) in d_row.iter_mut().zip(&tmp[yy * w..][..w]) {
                                *d += tap * t;
                            }
                        }
                    }
                },
            );
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad.contiguous()?.apply_op1_no_bwd(self)?))
    }
}

/// Blurs each channel of (N, C, H, W) with a normalised Gaussian of `sigma` and `radius`.
pub fn gaussian_blur(x: &Tensor, sigma: f32, radius: usize) -> Result<Tensor> {
    let taps: Vec<f32> = (0..=2 * radius)
        .map(|i| (-((i as f32 - radius as f32).powi(2)) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = taps.iter().sum();
    let taps: Vec<f32> = taps.iter().map(|t| t / total).collect();
    if x.device().is_cpu() {
        return x.contiguous()?.apply_op1(Blur(taps));
    }
    let c = x.dim(1)?;
    let size = taps.len();
    let window: Vec<f32> = (0..c)
        .flat_map(|_| (0..size * size).map(|k| taps[k / size] * taps[k % size]))
        .collect();
    let window = Tensor::from_vec(window, (c, 1, size, size), x.device())?;
    x.conv2d(&window, radius, 1, 1, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn random(shape: &[usize], seed: u64) -> Tensor {
        let mut state = seed;
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn max_difference(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    /// Forward and all gradients against candle's own convolution, bias and leaky ReLU, for
    /// every geometry the models use, with batches that take both the per-image and the
    /// per-product split.
    #[test]
    fn matches_candle_convolution_and_its_gradients() {
        for (kernel, stride, padding, upsample, n, slope) in [
            (5, 2, 2, 1, 3, Some(0.1)),
            (3, 1, 1, 2, 1, Some(0.1)),
            (3, 1, 1, 2, 4, Some(0.2)),
            (5, 1, 2, 1, 2, None),
            (3, 1, 1, 1, 5, None),
        ] {
            let (c_in, c_out, size) = (3, 4, 9);
            let x = Var::from_tensor(&random(&[n, c_in, size, size], 1)).unwrap();
            let w = Var::from_tensor(&random(&[c_out, c_in, kernel, kernel], 2)).unwrap();
            let b = Var::from_tensor(&random(&[c_out], 3)).unwrap();
            let op = Forward {
                geometry: Geometry {
                    kernel,
                    stride,
                    padding,
                    upsample,
                },
                slope,
            };
            let ours = x
                .as_tensor()
                .apply_op3(w.as_tensor(), b.as_tensor(), op)
                .unwrap();
            let up = x
                .as_tensor()
                .upsample_nearest2d(size * upsample, size * upsample)
                .unwrap();
            let reference = up
                .conv2d(w.as_tensor(), padding, stride, 1, 1)
                .unwrap()
                .broadcast_add(&b.as_tensor().reshape((1, c_out, 1, 1)).unwrap())
                .unwrap();
            let reference = match slope {
                Some(s) => candle_nn::ops::leaky_relu(&reference, s as f64).unwrap(),
                None => reference,
            };
            assert_eq!(ours.dims(), reference.dims());
            assert!(max_difference(&ours, &reference) < 1e-5);
            // A loss that weights every output differently, so each gradient entry is checked.
            let weights = random(ours.dims(), 4);
            let grads_ours = (ours * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let grads_ref = (reference * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for var in [&x, &w, &b] {
                let (a, b) = (
                    grads_ours.get(var.as_tensor()).unwrap(),
                    grads_ref.get(var.as_tensor()).unwrap(),
                );
                assert!(max_difference(a, b) < 1e-4, "{kernel} {stride} {upsample}");
            }
        }
    }

    #[test]
    fn blur_is_normalised_and_self_adjoint() {
        let x = random(&[2, 3, 11, 8], 4);
        let y = random(&[2, 3, 11, 8], 5);
        let bx = gaussian_blur(&x, 1.5, 3).unwrap();
        let by = gaussian_blur(&y, 1.5, 3).unwrap();
        // <Bx, y> = <x, By>
        let a: f32 = (&bx * &y).unwrap().sum_all().unwrap().to_scalar().unwrap();
        let b: f32 = (&x * &by).unwrap().sum_all().unwrap().to_scalar().unwrap();
        assert!((a - b).abs() < 1e-4);
        // A constant image stays constant away from the borders.
        let ones = Tensor::ones((1, 1, 9, 9), candle_core::DType::F32, &Device::Cpu).unwrap();
        let centre: f32 = gaussian_blur(&ones, 1.5, 3)
            .unwrap()
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .get(4)
            .unwrap()
            .get(4)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!((centre - 1.0).abs() < 1e-5);
    }
}
