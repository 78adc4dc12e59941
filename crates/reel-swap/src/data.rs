//! Training samples from face sets: each face randomly moved, turned and scaled, its colour
//! jittered, and the network's input further bent by a random warp (the target is not), so the
//! model learns faces rather than memorising pixels.

use std::path::Path;

use reel_face::mask::{Mask, grown};
use reel_face::mesh::outline;
use reel_faceset::record::read_set;
use reel_image::{Affine, Image, Point};
use reel_video::{Decoder, Frame};

use crate::SwapError;

/// One face of a set, as extracted.
pub struct Sample {
    pub image: Image,
    /// Head turn in degrees (+ towards the image's right).
    pub yaw: f32,
    /// Face mask, 0..1, at the crop's size.
    pub mask: Vec<f32>,
    /// Eyes and mouth, 0..1: errors there count more.
    pub priority: Vec<f32>,
}

/// A face set in memory, split into faces to learn from and faces held back to measure on.
pub struct FaceData {
    pub size: usize,
    pub margin: f32,
    pub train: Vec<Sample>,
    pub held_back: Vec<Sample>,
}

fn read_sequence(pattern: &Path) -> Result<Vec<Image>, SwapError> {
    let mut d = Decoder::open(pattern)?;
    let mut f = Frame::default();
    let mut out = Vec::new();
    while d.next_frame(&mut f)? {
        out.push(f.image.clone());
    }
    Ok(out)
}

impl FaceData {
    /// Loads a face set; every `hold_every`-th face is held back (0 holds none).
    pub fn load(dir: &Path, hold_every: usize) -> Result<FaceData, SwapError> {
        let records = read_set(dir)?;
        let images = read_sequence(&dir.join("%06d.png"))?;
        let masks = read_sequence(&dir.join("%06d.mask.png"))?;
        if images.len() != records.len() || masks.len() != records.len() {
            return Err(SwapError::Settings(format!(
                "{}: {} records but {} images and {} masks",
                dir.display(),
                records.len(),
                images.len(),
                masks.len()
            )));
        }
        let (size, margin) = (records[0].1.size, records[0].1.margin);
        let mut data = FaceData {
            size,
            margin,
            train: Vec::new(),
            held_back: Vec::new(),
        };
        for (i, ((_, rec), (image, mask))) in records
            .iter()
            .zip(images.into_iter().zip(masks))
            .enumerate()
        {
            let lm = rec.mesh();
            let mut prio = Mask::new(0, 0, size, size);
            let pts =
                |idx: &[usize]| -> Vec<Point> { idx.iter().map(|&k| lm[k].point()).collect() };
            for part in [outline::LEFT_EYE, outline::RIGHT_EYE, outline::LIPS] {
                prio.fill_polygon(&grown(&pts(part), 0.02 * size as f32), 1.0);
            }
            prio.feather((0.01 * size as f32) as usize);
            let sample = Sample {
                mask: mask
                    .data
                    .chunks_exact(3)
                    .map(|p| p[0] as f32 / 255.0)
                    .collect(),
                priority: prio.data,
                image,
                yaw: rec.pose.yaw,
            };
            if hold_every > 0 && i % hold_every == hold_every - 1 {
                data.held_back.push(sample);
            } else {
                data.train.push(sample);
            }
        }
        if data.train.len() < 8 {
            return Err(SwapError::Settings(format!(
                "{} has {} usable faces to learn from; a swap model needs at least 8 (hundreds for a good one)",
                dir.display(),
                data.train.len()
            )));
        }
        Ok(data)
    }
}

/// A small, seeded random generator (xorshift*), so training runs are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * (hi - lo)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[inline]
fn bilinear(data: &[f32], w: usize, h: usize, ch: usize, x: f32, y: f32, out: &mut [f32]) {
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = ((x as usize).min(w - 2), (y as usize).min(h - 2));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    for c in 0..ch {
        let at = |xx: usize, yy: usize| data[(yy * w + xx) * ch + c];
        let top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
        let bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
        out[c] = top + (bottom - top) * fy;
    }
}

/// A batch as planar float arrays: inputs and targets (N, 3, R, R), masks and priorities
/// (N, 1, R, R).
#[derive(Default)]
pub struct Batch {
    pub input: Vec<f32>,
    pub target: Vec<f32>,
    pub mask: Vec<f32>,
    pub priority: Vec<f32>,
}

/// The crop -> model resolution map, optionally randomly moved, turned and scaled.
fn view(size: usize, res: usize, rng: Option<&mut Rng>) -> Affine {
    let (rot, scale, dx, dy) = match rng {
        Some(r) => (
            r.range(-0.17, 0.17),
            r.range(0.95, 1.05),
            r.range(-0.04, 0.04),
            r.range(-0.04, 0.04),
        ),
        None => (0.0, 1.0, 0.0, 0.0),
    };
    let c = size as f32 / 2.0;
    let side = size as f32 / scale;
    Affine::from_rotated_rect(
        Point::new(c + dx * size as f32, c + dy * size as f32),
        (side, side),
        rot,
        res,
        res,
    )
}

/// Head turns within this many degrees share a bin when drawing evenly over yaw.
const YAW_BIN: f32 = 5.0;

/// How training draws its faces.
pub struct Picker {
    /// Indices of the faces, by bin; a bin is drawn at random, then a face in it.
    bins: Vec<Vec<usize>>,
}

impl Picker {
    /// Every face as likely as any other.
    pub fn uniform(samples: &[Sample]) -> Picker {
        Picker {
            bins: vec![(0..samples.len()).collect()],
        }
    }

    /// Faces drawn evenly over head turn (DeepFaceLab's uniform yaw): every 5-degree bin of
    /// yaw that holds a face is as likely as any other, so the few profiles of a mostly
    /// frontal set are learned as often as its many frontal faces.
    pub fn by_yaw(samples: &[Sample]) -> Picker {
        let mut bins: std::collections::BTreeMap<i32, Vec<usize>> = Default::default();
        for (i, s) in samples.iter().enumerate() {
            let yaw = if s.yaw.is_finite() { s.yaw } else { 0.0 };
            bins.entry((yaw / YAW_BIN).floor() as i32)
                .or_default()
                .push(i);
        }
        Picker {
            bins: bins.into_values().collect(),
        }
    }

    /// `n` faces for a batch.
    pub fn pick(&self, n: usize, rng: &mut Rng) -> Vec<usize> {
        (0..n)
            .map(|_| {
                let bin = &self.bins[rng.below(self.bins.len())];
                bin[rng.below(bin.len())]
            })
            .collect()
    }
}

/// Fills `batch` with the samples `picks` at resolution `res`; `augment` turns on the random
/// view, colour jitter and warp (off for measuring).
pub fn fill(
    samples: &[Sample],
    picks: &[usize],
    size: usize,
    res: usize,
    augment: bool,
    rng: &mut Rng,
    batch: &mut Batch,
) {
    let n = picks.len();
    let plane = res * res;
    batch.input.resize(n * 3 * plane, 0.0);
    batch.target.resize(n * 3 * plane, 0.0);
    batch.mask.resize(n * plane, 0.0);
    batch.priority.resize(n * plane, 0.0);
    let mut px = [0.0f32; 3];
    let mut m = [0.0f32; 1];
    for b in 0..n {
        let s = &samples[picks[b]];
        let img: Vec<f32> = s.image.data.iter().map(|&v| v as f32 / 255.0).collect();
        let map = view(size, res, if augment { Some(&mut *rng) } else { None });
        let (gain, bias) = if augment {
            (
                [
                    rng.range(0.92, 1.08),
                    rng.range(0.92, 1.08),
                    rng.range(0.92, 1.08),
                ],
                rng.range(-0.06, 0.06),
            )
        } else {
            ([1.0; 3], 0.0)
        };
        // The warp: a 5x5 grid of random offsets, smoothly interpolated.
        let mut grid = [[0.0f32; 2]; 25];
        if augment {
            for g in grid.iter_mut() {
                *g = [
                    rng.range(-1.0, 1.0) * res as f32 * 0.03,
                    rng.range(-1.0, 1.0) * res as f32 * 0.03,
                ];
            }
        }
        for y in 0..res {
            for x in 0..res {
                let p = map.apply(Point::new(x as f32, y as f32));
                let i = y * res + x;
                bilinear(&img, size, size, 3, p.x, p.y, &mut px);
                for c in 0..3 {
                    batch.target[(b * 3 + c) * plane + i] =
                        (px[c] * gain[c] + bias).clamp(0.0, 1.0);
                }
                bilinear(&s.mask, size, size, 1, p.x, p.y, &mut m);
                batch.mask[b * plane + i] = m[0];
                bilinear(&s.priority, size, size, 1, p.x, p.y, &mut m);
                batch.priority[b * plane + i] = m[0];
                // Bent input: sample the grid's offset at this point.
                let (gx, gy) = (
                    x as f32 / (res - 1) as f32 * 4.0,
                    y as f32 / (res - 1) as f32 * 4.0,
                );
                let (ix, iy) = ((gx as usize).min(3), (gy as usize).min(3));
                let (tx, ty) = (gx - ix as f32, gy - iy as f32);
                let g = |a: usize, b: usize, k: usize| grid[b * 5 + a][k];
                let off = [0, 1].map(|k| {
                    let top = g(ix, iy, k) + (g(ix + 1, iy, k) - g(ix, iy, k)) * tx;
                    let bottom = g(ix, iy + 1, k) + (g(ix + 1, iy + 1, k) - g(ix, iy + 1, k)) * tx;
                    top + (bottom - top) * ty
                });
                let q = map.apply(Point::new(x as f32 + off[0], y as f32 + off[1]));
                bilinear(&img, size, size, 3, q.x, q.y, &mut px);
                for c in 0..3 {
                    batch.input[(b * 3 + c) * plane + i] = (px[c] * gain[c] + bias).clamp(0.0, 1.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faces(yaws: &[f32]) -> Vec<Sample> {
        yaws.iter()
            .map(|&yaw| Sample {
                image: Image::default(),
                yaw,
                mask: Vec::new(),
                priority: Vec::new(),
            })
            .collect()
    }

    /// Ninety frontal faces and ten turned ones: drawn evenly over faces the turned ones come
    /// up a tenth of the time, drawn evenly over yaw half of it.
    #[test]
    fn uniform_yaw_draws_rare_turns_as_often_as_common_ones() {
        let mut yaws = vec![1.0f32; 90];
        yaws.extend([40.0f32; 10]);
        let set = faces(&yaws);
        let mut rng = Rng::new(5);
        let turned = |picks: Vec<usize>| picks.iter().filter(|&&i| i >= 90).count() as f32 / 8000.0;
        let even = turned(Picker::by_yaw(&set).pick(8000, &mut rng));
        let plain = turned(Picker::uniform(&set).pick(8000, &mut rng));
        assert!((even - 0.5).abs() < 0.03, "evenly over yaw: {even}");
        assert!((plain - 0.1).abs() < 0.02, "evenly over faces: {plain}");
        // Every face of a bin is drawn, not only its first.
        let seen: std::collections::HashSet<usize> = Picker::by_yaw(&set)
            .pick(8000, &mut rng)
            .into_iter()
            .collect();
        assert_eq!(seen.len(), 100);
    }
}
