//! Finding the mark: every frame's luma is brought to a scale where a chip is a few pixels,
//! whitened (local detail, normalised by its local energy) and summed, so that a video's frames
//! reinforce the fixed pattern while the moving picture averages out. The tile's period (the
//! scale) and phase (the crop) are then searched together: the sum is folded onto one tile at
//! each period the frame's size allows, and the fold correlated with the known sync chips; at
//! the best few, the chips are read and decoded.

use std::sync::Arc;

use reel_image::Image;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use crate::code::{self, CODED_BITS};
use crate::pattern::{CHIPS, Layout, TILE, bump};

/// Sub-bins per chip when folding: the phase is found to a quarter chip.
const SUB: usize = 4;
const FOLD: usize = TILE * SUB;
/// Periods searched, as shares of the examined frame's short side: a mark is put on at a third
/// of the short side (half of it on frames under 384 pixels), and cropping only makes that share
/// larger.
const PERIOD_RANGE: (f32, f32) = (0.15, 0.75);
/// Relative step between searched periods, then between refined ones.
const COARSE_STEP: f32 = 0.004;
const FINE_STEP: f32 = 0.001;
/// Periods refined and decoded.
const CANDIDATES: usize = 3;
/// Sync correlations below this (in standard deviations) are not decoded.
const MIN_SYNC: f32 = 4.0;
/// Sync peaks (phases) decoded at each candidate period.
pub const SHIFTS: usize = 8;

/// What a search found.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// A payload whose CRC held: the mark is there.
    pub payload: Option<u64>,
    /// The synchronisation peak in standard deviations of the correlation surface.
    pub sync: f32,
    /// Coded bits read wrong before error correction (of 204), when a payload was found.
    pub bit_errors: Option<usize>,
    /// The tile's period in the examined frames' pixels.
    pub period: f32,
    /// Frames the search summed.
    pub frames: usize,
}

impl Detection {
    pub fn found(&self) -> bool {
        self.payload.is_some()
    }
}

/// The summed, whitened detail at the scale the search works on.
struct Level {
    /// Halvings from the frames' size.
    halvings: usize,
    width: usize,
    height: usize,
    sum: Vec<f32>,
}

/// Sums frames of one size, then searches them for the mark.
#[derive(Default)]
pub struct Detector {
    size: (usize, usize),
    level: Option<Level>,
    frames: usize,
    whitener: Whitener,
}

/// Halvings that bring a frame's chips (of the largest tile a mark on it can have) to about
/// three pixels.
fn halvings_for(width: usize, height: usize) -> usize {
    let chip = 0.3 * width.min(height) as f32 / TILE as f32;
    (chip / 3.0).log2().floor().max(0.0) as usize
}

/// A frame's whitened detail at a pyramid level, as the search sees it.
#[derive(Default)]
struct Whitener {
    luma: Vec<f32>,
    half: Vec<f32>,
    blur: Vec<f32>,
    energy: Vec<f32>,
    squares: Vec<f32>,
    tmp: Vec<f32>,
}

impl Whitener {
    /// Luma, halved `halvings` times, less its 5 x 5 mean; that detail is divided by its local
    /// RMS and clipped (so that no edge dominates), then divided by the local RMS again: each
    /// pixel weighs 1/variance, as a matched filter weighs a pattern of even strength in noise
    /// that is strong in busy texture and weak in flat areas.
    fn whiten(&mut self, image: &Image, halvings: usize) -> &[f32] {
        // Luma averaged over blocks of 2^halvings pixels, straight from the RGB.
        let block = 1usize << halvings;
        let (w, h) = (image.width >> halvings, image.height >> halvings);
        let stride = image.width * 3;
        let norm = 1.0 / (block * block) as f32;
        self.luma.clear();
        self.luma.resize(w * h, 0.0);
        self.half.clear();
        self.half.resize(w, 0.0);
        for y in 0..h {
            self.half.fill(0.0);
            let rows = &image.data[y * block * stride..(y + 1) * block * stride];
            for row in rows.chunks_exact(stride) {
                for (x, acc) in self.half.iter_mut().enumerate() {
                    for p in row[x * block * 3..(x + 1) * block * 3].chunks_exact(3) {
                        *acc += 0.299 * f32::from(p[0])
                            + 0.587 * f32::from(p[1])
                            + 0.114 * f32::from(p[2]);
                    }
                }
            }
            for (l, &a) in self.luma[y * w..(y + 1) * w].iter_mut().zip(&self.half) {
                *l = a * norm;
            }
        }
        box_mean(&self.luma, w, h, 2, &mut self.blur, &mut self.tmp);
        for (b, &l) in self.blur.iter_mut().zip(&self.luma) {
            *b = l - *b;
        }
        self.squares.clear();
        self.squares.extend(self.blur.iter().map(|d| d * d));
        box_mean(&self.squares, w, h, 4, &mut self.energy, &mut self.tmp);
        for (d, &e) in self.blur.iter_mut().zip(self.energy.iter()) {
            let rms = (e + 1.0).sqrt();
            *d = (*d / rms).clamp(-3.0, 3.0) / rms;
        }
        &self.blur
    }
}

impl Detector {
    pub fn new() -> Detector {
        Detector::default()
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Adds a frame; a frame of another size than the first is refused (false).
    pub fn add(&mut self, image: &Image) -> bool {
        let (w, h) = (image.width, image.height);
        let level = match &mut self.level {
            Some(level) => {
                if self.size != (w, h) {
                    return false;
                }
                level
            }
            None => {
                let halvings = halvings_for(w, h);
                let (lw, lh) = (w >> halvings, h >> halvings);
                self.size = (w, h);
                self.level.insert(Level {
                    halvings,
                    width: lw,
                    height: lh,
                    sum: vec![0.0; lw * lh],
                })
            }
        };
        if level.width.min(level.height) < 16 {
            return false;
        }
        let plane = self.whitener.whiten(image, level.halvings);
        for (s, &v) in level.sum.iter_mut().zip(plane) {
            *s += v;
        }
        self.frames += 1;
        true
    }

    /// Searches the frames added so far.
    pub fn detect(&self) -> Detection {
        let mut best = Detection {
            payload: None,
            sync: 0.0,
            bit_errors: None,
            period: 0.0,
            frames: self.frames,
        };
        let Some(level) = self.level.as_ref().filter(|_| self.frames > 0) else {
            return best;
        };
        let search = Search::new();
        let side = level.width.min(level.height) as f32;
        let (low, high) = (PERIOD_RANGE.0 * side, PERIOD_RANGE.1 * side);
        let mut scored: Vec<(f32, f32)> = Vec::new();
        let mut period = low;
        while period <= high {
            let (sync, _) = search.sync_peak(&fold(level, period));
            scored.push((sync, period));
            period *= 1.0 + COARSE_STEP;
        }
        // The best local maxima: neighbours of one peak are the same candidate.
        let peaks: Vec<(f32, f32)> = (0..scored.len())
            .filter(|&i| {
                let left = i == 0 || scored[i - 1].0 < scored[i].0;
                let right = i + 1 == scored.len() || scored[i + 1].0 <= scored[i].0;
                left && right
            })
            .map(|i| scored[i])
            .collect();
        let mut peaks = peaks;
        peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
        let scale = (1usize << level.halvings) as f32;
        for &(_, period) in peaks.iter().take(CANDIDATES) {
            let mut found = search.at_period(level, period);
            found.period *= scale;
            found.frames = self.frames;
            let better = match (found.found(), best.found()) {
                (true, false) => true,
                (false, true) => false,
                _ => found.sync > best.sync,
            };
            if better {
                best = found;
            }
        }
        best
    }
}

/// Box mean of radius `r` (edges repeat), separable running sums.
fn box_mean(src: &[f32], w: usize, h: usize, r: usize, out: &mut Vec<f32>, tmp: &mut Vec<f32>) {
    let norm = 1.0 / (2 * r + 1) as f32;
    tmp.clear();
    tmp.resize(w * h, 0.0);
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let at = |i: isize| row[i.clamp(0, w as isize - 1) as usize];
        let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
        for x in 0..w {
            tmp[y * w + x] = acc * norm;
            acc += at(x as isize + r as isize + 1) - at(x as isize - r as isize);
        }
    }
    out.clear();
    out.resize(w * h, 0.0);
    for x in 0..w {
        let at = |i: isize| tmp[i.clamp(0, h as isize - 1) as usize * w + x];
        let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
        for y in 0..h {
            out[y * w + x] = acc * norm;
            acc += at(y as isize + r as isize + 1) - at(y as isize - r as isize);
        }
    }
}

/// A 2-D transform in place over `w2 x h2` complex values (rows, then columns).
fn fft2(data: &mut [Complex32], w2: usize, h2: usize, rows: &dyn Fft<f32>, cols: &dyn Fft<f32>) {
    rows.process(data);
    let mut column = vec![Complex32::default(); h2 * w2];
    for y in 0..h2 {
        for x in 0..w2 {
            column[x * h2 + y] = data[y * w2 + x];
        }
    }
    cols.process(&mut column);
    for y in 0..h2 {
        for x in 0..w2 {
            data[y * w2 + x] = column[x * h2 + y];
        }
    }
}

/// What stays the same between searches: the layout and the sync template's transform.
struct Search {
    layout: Layout,
    template: Vec<Complex32>,
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
}

impl Search {
    fn new() -> Search {
        let layout = Layout::new();
        let mut planner = FftPlanner::new();
        let forward = planner.plan_fft_forward(FOLD);
        let inverse = planner.plan_fft_inverse(FOLD);
        let profile: [f32; SUB] = std::array::from_fn(|i| bump((i as f32 + 0.5) / SUB as f32));
        let mut template = vec![Complex32::default(); FOLD * FOLD];
        for v in 0..FOLD {
            for u in 0..FOLD {
                template[v * FOLD + u].re =
                    layout.sync[(v / SUB) * TILE + u / SUB] * profile[v % SUB] * profile[u % SUB];
            }
        }
        fft2(
            &mut template,
            FOLD,
            FOLD,
            forward.as_ref(),
            forward.as_ref(),
        );
        Search {
            layout,
            template,
            forward,
            inverse,
        }
    }

    /// Folds the level at periods near `period` and decodes the best one's phase.
    fn at_period(&self, level: &Level, period: f32) -> Detection {
        let mut best = (f32::MIN, period, 0usize, Vec::new());
        let centre = period;
        for k in -4..=4 {
            let p = centre * (1.0 + k as f32 * FINE_STEP);
            let fold = fold(level, p);
            let (sync, shift) = self.sync_peak(&fold);
            if sync > best.0 {
                best = (sync, p, shift, fold);
            }
        }
        let (sync, period, _, fold) = best;
        let mut detection = Detection {
            payload: None,
            sync,
            bit_errors: None,
            period,
            frames: 0,
        };
        // The true phase is not always the highest peak once a codec has been at the mark: the
        // best few are decoded, and the CRC tells which (if any) was right.
        for (peak, shift) in self.sync_peaks(&fold, SHIFTS) {
            if peak < MIN_SYNC {
                break;
            }
            let (payload, errors) = self.decode(&fold, shift);
            if payload.is_some() {
                detection.sync = peak;
                detection.payload = payload;
                detection.bit_errors = Some(errors);
                break;
            }
        }
        detection
    }

    /// The sync correlation's peak (in standard deviations) and where it lies.
    fn sync_peak(&self, fold: &[f32]) -> (f32, usize) {
        self.sync_peaks(fold, 1)[0]
    }

    /// The `count` highest local maxima of the sync correlation (in standard deviations) and
    /// where they lie, highest first.
    fn sync_peaks(&self, fold: &[f32], count: usize) -> Vec<(f32, usize)> {
        let mut data: Vec<Complex32> = fold.iter().map(|&v| Complex32::new(v, 0.0)).collect();
        fft2(
            &mut data,
            FOLD,
            FOLD,
            self.forward.as_ref(),
            self.forward.as_ref(),
        );
        for (d, t) in data.iter_mut().zip(&self.template) {
            *d *= t.conj();
        }
        fft2(
            &mut data,
            FOLD,
            FOLD,
            self.inverse.as_ref(),
            self.inverse.as_ref(),
        );
        let n = data.len() as f32;
        let mean = data.iter().map(|c| c.re).sum::<f32>() / n;
        let var = data.iter().map(|c| (c.re - mean).powi(2)).sum::<f32>() / n;
        let sd = var.sqrt().max(1e-12);
        let at = |u: usize, v: usize| data[(v % FOLD) * FOLD + u % FOLD].re;
        let mut peaks: Vec<(f32, usize)> = Vec::new();
        for v in 0..FOLD {
            for u in 0..FOLD {
                let c = at(u, v);
                // A maximum over its 3 x 3 neighbourhood (the surface wraps around).
                let highest = (0..3).all(|dv| {
                    (0..3).all(|du| {
                        (du, dv) == (1, 1) || at(u + FOLD - 1 + du, v + FOLD - 1 + dv) < c
                    })
                });
                if highest {
                    peaks.push(((c - mean) / sd, v * FOLD + u));
                }
            }
        }
        peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
        peaks.truncate(count.max(1));
        if peaks.is_empty() {
            peaks.push((0.0, 0));
        }
        peaks
    }

    /// Reads every chip at the phase found, removes the sync share, and decodes the payload.
    fn decode(&self, fold: &[f32], shift: usize) -> (Option<u64>, usize) {
        let chips = read_chips(fold, shift);
        let sync_gain = chips
            .iter()
            .zip(&self.layout.sync)
            .map(|(c, s)| c * s)
            .sum::<f32>()
            / CHIPS as f32;
        let mut soft = [0f32; CODED_BITS];
        for (j, &c) in chips.iter().enumerate() {
            let data = c - sync_gain * self.layout.sync[j];
            soft[self.layout.bit[j] as usize] += data * self.layout.key[j];
        }
        let Some(payload) = code::decode(&soft) else {
            return (None, 0);
        };
        let coded = code::encode(payload);
        let errors = coded
            .iter()
            .zip(&soft)
            .filter(|(b, s)| (**b == 1) != (**s > 0.0))
            .count();
        (Some(payload), errors)
    }
}

/// The level's sum folded onto one tile of `FOLD x FOLD` bins at the given period.
fn fold(level: &Level, period: f32) -> Vec<f32> {
    fold_plane(&level.sum, level.width, level.height, period)
}

/// A plane folded onto one tile of `FOLD x FOLD` bins at `period` pixels: each bin the mean of
/// the pixels at its phase.
fn fold_plane(plane: &[f32], w: usize, h: usize, period: f32) -> Vec<f32> {
    let bin = |i: usize| -> usize {
        let phase = ((i as f64 + 0.5) / period as f64).fract();
        ((phase * FOLD as f64) as usize).min(FOLD - 1)
    };
    let columns: Vec<usize> = (0..w).map(bin).collect();
    let mut sum = vec![0f32; FOLD * FOLD];
    let mut count = vec![0u32; FOLD * FOLD];
    for y in 0..h {
        let base = bin(y) * FOLD;
        let row = &plane[y * w..(y + 1) * w];
        for (&u, &v) in columns.iter().zip(row) {
            sum[base + u] += v;
            count[base + u] += 1;
        }
    }
    for (s, &c) in sum.iter_mut().zip(&count) {
        if c > 0 {
            *s /= c as f32;
        }
    }
    sum
}

/// Every chip's value in a fold whose tile starts at bin `shift` (row-major).
fn read_chips(fold: &[f32], shift: usize) -> [f32; CHIPS] {
    let profile: [f32; SUB] = std::array::from_fn(|i| bump((i as f32 + 0.5) / SUB as f32));
    let (sx, sy) = (shift % FOLD, shift / FOLD);
    let mut chips = [0f32; CHIPS];
    for (j, chip) in chips.iter_mut().enumerate() {
        let (cx, cy) = (j % TILE, j / TILE);
        let mut acc = 0.0;
        for (b, pb) in profile.iter().enumerate() {
            let v = (cy * SUB + b + sy) % FOLD;
            for (a, pa) in profile.iter().enumerate() {
                let u = (cx * SUB + a + sx) % FOLD;
                acc += fold[v * FOLD + u] * pa * pb;
            }
        }
        *chip = acc;
    }
    chips
}
