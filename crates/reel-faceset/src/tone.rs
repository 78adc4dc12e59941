//! Skin tone in CIELAB, measured on the cheeks and forehead.

use reel_face::Landmark;
use reel_face::mask::{Mask, Region, draw_face_region};
use reel_image::{Affine, Image};

/// sRGB (D65) to CIELAB.
pub fn lab(rgb: [u8; 3]) -> [f32; 3] {
    reel_image::color::rgb_to_lab([rgb[0] as f32, rgb[1] as f32, rgb[2] as f32])
}

/// Colour difference (CIE76).
pub fn delta_e(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Mean Lab colour of the solid part of the skin mask, and the luma balance between the face's
/// image-left and image-right halves (-1 lit from the left .. 1 from the right).
pub fn skin_tone(image: &Image, landmarks: &[Landmark]) -> ([f32; 3], f32) {
    let bounds = (image.width, image.height);
    let b = reel_face::mesh::landmark_box(landmarks);
    let x0 = (b[0].max(0.0) as usize).min(bounds.0);
    let y0 = (b[1].max(0.0) as usize).min(bounds.1);
    let w = ((b[2] + 1.0) as usize).min(bounds.0 - x0);
    let h = ((b[3] + 1.0) as usize).min(bounds.1 - y0);
    let mut m = Mask::new(x0, y0, w, h);
    draw_face_region(&mut m, landmarks, Region::Skin, &Affine::IDENTITY, 0.0);
    let mid = b[0] + b[2] / 2.0;
    let (mut sum, mut n) = ([0.0f64; 3], 0.0f64);
    let (mut left, mut right, mut nl, mut nr) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for y in 0..h {
        for x in 0..w {
            if m.data[y * w + x] < 0.99 {
                continue;
            }
            let px = image.pixel(x0 + x, y0 + y);
            let l = lab(px);
            for k in 0..3 {
                sum[k] += l[k] as f64;
            }
            n += 1.0;
            if ((x0 + x) as f32) < mid {
                left += l[0] as f64;
                nl += 1.0;
            } else {
                right += l[0] as f64;
                nr += 1.0;
            }
        }
    }
    if n == 0.0 {
        return ([0.0; 3], 0.0);
    }
    let (ml, mr) = (left / nl.max(1.0), right / nr.max(1.0));
    let balance = ((mr - ml) / (mr + ml).max(1.0)) as f32;
    (
        [
            (sum[0] / n) as f32,
            (sum[1] / n) as f32,
            (sum[2] / n) as f32,
        ],
        balance,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_of_known_colours() {
        let w = lab([255, 255, 255]);
        assert!((w[0] - 100.0).abs() < 0.1 && w[1].abs() < 0.1 && w[2].abs() < 0.1);
        let r = lab([255, 0, 0]);
        assert!(
            (r[0] - 53.24).abs() < 0.2 && (r[1] - 80.09).abs() < 0.3 && (r[2] - 67.20).abs() < 0.3
        );
    }
}
