//! Dense optical flow by inverse search over patches, coarse to fine (after Kroeger, Timofte,
//! Dai and Van Gool, "Fast Optical Flow using Dense Inverse Search", 2016): at each level of an
//! image pyramid, every patch of a grid finds where it went by Gauss-Newton steps on the
//! first image's gradients (so the 2x2 system is built once a patch, not once a step), then
//! the patches' displacements are blended into a flow for every pixel, weighted by how well
//! each explains that pixel, and handed to the next finer level as its start.

/// A flow field: where each pixel of the first image is found in the second, in pixels of
/// the field's own size.
#[derive(Clone, Debug, Default)]
pub struct Flow {
    pub width: usize,
    pub height: usize,
    /// Horizontal and vertical displacements, row by row.
    pub u: Vec<f32>,
    pub v: Vec<f32>,
}

impl Flow {
    fn reshape(&mut self, width: usize, height: usize) {
        self.width = width;
        self.height = height;
        self.u.clear();
        self.u.resize(width * height, 0.0);
        self.v.clear();
        self.v.resize(width * height, 0.0);
    }

    /// The displacement at a point between pixels (bilinear, clamped to the field).
    #[inline]
    pub fn at(&self, x: f32, y: f32) -> (f32, f32) {
        let (i, fx, j, fy) = split(x, y, self.width, self.height);
        let w = self.width;
        let lerp = |p: &[f32]| {
            let top = p[j * w + i] + (p[j * w + i + 1] - p[j * w + i]) * fx;
            let bottom = p[(j + 1) * w + i] + (p[(j + 1) * w + i + 1] - p[(j + 1) * w + i]) * fx;
            top + (bottom - top) * fy
        };
        (lerp(&self.u), lerp(&self.v))
    }
}

/// A grey image in floats (0 to 255).
#[derive(Clone, Debug, Default)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Gray {
    /// The luma of an RGB frame.
    pub fn from_rgb(&mut self, rgb: &[u8], width: usize, height: usize) {
        self.width = width;
        self.height = height;
        self.data.clear();
        self.data.extend(
            rgb.chunks_exact(3)
                .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32),
        );
    }

    /// Half the size, each pixel the mean of four.
    fn halve(&self, out: &mut Gray) {
        let (w, h) = (self.width / 2, self.height / 2);
        out.width = w;
        out.height = h;
        out.data.clear();
        out.data.reserve(w * h);
        let src = self.width;
        for y in 0..h {
            let (r0, r1) = (2 * y * src, (2 * y + 1) * src);
            for x in 0..w {
                let s = self.data[r0 + 2 * x]
                    + self.data[r0 + 2 * x + 1]
                    + self.data[r1 + 2 * x]
                    + self.data[r1 + 2 * x + 1];
                out.data.push(s * 0.25);
            }
        }
    }

    /// The `p` x `p` patch whose top-left corner is at (`x`, `y`) (between pixels), into
    /// `out`: one displacement for the whole patch, so its bilinear weights are computed once.
    fn patch(&self, x: f32, y: f32, p: usize, out: &mut [f32]) {
        let (x0, y0) = (x.floor(), y.floor());
        let inside = x0 >= 0.0
            && y0 >= 0.0
            && (x0 as usize + p) < self.width
            && (y0 as usize + p) < self.height;
        if !inside {
            for j in 0..p {
                for i in 0..p {
                    out[j * p + i] = self.at(x + i as f32, y + j as f32);
                }
            }
            return;
        }
        let (fx, fy) = (x - x0, y - y0);
        let (w00, w10) = ((1.0 - fx) * (1.0 - fy), fx * (1.0 - fy));
        let (w01, w11) = ((1.0 - fx) * fy, fx * fy);
        let (x0, y0, w) = (x0 as usize, y0 as usize, self.width);
        for (j, row) in out.chunks_exact_mut(p).take(p).enumerate() {
            let top = &self.data[(y0 + j) * w + x0..(y0 + j) * w + x0 + p + 1];
            let bottom = &self.data[(y0 + j + 1) * w + x0..(y0 + j + 1) * w + x0 + p + 1];
            for (i, o) in row.iter_mut().enumerate() {
                *o = w00 * top[i] + w10 * top[i + 1] + w01 * bottom[i] + w11 * bottom[i + 1];
            }
        }
    }

    #[inline]
    pub fn at(&self, x: f32, y: f32) -> f32 {
        let (i, fx, j, fy) = split(x, y, self.width, self.height);
        let (w, p) = (self.width, &self.data);
        let top = p[j * w + i] + (p[j * w + i + 1] - p[j * w + i]) * fx;
        let bottom = p[(j + 1) * w + i] + (p[(j + 1) * w + i + 1] - p[(j + 1) * w + i]) * fx;
        top + (bottom - top) * fy
    }
}

/// The cell of a point clamped inside a `width` x `height` grid, and its fractions.
#[inline]
fn split(x: f32, y: f32, width: usize, height: usize) -> (usize, f32, usize, f32) {
    let cell = |p: f32, n: usize| {
        let last = (n.max(2) - 2) as f32;
        let p = p.clamp(0.0, last + 1.0);
        let i = p.floor().min(last);
        (i as usize, p - i)
    };
    let (i, fx) = cell(x, width);
    let (j, fy) = cell(y, height);
    (i, fx, j, fy)
}

/// The grey pyramid of a frame: level 0 full size, each next one half the last.
#[derive(Clone, Debug, Default)]
pub struct Pyramid {
    pub levels: Vec<Gray>,
}

impl Pyramid {
    /// Builds the pyramid of an RGB frame down to `levels` levels.
    pub fn build(&mut self, rgb: &[u8], width: usize, height: usize, levels: usize) {
        self.levels.resize_with(levels.max(1), Gray::default);
        self.levels[0].from_rgb(rgb, width, height);
        for l in 1..self.levels.len() {
            let (done, rest) = self.levels.split_at_mut(l);
            done[l - 1].halve(&mut rest[0]);
        }
    }
}

/// How hard the search works, and how fine its result is.
#[derive(Clone, Copy, Debug)]
pub struct FlowSettings {
    /// A patch's side, in pixels.
    pub patch: usize,
    /// Pixels between patches (less than `patch`: patches overlap).
    pub stride: usize,
    /// Gauss-Newton steps a patch, at most.
    pub iterations: usize,
    /// The flow's width, about: the search stops at the pyramid level nearest above it (the
    /// full size for smaller frames), and the flow comes at that level's size. Finer flow
    /// adds little to interpolation and costs four times as much a level.
    pub width: usize,
}

impl Default for FlowSettings {
    fn default() -> FlowSettings {
        // Chosen by rebuilding dropped frames of the sample clips (larger patches follow
        // moving text and gratings better; more steps add nothing).
        FlowSettings {
            patch: 12,
            stride: 4,
            iterations: 8,
            width: 320,
        }
    }
}

impl FlowSettings {
    /// The pyramid's depth for a frame: down to about three patches across its shorter side
    /// (the search's finest level is never below the coarsest).
    pub fn levels(&self, width: usize, height: usize) -> usize {
        let mut levels = 1;
        while (width.min(height) >> levels) >= 3 * self.patch {
            levels += 1;
        }
        levels
    }

    /// The finest level searched for frames `width` pixels wide (0 is the full size).
    pub fn finest(&self, width: usize) -> usize {
        let mut level = 0;
        while (width >> (level + 1)) >= self.width.max(1) {
            level += 1;
        }
        level
    }
}

/// The working memory of the search, kept between frames.
#[derive(Default)]
pub struct FlowSearch {
    gx: Vec<f32>,
    gy: Vec<f32>,
    patches: Vec<(f32, f32)>,
    sum: Flow,
    weight: Vec<f32>,
    start: Flow,
    template: Vec<f32>,
    warped: Vec<f32>,
}

impl FlowSearch {
    /// The flow from `from` to `to` (pyramids of the same frame size), into `flow`.
    pub fn run(&mut self, from: &Pyramid, to: &Pyramid, settings: &FlowSettings, flow: &mut Flow) {
        let coarsest = from.levels.len().min(to.levels.len()) - 1;
        let finest = settings.finest(from.levels[0].width).min(coarsest);
        let top = &from.levels[coarsest];
        flow.reshape(top.width, top.height);
        for level in (finest..=coarsest).rev() {
            let (a, b) = (&from.levels[level], &to.levels[level]);
            if level != coarsest {
                upsample(flow, a.width, a.height, &mut self.start);
                std::mem::swap(flow, &mut self.start);
            }
            self.level(a, b, settings, flow);
        }
    }

    /// One level: `flow` comes in as the start (at `a`'s size) and leaves refined.
    fn level(&mut self, a: &Gray, b: &Gray, settings: &FlowSettings, flow: &mut Flow) {
        let (w, h) = (a.width, a.height);
        let p = settings.patch.min(w).min(h);
        if p < 2 {
            return;
        }
        gradients(a, &mut self.gx, &mut self.gy);
        let xs = grid(w, p, settings.stride);
        let ys = grid(h, p, settings.stride);
        self.patches.clear();
        self.template.resize(p * p, 0.0);
        self.warped.resize(p * p, 0.0);
        let limit = w.max(h) as f32;
        for &py in &ys {
            for &px in &xs {
                let centre = (px as f32 + p as f32 / 2.0, py as f32 + p as f32 / 2.0);
                let start = flow.at(centre.0 - 0.5, centre.1 - 0.5);
                let found = self.search(a, b, px, py, p, start, settings.iterations);
                let clamp = |d: f32| d.clamp(-limit, limit);
                self.patches.push((clamp(found.0), clamp(found.1)));
            }
        }
        // Every pixel: the patches over it, each weighted by how well it explains the pixel.
        self.sum.reshape(w, h);
        self.weight.clear();
        self.weight.resize(w * h, 0.0);
        let mut n = 0;
        for &py in &ys {
            for &px in &xs {
                let (du, dv) = self.patches[n];
                n += 1;
                b.patch(px as f32 + du, py as f32 + dv, p, &mut self.warped);
                for y in py..py + p {
                    for x in px..px + p {
                        let i = y * w + x;
                        let miss = (self.warped[(y - py) * p + x - px] - a.data[i]).abs();
                        let weight = 1.0 / miss.max(1.0);
                        self.sum.u[i] += du * weight;
                        self.sum.v[i] += dv * weight;
                        self.weight[i] += weight;
                    }
                }
            }
        }
        flow.reshape(w, h);
        for i in 0..w * h {
            let weight = self.weight[i].max(1e-12);
            flow.u[i] = self.sum.u[i] / weight;
            flow.v[i] = self.sum.v[i] / weight;
        }
    }

    /// Where the patch at (`px`, `py`) of `a` is in `b`, from `start`: inverse-compositional
    /// Gauss-Newton on mean-normalised patches (a change of brightness moves nothing).
    #[allow(clippy::too_many_arguments)]
    fn search(
        &mut self,
        a: &Gray,
        b: &Gray,
        px: usize,
        py: usize,
        p: usize,
        start: (f32, f32),
        iterations: usize,
    ) -> (f32, f32) {
        let w = a.width;
        let (mut hxx, mut hxy, mut hyy, mut mean) = (0f32, 0f32, 0f32, 0f32);
        for j in 0..p {
            for i in 0..p {
                let k = (py + j) * w + px + i;
                let (gx, gy) = (self.gx[k], self.gy[k]);
                hxx += gx * gx;
                hxy += gx * gy;
                hyy += gy * gy;
                self.template[j * p + i] = a.data[k];
                mean += a.data[k];
            }
        }
        let count = (p * p) as f32;
        mean /= count;
        let det = hxx * hyy - hxy * hxy;
        // A flat patch says nothing about where it went: keep what the coarser level said.
        if det <= 1e-3 * count * count {
            return start;
        }
        let (ixx, ixy, iyy) = (hyy / det, -hxy / det, hxx / det);
        let (mut u, mut v) = start;
        let mut first_cost = None;
        let mut cost = 0.0;
        for _ in 0..iterations.max(1) {
            b.patch(px as f32 + u, py as f32 + v, p, &mut self.warped);
            let warped_mean = self.warped.iter().sum::<f32>() / count;
            let (mut bx, mut by) = (0f32, 0f32);
            cost = 0.0;
            for j in 0..p {
                for i in 0..p {
                    let k = (py + j) * w + px + i;
                    let d =
                        self.warped[j * p + i] - warped_mean - (self.template[j * p + i] - mean);
                    bx += self.gx[k] * d;
                    by += self.gy[k] * d;
                    cost += d * d;
                }
            }
            first_cost.get_or_insert(cost);
            let du = ixx * bx + ixy * by;
            let dv = ixy * bx + iyy * by;
            u -= du;
            v -= dv;
            if du * du + dv * dv < 1e-4 {
                break;
            }
        }
        // A search that made things worse is undone.
        if first_cost.is_some_and(|c| cost > c) {
            return start;
        }
        (u, v)
    }
}

/// Patch corners along a side of `n` pixels, every `stride`, the last flush with the edge.
fn grid(n: usize, patch: usize, stride: usize) -> Vec<usize> {
    let mut corners: Vec<usize> = (0..=n - patch).step_by(stride.max(1)).collect();
    if corners.last() != Some(&(n - patch)) {
        corners.push(n - patch);
    }
    corners
}

/// Central-difference gradients (one-sided at the edges).
fn gradients(a: &Gray, gx: &mut Vec<f32>, gy: &mut Vec<f32>) {
    let (w, h) = (a.width, a.height);
    gx.clear();
    gx.resize(w * h, 0.0);
    gy.clear();
    gy.resize(w * h, 0.0);
    let d = &a.data;
    for y in 0..h {
        let (up, down) = (y.saturating_sub(1), (y + 1).min(h - 1));
        let yscale = if down - up == 2 { 0.5 } else { 1.0 };
        for x in 0..w {
            let (left, right) = (x.saturating_sub(1), (x + 1).min(w - 1));
            let xscale = if right - left == 2 { 0.5 } else { 1.0 };
            gx[y * w + x] = (d[y * w + right] - d[y * w + left]) * xscale;
            gy[y * w + x] = (d[down * w + x] - d[up * w + x]) * yscale;
        }
    }
}

/// A flow at twice the size (its displacements doubled), fitted to `width` x `height`.
fn upsample(flow: &Flow, width: usize, height: usize, out: &mut Flow) {
    out.reshape(width, height);
    let sx = flow.width as f32 / width as f32;
    let sy = flow.height as f32 / height as f32;
    for y in 0..height {
        for x in 0..width {
            let (u, v) = flow.at((x as f32 + 0.5) * sx - 0.5, (y as f32 + 0.5) * sy - 0.5);
            out.u[y * width + x] = u / sx;
            out.v[y * width + x] = v / sy;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Smooth random texture (value noise in two octaves), shifted by (dx, dy) in the second
    /// frame.
    fn textured(width: usize, height: usize, dx: f32, dy: f32) -> (Vec<u8>, Vec<u8>) {
        let mut seed = 0x2545_f491_u64;
        let grid: Vec<f32> = (0..64 * 64)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (seed >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect();
        let noise = |x: f32, y: f32| {
            let (x0, y0) = (x.floor(), y.floor());
            let (fx, fy) = (x - x0, y - y0);
            let (fx, fy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
            let g = |i: f32, j: f32| {
                grid[(j as i64).rem_euclid(64) as usize * 64 + (i as i64).rem_euclid(64) as usize]
            };
            let top = g(x0, y0) + (g(x0 + 1.0, y0) - g(x0, y0)) * fx;
            let bottom = g(x0, y0 + 1.0) + (g(x0 + 1.0, y0 + 1.0) - g(x0, y0 + 1.0)) * fx;
            top + (bottom - top) * fy
        };
        let pattern = |x: f32, y: f32| {
            let v = noise(x / 24.0, y / 24.0) * 170.0 + noise(x / 6.0 + 17.0, y / 6.0 + 5.0) * 70.0;
            v.clamp(0.0, 255.0) as u8
        };
        let mut a = Vec::with_capacity(width * height * 3);
        let mut b = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            for x in 0..width {
                let (fx, fy) = (x as f32, y as f32);
                a.extend([pattern(fx, fy); 3]);
                b.extend([pattern(fx - dx, fy - dy); 3]);
            }
        }
        (a, b)
    }

    #[test]
    fn a_shifted_texture_is_found_where_it_went() {
        let (w, h) = (320, 240);
        for (dx, dy) in [(3.0, -2.0), (11.5, 6.25), (-17.0, 0.0)] {
            let (a, b) = textured(w, h, dx, dy);
            let settings = FlowSettings::default();
            let levels = settings.levels(w, h);
            let (mut pa, mut pb) = (Pyramid::default(), Pyramid::default());
            pa.build(&a, w, h, levels);
            pb.build(&b, w, h, levels);
            let mut flow = Flow::default();
            FlowSearch::default().run(&pa, &pb, &settings, &mut flow);
            // Away from the edges, where content comes in or leaves.
            let mut worst = 0f32;
            for y in 40..h - 40 {
                for x in 40..w - 40 {
                    let i = y * w + x;
                    worst = worst
                        .max((flow.u[i] - dx).abs())
                        .max((flow.v[i] - dy).abs());
                }
            }
            assert!(worst < 0.25, "shift ({dx}, {dy}): worst error {worst} px");
        }
    }
}
