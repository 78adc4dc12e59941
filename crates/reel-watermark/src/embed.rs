//! Putting the mark on a frame: the tile, scaled to the frame's size, added to every pixel's
//! luma (the same amount to R, G and B, so colour is untouched), stronger where the picture is
//! busy and weaker where it is flat, at a fixed overall strength.

use reel_image::Image;

use crate::code;
use crate::detect::{Whitener, fold_plane, halvings_for, read_chips};
use crate::pattern::{self, CHIPS, Layout, TILE};

/// The mark's RMS amplitude in luma levels: 1.8 keeps marked frames near 43 dB PSNR.
pub const DEFAULT_STRENGTH: f32 = 1.8;
/// Share of the picture's own contribution to each chip that is cancelled, and the most any
/// chip is moved for it (in chip amplitudes).
const HOST_CANCEL: f32 = 0.8;
const MAX_CANCEL: f32 = 1.5;
/// Side of the blocks the busyness mask is measured on.
const BLOCK: usize = 8;

/// The tile's side for a frame: a quarter of its short side (chips of 1/128 of it, three pixels
/// at least): coarse enough to live through compression and halving, fine enough that the
/// picture's own detail does not drown it, and a crop still holds many whole tiles.
pub fn period(width: usize, height: usize) -> usize {
    (width.min(height) / 4).max(3 * TILE)
}

/// Marks frames with one payload; keeps its tile and masks between frames of one size.
pub struct Embedder {
    chips: [f32; CHIPS],
    /// This frame's chips, less what the picture itself already puts on each.
    adjusted: [f32; CHIPS],
    /// How much a unit chip moves what a reader sees of it, measured on the first frame.
    gains: Option<[f32; CHIPS]>,
    whitener: Whitener,
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
        let chips = Layout::new().chips(&code::encode(payload));
        Embedder {
            chips,
            adjusted: chips,
            gains: None,
            whitener: Whitener::default(),
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
            self.gains = None;
        }
        let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
        self.measure_activity(image, bw, bh);
        // Informed embedding: what the picture already contributes to each chip, as a reader
        // sees it, is taken off the chip, so that the picture does not drown the mark.
        let halvings = halvings_for(w, h);
        let level_period = period as f32 / (1usize << halvings) as f32;
        let (lw, lh) = (w >> halvings, h >> halvings);
        let host = read_chips(
            &fold_plane(self.whitener.whiten(image, halvings), lw, lh, level_period),
            0,
        );
        if self.gains.is_none() {
            let mut probe = image.clone();
            self.tile = pattern::render(&self.chips, period);
            self.add(&mut probe, bw);
            let seen = read_chips(
                &fold_plane(self.whitener.whiten(&probe, halvings), lw, lh, level_period),
                0,
            );
            let mut gains = [0f32; CHIPS];
            for (j, g) in gains.iter_mut().enumerate() {
                *g = (seen[j] - host[j]) / self.chips[j];
            }
            let mut sorted = gains;
            sorted.sort_by(f32::total_cmp);
            let median = sorted[CHIPS / 2].max(1e-6);
            for g in gains.iter_mut() {
                *g = g.clamp(0.5 * median, 2.0 * median);
            }
            self.gains = Some(gains);
        }
        let gains = self.gains.expect("measured above");
        for j in 0..CHIPS {
            let correction = (HOST_CANCEL * host[j] / gains[j]).clamp(-MAX_CANCEL, MAX_CANCEL);
            self.adjusted[j] = self.chips[j] - correction;
        }
        self.tile = pattern::render(&self.adjusted, period);
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
    /// with its neighbours) relative to the frame's, bounded, scaled to the set strength.
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
            *a = ((*a + floor) / (mean + floor)).clamp(0.35, 2.5);
            power += *a * *a;
        }
        let gain = self.strength / (power / self.smoothed.len() as f32).sqrt();
        for a in self.smoothed.iter_mut() {
            *a *= gain;
        }
    }
}
