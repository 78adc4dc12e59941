//! A frame between two others, from the flow each way: the flows are carried forward to the
//! in-between time (each pixel's motion splatted where it will be, weighted by how well the
//! two flows agree there), then both frames are warped to that time and mixed, each where it
//! sees the place (a pixel that one frame covers and the other shows comes from the other).

use reel_image::Image;

use crate::flow::Flow;

/// Squared flow disagreement (in the flow's pixels) at which a sample counts for 1/e.
const AGREEMENT: f32 = 1.0;

/// The working memory of interpolation, kept between frames.
#[derive(Default)]
pub struct Interpolator {
    /// Threads the warping is split over (rows).
    threads: usize,
    /// Mix the two frames by time alone, not by what each sees: for frames of two different
    /// shots, whose flows never agree.
    pub by_time_only: bool,
    /// The flow from time t to the second frame's time, scaled by the interval.
    motion: Flow,
    weight: Vec<f32>,
    /// At the flow's size: the motion and how well each frame sees each place, four values a
    /// point, looked up bilinearly at the frames' size.
    field: Vec<[f32; 4]>,
    /// Each output column's and row's cell in `field`, and fraction.
    columns: Vec<(usize, f32)>,
    rows: Vec<(usize, f32)>,
    /// The frame and flow sizes the cells were made for.
    cells_for: (usize, usize, usize, usize),
}

impl Interpolator {
    pub fn new(threads: usize) -> Interpolator {
        Interpolator {
            threads: threads.max(1),
            ..Interpolator::default()
        }
    }

    /// Writes into `out` the frame at `t` (0 to 1) of the way from `a` to `b`, given the flows
    /// `ab` (from `a` to `b`) and `ba`, both at one size (a fraction of the frames' own).
    pub fn between(&mut self, a: &Image, b: &Image, ab: &Flow, ba: &Flow, t: f32, out: &mut Image) {
        let threads = self.threads;
        self.carry(ab, ba, t);
        self.visibility(ab, ba, t);
        let (w, h) = (a.width, a.height);
        let (fw, fh) = (ab.width, ab.height);
        // Each axis its own scale: halving an odd side leaves the flow a little larger.
        let (sx, sy) = (fw as f32 / w as f32, fh as f32 / h as f32);
        let cells = |n: usize, size: usize, scale: f32| -> Vec<(usize, f32)> {
            (0..n)
                .map(|x| {
                    let p = ((x as f32 + 0.5) * scale - 0.5).clamp(0.0, (size - 1) as f32);
                    let i = (p.floor() as usize).min(size.saturating_sub(2));
                    (i, p - i as f32)
                })
                .collect()
        };
        if self.cells_for != (w, h, fw, fh) {
            self.columns = cells(w, fw, sx);
            self.rows = cells(h, fh, sy);
            self.cells_for = (w, h, fw, fh);
        }
        out.reshape(w, h);
        let rows_each = h.div_ceil(threads.max(1)).max(1);
        let warp = Warp {
            a,
            b,
            t,
            field: &self.field,
            field_width: fw,
            columns: &self.columns,
            rows: &self.rows,
            to_pixels: (1.0 / sx, 1.0 / sy),
        };
        std::thread::scope(|scope| {
            for (n, chunk) in out.data.chunks_mut(rows_each * w * 3).enumerate() {
                let warp = &warp;
                scope.spawn(move || warp.rows(n * rows_each, chunk));
            }
        });
    }

    /// The field the frames' pixels read: at every point of the flow's grid, the motion at
    /// time `t` and how well each frame sees the place it comes from there (the frame's own
    /// flow agreeing with the motion; a place one frame covers is taken from the other).
    fn visibility(&mut self, ab: &Flow, ba: &Flow, t: f32) {
        let (w, h) = (self.motion.width, self.motion.height);
        self.field.clear();
        self.field.reserve(w * h);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let (u, v) = (self.motion.u[i], self.motion.v[i]);
                let (fx, fy) = (x as f32, y as f32);
                let (au, av) = ab.at(fx - t * u, fy - t * v);
                let (bu, bv) = ba.at(fx + (1.0 - t) * u, fy + (1.0 - t) * v);
                let (seen_a, seen_b) = if self.by_time_only {
                    (1.0, 1.0)
                } else {
                    (
                        (-((au - u).powi(2) + (av - v).powi(2)) / AGREEMENT).exp() + 1e-3,
                        (-((bu + u).powi(2) + (bv + v).powi(2)) / AGREEMENT).exp() + 1e-3,
                    )
                };
                self.field.push([u, v, (1.0 - t) * seen_a, t * seen_b]);
            }
        }
    }

    /// The motion at time `t`: each frame's pixels carried along their flow to where they
    /// are at `t`, and their flow (from a to b) left there.
    fn carry(&mut self, ab: &Flow, ba: &Flow, t: f32) {
        let (w, h) = (ab.width, ab.height);
        self.motion.width = w;
        self.motion.height = h;
        for field in [&mut self.motion.u, &mut self.motion.v, &mut self.weight] {
            field.clear();
            field.resize(w * h, 0.0);
        }
        let mut splat = |x: f32, y: f32, u: f32, v: f32, weight: f32| {
            if !(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32) {
                return;
            }
            let (x0, y0) = (x.floor(), y.floor());
            let (fx, fy) = (x - x0, y - y0);
            for (dx, dy, share) in [
                (0, 0, (1.0 - fx) * (1.0 - fy)),
                (1, 0, fx * (1.0 - fy)),
                (0, 1, (1.0 - fx) * fy),
                (1, 1, fx * fy),
            ] {
                let (px, py) = (x0 as i64 + dx, y0 as i64 + dy);
                if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
                    continue;
                }
                let i = py as usize * w + px as usize;
                let s = share * weight;
                self.motion.u[i] += u * s;
                self.motion.v[i] += v * s;
                self.weight[i] += s;
            }
        };
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let (fx, fy) = (x as f32, y as f32);
                // From a: the pixel moves by ab; it agrees where b's flow brings it back.
                let (u, v) = (ab.u[i], ab.v[i]);
                let (bu, bv) = ba.at(fx + u, fy + v);
                let miss = (u + bu).powi(2) + (v + bv).powi(2);
                splat(
                    fx + t * u,
                    fy + t * v,
                    u,
                    v,
                    (-miss / AGREEMENT).exp() + 1e-4,
                );
                // From b: its pixel came by -ba.
                let (u, v) = (ba.u[i], ba.v[i]);
                let (au, av) = ab.at(fx + u, fy + v);
                let miss = (u + au).powi(2) + (v + av).powi(2);
                let back = 1.0 - t;
                splat(
                    fx + back * u,
                    fy + back * v,
                    -u,
                    -v,
                    (-miss / AGREEMENT).exp() + 1e-4,
                );
            }
        }
        for i in 0..w * h {
            if self.weight[i] > 1e-6 {
                self.motion.u[i] /= self.weight[i];
                self.motion.v[i] /= self.weight[i];
            }
        }
        fill_holes(&mut self.motion, &mut self.weight);
    }
}

/// Gives places no pixel reached the mean motion of their reached neighbours, growing in
/// from the edges of each hole.
fn fill_holes(motion: &mut Flow, weight: &mut [f32]) {
    let (w, h) = (motion.width, motion.height);
    for _ in 0..w.max(h) {
        let mut missing = 0;
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if weight[i] > 1e-6 {
                    continue;
                }
                let (mut u, mut v, mut n) = (0.0, 0.0, 0.0);
                for (dx, dy) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                    let (px, py) = (x as i64 + dx, y as i64 + dy);
                    if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
                        continue;
                    }
                    let j = py as usize * w + px as usize;
                    if weight[j] > 1e-6 {
                        u += motion.u[j];
                        v += motion.v[j];
                        n += 1.0;
                    }
                }
                if n > 0.0 {
                    motion.u[i] = u / n;
                    motion.v[i] = v / n;
                    // Marked below the threshold of "reached" for this pass' neighbours.
                    weight[i] = -1.0;
                } else {
                    missing += 1;
                }
            }
        }
        for value in weight.iter_mut() {
            if *value < 0.0 {
                *value = 1e-3;
            }
        }
        if missing == 0 {
            return;
        }
    }
}

/// What every output pixel reads.
struct Warp<'a> {
    a: &'a Image,
    b: &'a Image,
    t: f32,
    field: &'a [[f32; 4]],
    field_width: usize,
    columns: &'a [(usize, f32)],
    rows: &'a [(usize, f32)],
    /// Frame pixels per flow pixel.
    to_pixels: (f32, f32),
}

impl Warp<'_> {
    /// Output rows from `first`: each pixel's motion and visibility looked up, both frames
    /// sampled along the motion, mixed by time and by what each sees.
    fn rows(&self, first: usize, out: &mut [u8]) {
        let w = self.a.width;
        let fw = self.field_width;
        for (r, row) in out.chunks_exact_mut(w * 3).enumerate() {
            let y = first + r;
            let (j, fy) = self.rows[y];
            let top = &self.field[j * fw..(j + 1) * fw];
            let bottom = &self.field[(j + 1) * fw..(j + 2) * fw];
            for x in 0..w {
                let (i, fx) = self.columns[x];
                let mut f = [0f32; 4];
                for (c, value) in f.iter_mut().enumerate() {
                    let upper = top[i][c] + (top[i + 1][c] - top[i][c]) * fx;
                    let lower = bottom[i][c] + (bottom[i + 1][c] - bottom[i][c]) * fx;
                    *value = upper + (lower - upper) * fy;
                }
                let [u, v, wa, wb] = f;
                let (u, v) = (u * self.to_pixels.0, v * self.to_pixels.1);
                let (px, py) = (x as f32, y as f32);
                let pa = sample(self.a, px - self.t * u, py - self.t * v);
                let pb = sample(self.b, px + (1.0 - self.t) * u, py + (1.0 - self.t) * v);
                let norm = 1.0 / (wa + wb);
                let o = &mut row[x * 3..x * 3 + 3];
                for c in 0..3 {
                    o[c] = ((pa[c] * wa + pb[c] * wb) * norm + 0.5).clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// An RGB frame's colour at a point between pixels (bilinear, clamped to the frame).
#[inline]
fn sample(image: &Image, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (image.width, image.height);
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x as usize, y as usize);
    let x1 = if x0 + 1 < w { x0 + 1 } else { x0 };
    let y1 = if y0 + 1 < h { y0 + 1 } else { y0 };
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (w00, w10) = ((1.0 - fx) * (1.0 - fy), fx * (1.0 - fy));
    let (w01, w11) = ((1.0 - fx) * fy, fx * fy);
    let d = &image.data;
    let (p00, p10) = ((y0 * w + x0) * 3, (y0 * w + x1) * 3);
    let (p01, p11) = ((y1 * w + x0) * 3, (y1 * w + x1) * 3);
    let mut out = [0f32; 3];
    for (c, o) in out.iter_mut().enumerate() {
        *o = w00 * d[p00 + c] as f32
            + w10 * d[p10 + c] as f32
            + w01 * d[p01 + c] as f32
            + w11 * d[p11 + c] as f32;
    }
    out
}
