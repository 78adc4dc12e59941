//! Resampling to another size as PIL's `Image.resize` does it, since the pipelines reel matches
//! prepare their inputs with PIL: separable passes (across, then down), the filter widened by
//! the scale when shrinking so that every source pixel counts, each pass rounded to 8 bits.

use crate::Image;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Keys' cubic with a = −0.5 (PIL's `BICUBIC`).
    Bicubic,
    /// A three-lobed Lanczos window (PIL's `LANCZOS`).
    Lanczos3,
}

impl Filter {
    fn support(self) -> f64 {
        match self {
            Filter::Bicubic => 2.0,
            Filter::Lanczos3 => 3.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            Filter::Bicubic => {
                const A: f64 = -0.5;
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Filter::Lanczos3 => {
                if x < 3.0 {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// For each output position, the first source index and the normalised weights.
fn coefficients(input: usize, output: usize, filter: Filter) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f64 / output as f64;
    let widen = scale.max(1.0);
    let support = filter.support() * widen;
    (0..output)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            let first = ((center - support + 0.5).floor().max(0.0)) as usize;
            let end = ((center + support + 0.5).floor() as usize).min(input);
            let raw: Vec<f64> = (first..end)
                .map(|i| filter.weight((i as f64 - center + 0.5) / widen))
                .collect();
            let sum: f64 = raw.iter().sum();
            let weights = raw
                .iter()
                .map(|w| if sum != 0.0 { (w / sum) as f32 } else { 0.0 })
                .collect();
            (first, weights)
        })
        .collect()
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// `img` resampled to `width`×`height` (both at least 1).
pub fn resize(img: &Image, width: usize, height: usize, filter: Filter) -> Image {
    let (width, height) = (width.max(1), height.max(1));
    if img.width == 0 || img.height == 0 {
        return Image::new(width, height);
    }
    let across = if width == img.width {
        img.clone()
    } else {
        let coeffs = coefficients(img.width, width, filter);
        let mut out = Image::new(width, img.height);
        for y in 0..img.height {
            let row = &img.data[y * img.width * 3..(y + 1) * img.width * 3];
            let dst = &mut out.data[y * width * 3..(y + 1) * width * 3];
            for (x, (first, weights)) in coeffs.iter().enumerate() {
                let mut acc = [0f32; 3];
                for (k, w) in weights.iter().enumerate() {
                    let p = &row[(first + k) * 3..(first + k) * 3 + 3];
                    for c in 0..3 {
                        acc[c] += w * p[c] as f32;
                    }
                }
                for c in 0..3 {
                    dst[x * 3 + c] = to_u8(acc[c]);
                }
            }
        }
        out
    };
    if height == img.height {
        return across;
    }
    let coeffs = coefficients(img.height, height, filter);
    let mut out = Image::new(width, height);
    let mut acc = vec![0f32; width * 3];
    for (y, (first, weights)) in coeffs.iter().enumerate() {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (k, w) in weights.iter().enumerate() {
            let row = &across.data[(first + k) * width * 3..(first + k + 1) * width * 3];
            for (a, &p) in acc.iter_mut().zip(row) {
                *a += w * p as f32;
            }
        }
        let dst = &mut out.data[y * width * 3..(y + 1) * width * 3];
        for (d, &a) in dst.iter_mut().zip(&acc) {
            *d = to_u8(a);
        }
    }
    out
}

/// The `width`×`height` window of `img` at (`left`, `top`), clipped to the image.
pub fn crop(img: &Image, left: usize, top: usize, width: usize, height: usize) -> Image {
    let left = left.min(img.width);
    let top = top.min(img.height);
    let width = width.min(img.width - left);
    let height = height.min(img.height - top);
    let mut out = Image::new(width, height);
    for y in 0..height {
        let src = ((top + y) * img.width + left) * 3;
        out.data[y * width * 3..(y + 1) * width * 3]
            .copy_from_slice(&img.data[src..src + width * 3]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: usize, height: usize) -> Image {
        let mut img = Image::new(width, height);
        for y in 0..height {
            for x in 0..width {
                let i = (y * width + x) * 3;
                img.data[i] = (x * 255 / (width - 1)) as u8;
                img.data[i + 1] = (y * 255 / (height - 1)) as u8;
                img.data[i + 2] = ((x + y) % 7 * 30) as u8;
            }
        }
        img
    }

    #[test]
    fn same_size_is_the_image() {
        let img = gradient(17, 9);
        assert_eq!(resize(&img, 17, 9, Filter::Lanczos3), img);
    }

    #[test]
    fn a_flat_image_stays_flat_and_a_ramp_stays_a_ramp() {
        let mut flat = Image::new(40, 30);
        flat.data.iter_mut().for_each(|v| *v = 131);
        for filter in [Filter::Bicubic, Filter::Lanczos3] {
            for (w, h) in [(13, 7), (97, 61), (40, 11)] {
                let out = resize(&flat, w, h, filter);
                assert!(out.data.iter().all(|&v| v == 131), "{filter:?} {w}x{h}");
            }
            // Shrinking a horizontal ramp keeps it increasing and within a level of linear.
            let ramp = gradient(256, 4);
            let small = resize(&ramp, 64, 4, filter);
            for x in 1..63 {
                let v = small.pixel(x, 1)[0] as f32;
                let expected = (x as f32 * 4.0 + 1.5) * 255.0 / 255.0;
                assert!(
                    (v - expected).abs() <= 1.5,
                    "{filter:?} x={x}: {v} vs {expected}"
                );
                assert!(small.pixel(x, 1)[0] >= small.pixel(x - 1, 1)[0]);
            }
        }
    }

    #[test]
    fn crops_a_window() {
        let img = gradient(10, 8);
        let c = crop(&img, 3, 2, 4, 5);
        assert_eq!((c.width, c.height), (4, 5));
        assert_eq!(c.pixel(0, 0), img.pixel(3, 2));
        assert_eq!(c.pixel(3, 4), img.pixel(6, 6));
    }
}
