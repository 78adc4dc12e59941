//! A small neural classifier (one hidden layer) over style features, trained with Adam on
//! class-balanced cross-entropy. Plain Rust: a few thousand weights, trained in seconds, the
//! same numbers on every machine.

use serde::{Deserialize, Serialize};

/// A seeded SplitMix64: reproducible initial weights and shuffles without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }
}

/// Inputs are standardised, then `hidden` tanh units, then a softmax over the classes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Classifier {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub hidden: usize,
    /// hidden x inputs, row-major.
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    /// classes x hidden, row-major.
    pub w2: Vec<f32>,
    pub b2: Vec<f32>,
}

/// How training runs.
#[derive(Clone, Copy, Debug)]
pub struct Training {
    pub hidden: usize,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f32,
    /// L2 penalty on the weights.
    pub weight_decay: f32,
    pub seed: u64,
}

impl Default for Training {
    fn default() -> Self {
        Training {
            hidden: 16,
            epochs: 100,
            batch: 64,
            learning_rate: 3e-3,
            weight_decay: 1e-3,
            seed: 7,
        }
    }
}

impl Classifier {
    pub fn inputs(&self) -> usize {
        self.mean.len()
    }
    pub fn classes(&self) -> usize {
        self.b2.len()
    }

    /// Class probabilities of one feature vector.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        let mut h = vec![0f32; self.hidden];
        self.forward(x, &mut h)
    }

    fn forward(&self, x: &[f32], h: &mut [f32]) -> Vec<f32> {
        let d = self.inputs();
        let z: Vec<f32> = x
            .iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(v, (m, s))| (v - m) / s)
            .collect();
        for (j, hj) in h.iter_mut().enumerate() {
            let row = &self.w1[j * d..(j + 1) * d];
            *hj = (self.b1[j] + row.iter().zip(&z).map(|(w, v)| w * v).sum::<f32>()).tanh();
        }
        let mut out: Vec<f32> = (0..self.classes())
            .map(|k| {
                let row = &self.w2[k * self.hidden..(k + 1) * self.hidden];
                self.b2[k] + row.iter().zip(h.iter()).map(|(w, v)| w * v).sum::<f32>()
            })
            .collect();
        softmax(&mut out);
        out
    }

    /// Trains on `(features, class)` pairs; each class weighs the same in the loss whatever its
    /// number of examples.
    pub fn train(x: &[Vec<f32>], y: &[usize], classes: usize, t: &Training) -> Classifier {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f32;
        let mut mean = vec![0f32; d];
        for v in x {
            for (m, a) in mean.iter_mut().zip(v) {
                *m += a / n;
            }
        }
        let mut scale = vec![0f32; d];
        for v in x {
            for ((s, a), m) in scale.iter_mut().zip(v).zip(&mean) {
                *s += (a - m).powi(2) / n;
            }
        }
        for s in &mut scale {
            *s = s.sqrt().max(1e-3);
        }
        let mut rng = Rng::new(t.seed);
        let h = t.hidden;
        let init = |rng: &mut Rng, fan_in: usize| (rng.normal() / (fan_in as f64).sqrt()) as f32;
        let mut c = Classifier {
            mean,
            scale,
            hidden: h,
            w1: (0..h * d).map(|_| init(&mut rng, d)).collect(),
            b1: vec![0.0; h],
            w2: (0..classes * h).map(|_| init(&mut rng, h)).collect(),
            b2: vec![0.0; classes],
        };
        let mut counts = vec![0usize; classes];
        for &k in y {
            counts[k] += 1;
        }
        let present = counts.iter().filter(|&&c| c > 0).count().max(1) as f32;
        let weight: Vec<f32> = counts
            .iter()
            .map(|&c| if c > 0 { n / (present * c as f32) } else { 0.0 })
            .collect();

        let mut adam = Adam::new(&[c.w1.len(), c.b1.len(), c.w2.len(), c.b2.len()]);
        let mut order: Vec<usize> = (0..x.len()).collect();
        let mut hidden = vec![0f32; h];
        for _ in 0..t.epochs {
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            for batch in order.chunks(t.batch.max(1)) {
                let mut g = [
                    vec![0f32; c.w1.len()],
                    vec![0f32; c.b1.len()],
                    vec![0f32; c.w2.len()],
                    vec![0f32; c.b2.len()],
                ];
                let scale_batch = 1.0 / batch.len() as f32;
                for &i in batch {
                    let p = c.forward(&x[i], &mut hidden);
                    let w = weight[y[i]] * scale_batch;
                    let z: Vec<f32> = x[i]
                        .iter()
                        .zip(c.mean.iter().zip(&c.scale))
                        .map(|(v, (m, s))| (v - m) / s)
                        .collect();
                    let mut dh = vec![0f32; h];
                    for k in 0..classes {
                        let dk = w * (p[k] - if k == y[i] { 1.0 } else { 0.0 });
                        g[3][k] += dk;
                        for j in 0..h {
                            g[2][k * h + j] += dk * hidden[j];
                            dh[j] += dk * c.w2[k * h + j];
                        }
                    }
                    for j in 0..h {
                        let dz = dh[j] * (1.0 - hidden[j] * hidden[j]);
                        g[1][j] += dz;
                        for (gw, v) in g[0][j * d..(j + 1) * d].iter_mut().zip(&z) {
                            *gw += dz * v;
                        }
                    }
                }
                for (gw, w) in g[0].iter_mut().zip(&c.w1) {
                    *gw += t.weight_decay * w;
                }
                for (gw, w) in g[2].iter_mut().zip(&c.w2) {
                    *gw += t.weight_decay * w;
                }
                adam.step(
                    [&mut c.w1, &mut c.b1, &mut c.w2, &mut c.b2],
                    &g,
                    t.learning_rate,
                );
            }
        }
        c
    }
}

fn softmax(v: &mut [f32]) {
    let m = v.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - m).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

struct Adam {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
}

impl Adam {
    fn new(sizes: &[usize]) -> Adam {
        Adam {
            m: sizes.iter().map(|&s| vec![0.0; s]).collect(),
            v: sizes.iter().map(|&s| vec![0.0; s]).collect(),
            t: 0,
        }
    }

    fn step(&mut self, params: [&mut Vec<f32>; 4], grads: &[Vec<f32>; 4], lr: f32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        for (i, p) in params.into_iter().enumerate() {
            for (((w, g), m), v) in p
                .iter_mut()
                .zip(&grads[i])
                .zip(&mut self.m[i])
                .zip(&mut self.v[i])
            {
                *m = B1 * *m + (1.0 - B1) * g;
                *v = B2 * *v + (1.0 - B2) * g * g;
                *w -= lr * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_classes_that_a_line_cannot_split() {
        // Four classes in the quadrants of the plane, with noise: a hidden layer is needed for
        // the diagonal pairs.
        let mut rng = Rng::new(1);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..800 {
            let k = i % 4;
            let (sx, sy) = [(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)][k];
            x.push(vec![
                (sx + 0.3 * rng.normal()) as f32,
                (sy + 0.3 * rng.normal()) as f32,
            ]);
            y.push(if k < 2 { 0 } else { 1 });
        }
        let c = Classifier::train(&x, &y, 2, &Training::default());
        let right = x
            .iter()
            .zip(&y)
            .filter(|(v, k)| {
                let p = c.probabilities(v);
                (p[1] > p[0]) == (**k == 1)
            })
            .count();
        assert!(
            right as f32 / x.len() as f32 > 0.95,
            "{right} of {}",
            x.len()
        );
    }
}
