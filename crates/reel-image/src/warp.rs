//! Bilinear warps: image regions into model input tensors, and aligned RGB crops.

use crate::{Affine, Image, Point};

/// What a sample outside the image reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Border {
    /// Black (zero before value scaling).
    Zero,
    /// The nearest edge pixel.
    Replicate,
}

/// How warped pixels become tensor values: v * scale + offset, channels planar (NCHW).
#[derive(Clone, Copy, Debug)]
pub struct TensorSpec {
    pub width: usize,
    pub height: usize,
    pub scale: f32,
    pub offset: f32,
    pub border: Border,
}

/// floor() without a libm call (the baseline x86-64 target has no rounding instruction).
#[inline(always)]
fn floor_i(v: f32) -> isize {
    let t = v as isize;
    t - (v < t as f32) as isize
}

/// The image's colour at (x, y), bilinear, with `border` deciding what lies outside.
#[inline(always)]
pub fn sample(img: &Image, x: f32, y: f32, border: Border) -> [f32; 3] {
    let (w, h) = (img.width as isize, img.height as isize);
    let (x0, y0) = (floor_i(x), floor_i(y));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let d = &img.data;
    if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
        let i = (y0 as usize * img.width + x0 as usize) * 3;
        let j = i + img.width * 3;
        let mut out = [0.0; 3];
        for c in 0..3 {
            let top = d[i + c] as f32 + (d[i + 3 + c] as f32 - d[i + c] as f32) * fx;
            let bottom = d[j + c] as f32 + (d[j + 3 + c] as f32 - d[j + c] as f32) * fx;
            out[c] = top + (bottom - top) * fy;
        }
        return out;
    }
    let fetch = |xi: isize, yi: isize| -> [f32; 3] {
        let (xi, yi) = match border {
            Border::Replicate => (xi.clamp(0, w - 1), yi.clamp(0, h - 1)),
            Border::Zero => {
                if xi < 0 || yi < 0 || xi >= w || yi >= h {
                    return [0.0; 3];
                }
                (xi, yi)
            }
        };
        let i = (yi as usize * img.width + xi as usize) * 3;
        [d[i] as f32, d[i + 1] as f32, d[i + 2] as f32]
    };
    let (p00, p10, p01, p11) = (
        fetch(x0, y0),
        fetch(x0 + 1, y0),
        fetch(x0, y0 + 1),
        fetch(x0 + 1, y0 + 1),
    );
    let mut out = [0.0; 3];
    for c in 0..3 {
        let top = p00[c] + (p10[c] - p00[c]) * fx;
        let bottom = p01[c] + (p11[c] - p01[c]) * fx;
        out[c] = top + (bottom - top) * fy;
    }
    out
}

/// Fills `out` (3 planes of spec.width x spec.height) with the image sampled through `map`,
/// which takes output pixel coordinates to image coordinates.
pub fn warp_to_tensor(img: &Image, map: &Affine, spec: &TensorSpec, out: &mut Vec<f32>) {
    let plane = spec.width * spec.height;
    out.resize(plane * 3, 0.0);
    let (r, rest) = out.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for v in 0..spec.height {
        let start = map.apply(Point::new(0.0, v as f32));
        let (dx, dy) = (map.m[0], map.m[3]);
        for u in 0..spec.width {
            let x = start.x + dx * u as f32;
            let y = start.y + dy * u as f32;
            let p = sample(img, x, y, spec.border);
            let i = v * spec.width + u;
            r[i] = p[0] * spec.scale + spec.offset;
            g[i] = p[1] * spec.scale + spec.offset;
            b[i] = p[2] * spec.scale + spec.offset;
        }
    }
}

/// Fills `out` with the image sampled through `map` (output pixel -> image pixel).
pub fn warp_rgb(img: &Image, map: &Affine, border: Border, out: &mut Image) {
    for v in 0..out.height {
        let start = map.apply(Point::new(0.0, v as f32));
        let (dx, dy) = (map.m[0], map.m[3]);
        for u in 0..out.width {
            let p = sample(
                img,
                start.x + dx * u as f32,
                start.y + dy * u as f32,
                border,
            );
            let i = (v * out.width + u) * 3;
            for (dst, v) in out.data[i..i + 3].iter_mut().zip(p) {
                *dst = (v + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_warp_copies_pixels() {
        let mut img = Image::new(5, 4);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = (i * 7 % 251) as u8;
        }
        let mut out = Image::new(5, 4);
        warp_rgb(&img, &Affine::IDENTITY, Border::Replicate, &mut out);
        assert_eq!(out, img);
    }

    #[test]
    fn zero_border_reads_black_and_scaling_applies() {
        let mut img = Image::new(2, 2);
        img.data.fill(255);
        let spec = TensorSpec {
            width: 4,
            height: 1,
            scale: 2.0 / 255.0,
            offset: -1.0,
            border: Border::Zero,
        };
        let mut out = Vec::new();
        let shift = Affine {
            m: [1.0, 0.0, -2.0, 0.0, 1.0, 0.0],
        };
        warp_to_tensor(&img, &shift, &spec, &mut out);
        assert_eq!(&out[0..4], &[-1.0, -1.0, 1.0, 1.0]);
    }
}
