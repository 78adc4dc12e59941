//! How usable a face is: sharpness of its aligned crop.

use reel_image::Image;

/// Variance of the Laplacian of the luma, the usual focus measure: higher is sharper. Measured on
/// an aligned crop of fixed size, so faces of different sizes compare.
pub fn sharpness(crop: &Image) -> f32 {
    let (w, h) = (crop.width, crop.height);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let luma: Vec<f32> = (0..w * h).map(|i| crop.luma_at(i % w, i / w)).collect();
    let (mut sum, mut sum_sq, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = luma[y * w + x];
            let lap = luma[y * w + x - 1]
                + luma[y * w + x + 1]
                + luma[(y - 1) * w + x]
                + luma[(y + 1) * w + x]
                - 4.0 * c;
            sum += lap as f64;
            sum_sq += (lap * lap) as f64;
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sum_sq / n - mean * mean) as f32
}
