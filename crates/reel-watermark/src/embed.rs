//! Putting the mark on a frame: the tile, scaled to the frame's size, added to every pixel's
//! luma (the same amount to R, G and B, so colour is untouched), a little weaker where the
//! picture is flat, at a fixed overall strength.

use reel_image::Image;

use crate::code;
use crate::pattern::{self, CHIPS, Layout, TILE};

/// The mark's RMS amplitude in luma levels: 1.7 keeps marked frames above 42 dB PSNR.
pub const DEFAULT_STRENGTH: f32 = 1.7;
/// Side of the blocks the flatness mask is measured on.
const BLOCK: usize = 8;
/// How far the mask follows the picture's busyness (an exponent), and how weak it lets the mark
/// become in the flattest blocks. A mark of even strength is read best (the reader weighs every
/// pixel by how little the picture's own detail hides it there, and flat areas are where
/// compression keeps a faint pattern), so the mask only softens it where the eye is keenest.
const MASK_EXPONENT: f32 = 0.3;
const MASK_FLOOR: f32 = 0.7;

/// The tile's side for a frame: a quarter of its short side (chips of 1/128 of it, three pixels
/// at least): coarse enough to live through compression and halving, fine enough that the
/// picture's own detail does not drown it, and a crop still holds many whole tiles.
pub fn period(width: usize, height: usize) -> usize {
    (width.min(height) / 4).max(3 * TILE)
}

/// Marks frames with one payload; keeps its tile and masks between frames of one size.
pub struct Embedder {
    chips: [f32; CHIPS],
    strength: f32,
    period: usize,
    tile: Vec<f32>,
    activity: Vec<f32>,
    smoothed: Vec<f32>,
    luma: [Vec<i32>; 2],
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
            tile: Vec::new(),
            activity: Vec::new(),
            smoothed: Vec::new(),
            luma: [Vec::new(), Vec::new()],
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
            self.tile = pattern::render(&self.chips, period);
        }
        let bw = w.div_ceil(BLOCK);
        self.measure_activity(image, bw, h.div_ceil(BLOCK));
        self.add(image, bw);
    }

    /// Adds the tile, scaled by each block's amplitude.
    fn add(&self, image: &mut Image, bw: usize) {
        let (w, h) = (image.width, image.height);
        let period = self.period;
        for y in 0..h {
            let tile_row = &self.tile[(y % period) * period..(y % period + 1) * period];
            let alpha_row = &self.smoothed[(y / BLOCK) * bw..(y / BLOCK + 1) * bw];
            let row = &mut image.data[y * w * 3..(y + 1) * w * 3];
            // One stretch of the row per repeat of the tile.
            for (start, stretch) in row.chunks_mut(period * 3).enumerate() {
                let x0 = start * period;
                for (i, (px, &t)) in stretch.chunks_exact_mut(3).zip(tile_row).enumerate() {
                    let d = alpha_row[(x0 + i) / BLOCK] * t;
                    // The values are whole, so rounding the sum is adding the rounded amount;
                    // the offset keeps the truncating cast a rounding one.
                    let step = (d + 256.5) as i32 - 256;
                    for v in px.iter_mut() {
                        *v = (i32::from(*v) + step).clamp(0, 255) as u8;
                    }
                }
            }
        }
    }

    /// Fills `smoothed` with each block's amplitude: its busyness (mean luma gradient, averaged
    /// with its neighbours) relative to the frame's, softened and bounded, scaled to the set
    /// strength.
    fn measure_activity(&mut self, image: &Image, bw: usize, bh: usize) {
        let (w, h) = (image.width, image.height);
        self.activity.clear();
        self.activity.resize(bw * bh, 0.0);
        for l in self.luma.iter_mut() {
            l.resize(w, 0);
        }
        let luma_row = |y: usize, out: &mut Vec<i32>| {
            let row = &image.data[y * w * 3..(y + 1) * w * 3];
            for (o, p) in out.iter_mut().zip(row.chunks_exact(3)) {
                *o = (77 * i32::from(p[0]) + 150 * i32::from(p[1]) + 29 * i32::from(p[2])) >> 8;
            }
        };
        luma_row(0, &mut self.luma[0]);
        for y in 0..h {
            let (cur, next) = self.luma.split_at_mut(1);
            let (cur, next) = (&cur[0], &mut next[0]);
            if y + 1 < h {
                luma_row(y + 1, next);
            }
            let block_row = &mut self.activity[(y / BLOCK) * bw..(y / BLOCK + 1) * bw];
            let below: &[i32] = if y + 1 < h { next } else { cur };
            for (b, ((c, r), d)) in block_row.iter_mut().zip(
                cur.chunks(BLOCK)
                    .zip(cur[1..].chunks(BLOCK).chain(std::iter::once(&[][..])))
                    .zip(below.chunks(BLOCK)),
            ) {
                // Across (to the right neighbour; the last column has none) and down.
                let across: i32 = c.iter().zip(r).map(|(a, b)| (b - a).abs()).sum();
                let down: i32 = c.iter().zip(d).map(|(a, b)| (b - a).abs()).sum();
                *b += (across + down) as f32;
            }
            self.luma.swap(0, 1);
        }
        for by in 0..bh {
            let rows = (h - by * BLOCK).min(BLOCK);
            for bx in 0..bw {
                let cols = (w - bx * BLOCK).min(BLOCK);
                self.activity[by * bw + bx] /= (rows * cols) as f32;
            }
        }
        self.smoothed.clear();
        self.smoothed.resize(bw * bh, 0.0);
        for by in 0..bh {
            for bx in 0..bw {
                let (mut sum, mut n) = (0.0, 0.0);
                for y in by.saturating_sub(1)..(by + 2).min(bh) {
                    for x in bx.saturating_sub(1)..(bx + 2).min(bw) {
                        sum += self.activity[y * bw + x];
                        n += 1.0;
                    }
                }
                self.smoothed[by * bw + bx] = sum / n;
            }
        }
        let mean = self.smoothed.iter().sum::<f32>() / self.smoothed.len() as f32;
        let floor = 2.0;
        let mut power = 0.0;
        for a in self.smoothed.iter_mut() {
            *a = ((*a + floor) / (mean + floor))
                .powf(MASK_EXPONENT)
                .clamp(MASK_FLOOR, 1.0);
            power += *a * *a;
        }
        let gain = self.strength / (power / self.smoothed.len() as f32).sqrt();
        for a in self.smoothed.iter_mut() {
            *a *= gain;
        }
    }
}
