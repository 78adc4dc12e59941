//! Convolutions for training and running swap models on the CPU.
//!
//! Each image is unfolded (im2col) a band of output rows at a time, so that the band's columns
//! are still in cache when the matrix product reads them, and every pass, forward or backward,
//! is one product per band. A decoder layer ("upsample 2x by nearest neighbour, then a 3x3
//! convolution") is computed as four 2x2 convolutions of the input as it is, one for each pixel
//! of every 2x2 output block: there the 3x3 kernel reads only two distinct input rows and
//! columns, so its taps merge into a 2x2 kernel. That is 16 multiplies an output value where
//! the upsampled map costs 36, and the upsampled map never exists. On CUDA the layers use
//! candle's own kernels.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, D, Layout, Module, Result, Shape, Tensor, bail,
};
use candle_nn::{Init, VarBuilder};
use rayon::prelude::*;
use reel_runtime::kernels::{Operand, Parallelism, f32_slice, matmul, with_scratch};
use std::borrow::Cow;

/// Marks a kernel tap that falls in the zero padding.
const PAD: u32 = u32::MAX;

/// The unfolded columns of one band, in floats: a quarter of a core's L2 cache, leaving room
/// for the product's packed operands.
const BAND_FLOATS: usize = 32 * 1024;

/// The fewest output positions a band holds: the product's microkernel spans 16.
const MIN_BAND_POSITIONS: usize = 256;

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

/// A layer as the model describes it.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    kernel: usize,
    stride: usize,
    padding: usize,
    /// 1, or 2 to convolve the input upsampled 2x (nearest neighbour).
    upsample: usize,
}

/// For an upsampled 3x3 layer, the 3x3 taps each 2x2 tap sums, by the output pixel's position
/// in its 2x2 block (even or odd) and the 2x2 tap. At an even row the 3x3 kernel's rows read
/// input rows i-1, i, i; at an odd row i, i, i+1.
const MERGED: [[&[usize]; 2]; 2] = [[&[0], &[1, 2]], [&[0, 1], &[2]]];

/// One plain convolution a layer is computed as, with where its output lands: its pixel (y, x)
/// is the layer's (y * step + dy, x * step + dx).
#[derive(Clone, Copy, Debug)]
struct Pass {
    kernel: usize,
    stride: usize,
    /// Zero rows before and after the input, and zero columns.
    pad_y: (usize, usize),
    pad_x: (usize, usize),
    step: usize,
    dy: usize,
    dx: usize,
}

/// The sizes of one call, for one pass.
#[derive(Clone, Copy, Debug)]
struct Dims {
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    out_h: usize,
    out_w: usize,
}

impl Dims {
    fn patch(&self, kernel: usize) -> usize {
        self.c_in * kernel * kernel
    }
    fn positions(&self) -> usize {
        self.out_h * self.out_w
    }
}

impl Geometry {
    /// The plain convolutions that compute this layer.
    fn passes(&self) -> Result<Vec<Pass>> {
        match self.upsample {
            1 => Ok(vec![Pass {
                kernel: self.kernel,
                stride: self.stride,
                pad_y: (self.padding, self.padding),
                pad_x: (self.padding, self.padding),
                step: 1,
                dy: 0,
                dx: 0,
            }]),
            2 if self.kernel == 3 && self.padding == 1 && self.stride == 1 => {
                let pad = |odd: usize| if odd == 0 { (1, 0) } else { (0, 1) };
                Ok((0..4)
                    .map(|p| Pass {
                        kernel: 2,
                        stride: 1,
                        pad_y: pad(p / 2),
                        pad_x: pad(p % 2),
                        step: 2,
                        dy: p / 2,
                        dx: p % 2,
                    })
                    .collect())
            }
            _ => bail!("an upsampling convolution must be 3x3, padding 1, stride 1: {self:?}"),
        }
    }

    fn output_size(&self, size: usize) -> Result<usize> {
        let padded = size * self.upsample + 2 * self.padding;
        if padded < self.kernel {
            bail!("convolution input of {size} px is smaller than its kernel");
        }
        Ok((padded - self.kernel) / self.stride + 1)
    }

    /// Each pass's weights (C_out, C_in, k, k) from the layer's.
    fn pass_weights<'a>(
        &self,
        weight: &'a [f32],
        c_out: usize,
        c_in: usize,
    ) -> Vec<Cow<'a, [f32]>> {
        if self.upsample == 1 {
            return vec![Cow::Borrowed(weight)];
        }
        (0..4)
            .map(|p| {
                let (ry, rx) = (MERGED[p / 2], MERGED[p % 2]);
                let mut merged = vec![0f32; c_out * c_in * 4];
                for (dst, src) in merged.chunks_exact_mut(4).zip(weight.chunks_exact(9)) {
                    for (tap, d) in dst.iter_mut().enumerate() {
                        *d = ry[tap / 2]
                            .iter()
                            .flat_map(|&ky| rx[tap % 2].iter().map(move |&kx| src[ky * 3 + kx]))
                            .sum();
                    }
                }
                Cow::Owned(merged)
            })
            .collect()
    }

    /// The adjoint of `pass_weights`: the passes' weight gradients added into the layer's.
    fn merge_gradients(&self, passes: &[f32], c_out: usize, c_in: usize) -> Vec<f32> {
        if self.upsample == 1 {
            return passes.to_vec();
        }
        let mut out = vec![0f32; c_out * c_in * 9];
        for (p, grads) in passes.chunks_exact(c_out * c_in * 4).enumerate() {
            let (ry, rx) = (MERGED[p / 2], MERGED[p % 2]);
            for (dst, src) in out.chunks_exact_mut(9).zip(grads.chunks_exact(4)) {
                for (tap, &g) in src.iter().enumerate() {
                    for &ky in ry[tap / 2] {
                        for &kx in rx[tap % 2] {
                            dst[ky * 3 + kx] += g;
                        }
                    }
                }
            }
        }
        out
    }
}

impl Pass {
    fn output_size(&self, size: usize, (before, after): (usize, usize)) -> Result<usize> {
        let padded = size + before + after;
        if padded < self.kernel {
            bail!("convolution input of {size} px is smaller than its kernel");
        }
        Ok((padded - self.kernel) / self.stride + 1)
    }

    fn dims(&self, c_in: usize, (h, w): (usize, usize), c_out: usize) -> Result<Dims> {
        Ok(Dims {
            c_in,
            h,
            w,
            c_out,
            out_h: self.output_size(h, self.pad_y)?,
            out_w: self.output_size(w, self.pad_x)?,
        })
    }

    /// For each kernel tap and output coordinate, the input coordinate read (PAD in the padding).
    fn taps(&self, in_size: usize, out_size: usize, before: usize) -> Vec<u32> {
        let mut taps = Vec::with_capacity(self.kernel * out_size);
        for t in 0..self.kernel {
            for o in 0..out_size {
                let i = (o * self.stride + t) as isize - before as isize;
                taps.push(if (0..in_size as isize).contains(&i) {
                    i as u32
                } else {
                    PAD
                });
            }
        }
        taps
    }

    /// Output rows a band holds: as many as keep its columns in cache, but never so few that
    /// the product runs short rows.
    fn band_rows(&self, d: &Dims) -> usize {
        let cached = BAND_FLOATS / (d.patch(self.kernel) * d.out_w).max(1);
        let enough = MIN_BAND_POSITIONS.div_ceil(d.out_w.max(1));
        cached.max(enough).clamp(1, d.out_h.max(1))
    }

    /// Unfolds output rows `rows` of one image (C, H, W) into columns (C*K*K, rows * OW).
    fn unfold(
        &self,
        d: &Dims,
        (ys, xs): (&[u32], &[u32]),
        image: &[f32],
        rows: std::ops::Range<usize>,
        col: &mut [f32],
    ) {
        let k = self.kernel;
        let band = rows.len() * d.out_w;
        for (c, plane) in image.chunks_exact(d.h * d.w).enumerate() {
            for ky in 0..k {
                for kx in 0..k {
                    let row = &mut col[((c * k + ky) * k + kx) * band..][..band];
                    let xt = &xs[kx * d.out_w..][..d.out_w];
                    let inside = inside(xt);
                    for (oy, dst) in rows.clone().zip(row.chunks_exact_mut(d.out_w)) {
                        let sy = ys[ky * d.out_h + oy];
                        if sy == PAD {
                            dst.fill(0.0);
                            continue;
                        }
                        let src = &plane[sy as usize * d.w..][..d.w];
                        dst[..inside.start].fill(0.0);
                        dst[inside.end..].fill(0.0);
                        let dst = &mut dst[inside.clone()];
                        if inside.is_empty() {
                            continue;
                        }
                        let first = xt[inside.start] as usize;
                        if self.stride == 1 {
                            dst.copy_from_slice(&src[first..first + dst.len()]);
                        } else {
                            let run = src[first..].iter().step_by(self.stride);
                            for (o, &v) in dst.iter_mut().zip(run) {
                                *o = v;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `unfold`: adds a band's columns back onto one image's gradient.
    fn fold(
        &self,
        d: &Dims,
        (ys, xs): (&[u32], &[u32]),
        col: &[f32],
        rows: std::ops::Range<usize>,
        image: &mut [f32],
    ) {
        let k = self.kernel;
        let band = rows.len() * d.out_w;
        for (c, plane) in image.chunks_exact_mut(d.h * d.w).enumerate() {
            for ky in 0..k {
                for kx in 0..k {
                    let row = &col[((c * k + ky) * k + kx) * band..][..band];
                    let xt = &xs[kx * d.out_w..][..d.out_w];
                    let inside = inside(xt);
                    if inside.is_empty() {
                        continue;
                    }
                    let first = xt[inside.start] as usize;
                    for (oy, src) in rows.clone().zip(row.chunks_exact(d.out_w)) {
                        let sy = ys[ky * d.out_h + oy];
                        if sy == PAD {
                            continue;
                        }
                        let dst = &mut plane[sy as usize * d.w + first..];
                        let src = &src[inside.clone()];
                        if self.stride == 1 {
                            dst.iter_mut().zip(src).for_each(|(o, &v)| *o += v);
                        } else {
                            let run = dst.iter_mut().step_by(self.stride);
                            run.zip(src).for_each(|(o, &v)| *o += v);
                        }
                    }
                }
            }
        }
    }

    /// Copies band `rows` of this pass's output (C_out, rows * OW) into its pixels of the
    /// layer's output (C_out, OH * step, OW * step).
    fn place(&self, d: &Dims, rows: std::ops::Range<usize>, band: &[f32], layer: &mut [f32]) {
        let (lw, lh) = (d.out_w * self.step, d.out_h * self.step);
        let band_len = rows.len() * d.out_w;
        for (c, b) in band.chunks_exact(band_len).take(d.c_out).enumerate() {
            let plane = &mut layer[c * lh * lw..][..lh * lw];
            for (oy, b_row) in rows.clone().zip(b.chunks_exact(d.out_w)) {
                let l_row = &mut plane[(oy * self.step + self.dy) * lw + self.dx..];
                let l_run = l_row.iter_mut().step_by(self.step);
                l_run.zip(b_row).for_each(|(l, &v)| *l = v);
            }
        }
    }

    /// The adjoint of `place`: gathers band `rows` of this pass's pixels from the layer's
    /// output gradient.
    fn gather(&self, d: &Dims, rows: std::ops::Range<usize>, layer: &[f32], band: &mut [f32]) {
        let (lw, lh) = (d.out_w * self.step, d.out_h * self.step);
        let band_len = rows.len() * d.out_w;
        for (c, b) in band.chunks_exact_mut(band_len).take(d.c_out).enumerate() {
            let plane = &layer[c * lh * lw..][..lh * lw];
            for (oy, b_row) in rows.clone().zip(b.chunks_exact_mut(d.out_w)) {
                let l_row = plane[(oy * self.step + self.dy) * lw + self.dx..].iter();
                b_row
                    .iter_mut()
                    .zip(l_row.step_by(self.step))
                    .for_each(|(v, &l)| *v = l);
            }
        }
    }
}

/// Output rows in bands of `size`.
fn bands(out_h: usize, size: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..out_h)
        .step_by(size)
        .map(move |r| r..(r + size).min(out_h))
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

/// One pass's sizes, tap tables and weights for a call.
struct Plan<'a> {
    pass: Pass,
    dims: Dims,
    ys: Vec<u32>,
    xs: Vec<u32>,
    weight: Cow<'a, [f32]>,
}

impl Plan<'_> {
    fn taps(&self) -> (&[u32], &[u32]) {
        (&self.ys, &self.xs)
    }

    /// For a stride-1 pass, the convolution that carries its output gradient back to its
    /// input: the kernel flipped, input and output channels swapped, the padding mirrored.
    fn adjoint(&self) -> Result<Option<Plan<'static>>> {
        let (p, d) = (&self.pass, &self.dims);
        if p.stride != 1 {
            return Ok(None);
        }
        let k = p.kernel;
        let taps = k * k;
        let mirror = |(before, after): (usize, usize)| (k - 1 - before, k - 1 - after);
        let pass = Pass {
            kernel: k,
            stride: 1,
            pad_y: mirror(p.pad_y),
            pad_x: mirror(p.pad_x),
            step: 1,
            dy: 0,
            dx: 0,
        };
        let weight = flip_kernels(&self.weight, d.c_out, d.c_in, taps);
        let dims = pass.dims(d.c_out, (d.out_h, d.out_w), d.c_in)?;
        if (dims.out_h, dims.out_w) != (d.h, d.w) {
            bail!("the adjoint of {p:?} does not give back the input size");
        }
        Ok(Some(Plan {
            ys: pass.taps(d.out_h, dims.out_h, pass.pad_y.0),
            xs: pass.taps(d.out_w, dims.out_w, pass.pad_x.0),
            pass,
            dims,
            weight: Cow::Owned(weight),
        }))
    }
}

/// Kernels (A, B, taps) as (B, A, taps), each flipped (its taps reversed): the adjoint
/// convolution's weights from a pass's, and back.
fn flip_kernels(kernels: &[f32], a: usize, b: usize, taps: usize) -> Vec<f32> {
    let mut out = vec![0f32; kernels.len()];
    for (i, row) in kernels.chunks_exact(b * taps).enumerate() {
        for (j, kernel) in row.chunks_exact(taps).enumerate() {
            let dst = &mut out[(j * a + i) * taps..][..taps];
            dst.iter_mut()
                .zip(kernel.iter().rev())
                .for_each(|(d, &k)| *d = k);
        }
    }
    out
}

/// Runs `f` on each band of an adjoint pass's output rows with the band's columns: the
/// pass's share of one image's output gradient `layer` (gathered whole first for an upsampling
/// pass) unfolded through the adjoint convolution `adj` of `plan`.
fn for_adjoint_bands(
    plan: &Plan,
    adj: &Plan,
    layer: &[f32],
    mut f: impl FnMut(std::ops::Range<usize>, &[f32]),
) {
    let (p, d) = (&plan.pass, &plan.dims);
    let (ap, ad) = (&adj.pass, &adj.dims);
    let patch = ad.patch(ap.kernel);
    let band_rows = ap.band_rows(ad);
    let whole = if p.step == 1 {
        0
    } else {
        d.c_out * d.positions()
    };
    with_scratch(whole + patch * band_rows * ad.out_w, |buffer| {
        let (gathered, col) = buffer.split_at_mut(whole);
        let gradient: &[f32] = if p.step == 1 {
            layer
        } else {
            p.gather(d, 0..d.out_h, layer, gathered);
            gathered
        };
        for rows in bands(ad.out_h, band_rows) {
            let col = &mut col[..patch * rows.len() * ad.out_w];
            ap.unfold(ad, adj.taps(), gradient, rows.clone(), col);
            f(rows, col);
        }
    });
}

/// The passes of layer `g` for images (C_in, H, W) and `c_out` outputs, with their weights
/// merged from the layer's `weight` (an empty slice when no pass needs them).
fn plans<'a>(
    g: &Geometry,
    (c_in, h, w): (usize, usize, usize),
    c_out: usize,
    weight: &'a [f32],
) -> Result<Vec<Plan<'a>>> {
    let weights = if weight.is_empty() {
        vec![Cow::Borrowed(weight); g.upsample * g.upsample]
    } else {
        g.pass_weights(weight, c_out, c_in)
    };
    g.passes()?
        .into_iter()
        .zip(weights)
        .map(|(pass, weight)| {
            let dims = pass.dims(c_in, (h, w), c_out)?;
            Ok(Plan {
                ys: pass.taps(h, dims.out_h, pass.pad_y.0),
                xs: pass.taps(w, dims.out_w, pass.pad_x.0),
                pass,
                dims,
                weight,
            })
        })
        .collect()
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
        let &[n, c_in, h, w] = l1.dims() else {
            bail!(
                "convolution input must be (N, C, H, W), not {:?}",
                l1.dims()
            );
        };
        let c_out = l2.dims()[0];
        if weight.len() != c_out * c_in * g.kernel * g.kernel || bias.len() != c_out {
            bail!(
                "convolution weight {:?} does not fit input {:?}",
                l2.dims(),
                l1.dims()
            );
        }
        let (out_h, out_w) = (g.output_size(h)?, g.output_size(w)?);
        let plans = plans(g, (c_in, h, w), c_out, weight)?;
        let positions = out_h * out_w;
        let mut out = vec![0f32; n * c_out * positions];
        // One band of one pass: unfolded into `col`, its product written to `target` (C_out
        // rows `stride` apart).
        let band_product = |plan: &Plan,
                            rows: std::ops::Range<usize>,
                            image: &[f32],
                            col: &mut [f32],
                            (target, stride): (&mut [f32], usize),
                            par: Parallelism| {
            let (p, d) = (&plan.pass, &plan.dims);
            let patch = d.patch(p.kernel);
            let band = rows.len() * d.out_w;
            p.unfold(d, plan.taps(), image, rows, col);
            matmul(
                (d.c_out, band, patch),
                (target, stride),
                false,
                Operand::rows(&plan.weight, patch),
                Operand::rows(col, band),
                1.0,
                par,
            );
        };
        let few = !matches!(split(n), Parallelism::None);
        let run = |(image, dst): (&[f32], &mut [f32])| {
            if few {
                // Too few images to go round the threads: the bands of each go round instead.
                let jobs: Vec<(&Plan, std::ops::Range<usize>)> = plans
                    .iter()
                    .flat_map(|plan| {
                        bands(plan.dims.out_h, plan.pass.band_rows(&plan.dims))
                            .map(move |rows| (plan, rows))
                    })
                    .collect();
                // Fewer bands than threads too (a small layer): each product goes round instead.
                let inner = match jobs.len() < rayon::current_num_threads() {
                    true => Parallelism::Rayon(0),
                    false => Parallelism::None,
                };
                let outputs: Vec<Vec<f32>> = jobs
                    .par_iter()
                    .with_max_len(1)
                    .map(|(plan, rows)| {
                        let d = &plan.dims;
                        let band = rows.len() * d.out_w;
                        let mut out = vec![0f32; d.c_out * band];
                        with_scratch(d.patch(plan.pass.kernel) * band, |col| {
                            let target = (&mut out[..], band);
                            band_product(plan, rows.clone(), image, col, target, inner)
                        });
                        out
                    })
                    .collect();
                for ((plan, rows), out) in jobs.iter().zip(outputs) {
                    plan.pass.place(&plan.dims, rows.clone(), &out, dst);
                }
            }
            for plan in plans.iter().filter(|_| !few) {
                let (p, d) = (&plan.pass, &plan.dims);
                let patch = d.patch(p.kernel);
                for rows in bands(d.out_h, p.band_rows(d)) {
                    let band = rows.len() * d.out_w;
                    let placed = p.step > 1;
                    let scratch = patch * band + if placed { d.c_out * band } else { 0 };
                    with_scratch(scratch, |buffer| {
                        let (col, tmp) = buffer.split_at_mut(patch * band);
                        let target = if placed {
                            (&mut tmp[..], band)
                        } else {
                            (&mut dst[rows.start * d.out_w..], positions)
                        };
                        band_product(plan, rows.clone(), image, col, target, Parallelism::None);
                        if placed {
                            p.place(d, rows.clone(), tmp, dst);
                        }
                    });
                }
            }
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
        per_image(input, c_in * h * w, &mut out, c_out * positions, run);
        Ok((CpuStorage::F32(out), Shape::from((n, c_out, out_h, out_w))))
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

/// Runs `f` on band `rows` of a pass's share of one image's output gradient `layer`, as a
/// matrix (C_out, band) with its row stride: in place for a plain pass, gathered into scratch
/// for an upsampling one. `f` also gets `extra` floats of scratch.
fn with_band_gradient<R>(
    plan: &Plan,
    rows: std::ops::Range<usize>,
    layer: &[f32],
    extra: usize,
    f: impl FnOnce(&[f32], usize, &mut [f32]) -> R,
) -> R {
    let (p, d) = (&plan.pass, &plan.dims);
    let band = rows.len() * d.out_w;
    if p.step == 1 {
        return with_scratch(extra, |scratch| {
            f(&layer[rows.start * d.out_w..], d.positions(), scratch)
        });
    }
    with_scratch(d.c_out * band + extra, |buffer| {
        let (gathered, scratch) = buffer.split_at_mut(d.c_out * band);
        p.gather(d, rows, layer, gathered);
        f(gathered, band, scratch)
    })
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
        let &[n, c_out, lh, lw] = l1.dims() else {
            bail!("convolution gradient must be 4-D");
        };
        let c_in = l2.dims()[1];
        let (h, w) = self.size;
        let plans = plans(g, (c_in, h, w), c_out, weight)?;
        let adjoints: Vec<Option<Plan>> = plans.iter().map(Plan::adjoint).collect::<Result<_>>()?;
        let mut out = vec![0f32; n * c_in * h * w];
        let par = split(n);
        let run = |(g_out, dst): (&[f32], &mut [f32])| {
            for (plan, adjoint) in plans.iter().zip(&adjoints) {
                let (p, d) = (&plan.pass, &plan.dims);
                if let Some(adj) = adjoint {
                    // Stride 1: the input gradient is the output gradient convolved with the
                    // flipped kernel, unfolding C_out channels instead of folding C_in.
                    let ad = &adj.dims;
                    let patch = ad.patch(adj.pass.kernel);
                    for_adjoint_bands(plan, adj, g_out, |rows, col| {
                        let band = rows.len() * ad.out_w;
                        matmul(
                            (ad.c_out, band, patch),
                            (&mut dst[rows.start * ad.out_w..], ad.positions()),
                            true,
                            Operand::rows(&adj.weight, patch),
                            Operand::rows(col, band),
                            1.0,
                            par,
                        );
                    });
                    continue;
                }
                let patch = d.patch(p.kernel);
                for rows in bands(d.out_h, p.band_rows(d)) {
                    let band = rows.len() * d.out_w;
                    with_band_gradient(
                        plan,
                        rows.clone(),
                        g_out,
                        patch * band,
                        |gb, stride, col| {
                            matmul(
                                (patch, band, c_out),
                                (col, band),
                                false,
                                Operand::transposed(&plan.weight, patch),
                                Operand::rows(gb, stride),
                                1.0,
                                par,
                            );
                            p.fold(d, plan.taps(), col, rows.clone(), dst);
                        },
                    );
                }
            }
        };
        per_image(grad, c_out * lh * lw, &mut out, c_in * h * w, run);
        Ok((CpuStorage::F32(out), Shape::from((n, c_in, h, w))))
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
        let &[n, c_in, h, w] = l1.dims() else {
            bail!(
                "convolution input must be (N, C, H, W), not {:?}",
                l1.dims()
            );
        };
        let &[_, c_out, lh, lw] = l2.dims() else {
            bail!("convolution gradient must be 4-D");
        };
        let plans = plans(g, (c_in, h, w), c_out, &[])?;
        // A stride-1 pass with fewer outputs than inputs unfolds its output gradient, the
        // smaller of the two, through the adjoint convolution (as the input gradient does); its
        // gradient then comes out as (C_in, C_out * K * K), kernel flipped.
        let adjoints: Vec<Option<Plan>> = plans
            .iter()
            .map(|plan| match c_out < c_in {
                true => plan.adjoint(),
                false => Ok(None),
            })
            .collect::<Result<_>>()?;
        let pass_len = |plan: &Plan| c_out * plan.dims.patch(plan.pass.kernel);
        let total: usize = plans.iter().map(pass_len).sum();
        let par = split(n);
        let accumulate = |mut acc: Vec<f32>, (image, g_out): (&[f32], &[f32])| {
            let mut at = 0;
            for (plan, adjoint) in plans.iter().zip(&adjoints) {
                let (p, d) = (&plan.pass, &plan.dims);
                let patch = d.patch(p.kernel);
                let acc = &mut acc[at..at + pass_len(plan)];
                at += pass_len(plan);
                if let Some(adj) = adjoint {
                    let ad = &adj.dims;
                    let a_patch = ad.patch(adj.pass.kernel);
                    for_adjoint_bands(plan, adj, g_out, |rows, col| {
                        let band = rows.len() * ad.out_w;
                        matmul(
                            (c_in, a_patch, band),
                            (acc, a_patch),
                            true,
                            Operand::rows(&image[rows.start * ad.out_w..], ad.positions()),
                            Operand::transposed(col, band),
                            1.0,
                            par,
                        );
                    });
                    continue;
                }
                for rows in bands(d.out_h, p.band_rows(d)) {
                    let band = rows.len() * d.out_w;
                    with_band_gradient(
                        plan,
                        rows.clone(),
                        g_out,
                        patch * band,
                        |gb, stride, col| {
                            p.unfold(d, plan.taps(), image, rows.clone(), col);
                            matmul(
                                (c_out, patch, band),
                                (acc, patch),
                                true,
                                Operand::rows(gb, stride),
                                Operand::transposed(col, band),
                                1.0,
                                par,
                            );
                        },
                    );
                }
            }
            acc
        };
        let start = || vec![0f32; total];
        let (image_len, grad_len) = (c_in * h * w, c_out * lh * lw);
        let mut passes = if matches!(par, Parallelism::None) {
            input
                .par_chunks_exact(image_len)
                .zip(grad.par_chunks_exact(grad_len))
                .fold(start, accumulate)
                .reduce_with(|mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                })
                .unwrap_or_else(start)
        } else {
            input
                .chunks_exact(image_len)
                .zip(grad.chunks_exact(grad_len))
                .fold(start(), accumulate)
        };
        // Adjoint passes' gradients back to (C_out, C_in * K * K), kernel unflipped.
        let mut at = 0;
        for (plan, adjoint) in plans.iter().zip(&adjoints) {
            let len = pass_len(plan);
            if adjoint.is_some() {
                let taps = plan.pass.kernel * plan.pass.kernel;
                let unflipped = flip_kernels(&passes[at..at + len], c_in, c_out, taps);
                passes[at..at + len].copy_from_slice(&unflipped);
            }
            at += len;
        }
        Ok((
            CpuStorage::F32(g.merge_gradients(&passes, c_out, c_in)),
            Shape::from((c_out, c_in, g.kernel, g.kernel)),
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
    /// per-product split, more and fewer outputs than inputs (the adjoint passes), and images
    /// wide enough to be unfolded in several bands.
    #[test]
    fn matches_candle_convolution_and_its_gradients() {
        for (kernel, stride, padding, upsample, n, slope, (c_in, c_out, size)) in [
            (5, 2, 2, 1, 3, Some(0.1), (3, 4, 9)),
            (3, 1, 1, 2, 1, Some(0.1), (3, 4, 9)),
            (3, 1, 1, 2, 4, Some(0.2), (3, 4, 9)),
            (5, 1, 2, 1, 2, None, (3, 4, 9)),
            (3, 1, 1, 1, 5, None, (3, 4, 9)),
            (3, 1, 1, 2, 3, Some(0.1), (6, 3, 9)),
            (5, 1, 2, 1, 1, None, (6, 2, 9)),
            (5, 2, 2, 1, 2, Some(0.1), (48, 8, 40)),
            (5, 1, 2, 1, 2, None, (48, 4, 20)),
            (3, 1, 1, 2, 3, Some(0.1), (48, 16, 20)),
        ] {
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
