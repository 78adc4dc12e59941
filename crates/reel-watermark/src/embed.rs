//! Putting the mark on a frame: the tile, scaled to the frame's size and rounded to whole luma
//! levels, added to every pixel (the same amount to R, G and B, so colour is untouched) at one
//! even strength.
//!
//! Even, because the reader weighs every pixel by how little the picture's own detail hides the
//! mark there, and it is in the flat parts that a codec keeps a faint pattern it can read: a mark
//! weakened there (as masks for the eye do) was read back after H.264 at CRF 28 on fewer stills.

use reel_image::Image;

use crate::code;
use crate::pattern::{self, CHIPS, Layout, TILE};

/// The mark's RMS amplitude in luma levels, after rounding: 1.95 is a luma PSNR of 42.3 dB.
pub const DEFAULT_STRENGTH: f32 = 1.95;

/// The tile's side for a frame: a third of its short side, with chips of at least four pixels
/// (a tile of 128): coarse enough to live through compression (a codec removes the finest
/// detail first, and halving a frame halves its chips), fine enough that the picture's own
/// detail does not drown it, and a crop to 71 % still holds two tiles across. A quarter of the
/// side, or chips of three pixels, were read back after CRF 28 and JPEG on fewer stills.
pub fn period(width: usize, height: usize) -> usize {
    (width.min(height) / 3).max(4 * TILE)
}

/// Marks frames with one payload; keeps its rounded tile between frames of one size.
pub struct Embedder {
    chips: [f32; CHIPS],
    strength: f32,
    period: usize,
    steps: Vec<i16>,
}

impl Embedder {
    pub fn new(payload: u64) -> Embedder {
        Embedder::with_strength(payload, DEFAULT_STRENGTH)
    }

    pub fn with_strength(payload: u64, strength: f32) -> Embedder {
        Embedder {
            chips: Layout::new().chips(&code::encode(payload)),
            strength,
            period: 0,
            steps: Vec::new(),
        }
    }

    /// Adds the mark to `image` in place.
    pub fn mark(&mut self, image: &mut Image) {
        let (w, h) = (image.width, image.height);
        if w == 0 || h == 0 {
            return;
        }
        let period = period(w, h);
        if period != self.period {
            self.period = period;
            self.steps = rounded(&pattern::render(&self.chips, period), self.strength);
        }
        for y in 0..h {
            let steps = &self.steps[(y % period) * period..(y % period + 1) * period];
            let row = &mut image.data[y * w * 3..(y + 1) * w * 3];
            // One stretch of the row per repeat of the tile.
            for stretch in row.chunks_mut(period * 3) {
                for (px, &step) in stretch.chunks_exact_mut(3).zip(steps) {
                    for v in px.iter_mut() {
                        *v = (i16::from(*v) + step).clamp(0, 255) as u8;
                    }
                }
            }
        }
    }
}

/// The unit tile scaled and rounded to whole levels, the scale chosen so that the rounded values'
/// RMS is `strength` (rounding alone moves it by up to a decibel, more or less by chip size).
fn rounded(tile: &[f32], strength: f32) -> Vec<i16> {
    let power = |gain: f32| {
        tile.iter()
            .map(|&t| (gain * t).round().powi(2))
            .sum::<f32>()
            / tile.len() as f32
    };
    let target = strength * strength;
    let (mut low, mut high) = (0.0f32, 4.0 * strength.max(0.5));
    for _ in 0..40 {
        let mid = 0.5 * (low + high);
        if power(mid) > target {
            high = mid;
        } else {
            low = mid;
        }
    }
    tile.iter().map(|&t| (low * t).round() as i16).collect()
}
