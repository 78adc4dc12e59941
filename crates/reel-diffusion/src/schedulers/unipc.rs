//! UniPC multistep (diffusers' `UniPCMultistepScheduler`) on flow sigmas, as Wan's pipelines
//! run it: a predictor of order up to `solver_order` from the last data predictions, and a
//! corrector that refines each step with the model's next answer, at no extra model call.
//! The coefficients are computed in f32, as diffusers computes them.

use candle_core::{DType, Tensor};

use super::{Scheduler, linspace, shifted};
use crate::error::{DiffusionError, Result};

pub struct Settings {
    pub train_steps: usize,
    pub shift: f64,
    pub steps: usize,
    pub order: usize,
    /// B(h) = e^h − 1 (bh2) rather than h (bh1).
    pub bh2: bool,
    pub predict_x0: bool,
    pub lower_order_final: bool,
    pub disable_corrector: Vec<usize>,
    /// End at the last sigma rather than at 0.
    pub final_sigma_min: bool,
}

pub struct UniPcMultistep {
    settings: Settings,
    timesteps: Vec<f32>,
    sigmas: Vec<f32>,
    /// The data predictions of the last steps, newest last.
    outputs: Vec<Tensor>,
    last_sample: Option<Tensor>,
    lower_order_nums: usize,
    this_order: usize,
    index: usize,
}

impl UniPcMultistep {
    pub fn new(settings: Settings) -> Result<Self> {
        if !settings.predict_x0 {
            return Err(DiffusionError::Usage(
                "UniPC with predict_x0 off is not used by Wan's flow models".into(),
            ));
        }
        let n = settings.train_steps as f64;
        let mut sigmas: Vec<f64> = linspace(1.0, 1.0 / n, settings.steps + 1)[..settings.steps]
            .iter()
            .map(|&s| shifted(s, settings.shift))
            .collect();
        if (sigmas[0] - 1.0).abs() < 1e-6 {
            sigmas[0] -= 1e-6;
        }
        // The model is asked at whole timesteps (diffusers stores them as int64).
        let timesteps = sigmas.iter().map(|s| (s * n).trunc() as f32).collect();
        let last = if settings.final_sigma_min {
            sigmas[sigmas.len() - 1]
        } else {
            0.0
        };
        let mut sigmas: Vec<f32> = sigmas.into_iter().map(|s| s as f32).collect();
        sigmas.push(last as f32);
        Ok(UniPcMultistep {
            settings,
            timesteps,
            sigmas,
            outputs: Vec::new(),
            last_sample: None,
            lower_order_nums: 0,
            this_order: 1,
            index: 0,
        })
    }

    /// λ = log α − log σ, with α = 1 − σ on flow sigmas.
    fn lambda(&self, i: usize) -> f32 {
        let sigma = self.sigmas[i];
        (1.0 - sigma).ln() - sigma.ln()
    }

    /// The coefficients shared by predictor and corrector: for step sizes `rks` (relative to h)
    /// of the older outputs, h·φ₁, B(h), and the rows R and b of the order conditions.
    fn coefficients(&self, h: f32, rks: &[f32]) -> (f32, f32, Vec<Vec<f32>>, Vec<f32>) {
        let hh = -h;
        let h_phi_1 = hh.exp_m1();
        let mut h_phi_k = h_phi_1 / hh - 1.0;
        let b_h = if self.settings.bh2 { hh.exp_m1() } else { hh };
        let mut factorial = 1.0f32;
        let order = rks.len();
        let mut r = Vec::with_capacity(order);
        let mut b = Vec::with_capacity(order);
        for i in 1..=order {
            r.push(rks.iter().map(|rk| rk.powi(i as i32 - 1)).collect());
            b.push(h_phi_k * factorial / b_h);
            factorial *= (i + 1) as f32;
            h_phi_k = h_phi_k / hh - 1.0 / factorial;
        }
        (h_phi_1, b_h, r, b)
    }

    /// Σ ρₖ·(mₖ − m₀)/rₖ over the older outputs.
    fn weighted_differences(
        &self,
        rhos: &[f32],
        rks: &[f32],
        m0: &Tensor,
    ) -> Result<Option<Tensor>> {
        let mut sum: Option<Tensor> = None;
        for (k, (rho, rk)) in rhos.iter().zip(rks).enumerate() {
            let mk = &self.outputs[self.outputs.len() - 2 - k];
            let term = ((mk - m0)? * (*rho / *rk) as f64)?;
            sum = Some(match sum {
                Some(s) => (s + term)?,
                None => term,
            });
        }
        Ok(sum)
    }

    /// The predictor: the sample at step `index + 1` from the outputs so far.
    fn predict(&self, sample: &Tensor, order: usize) -> Result<Tensor> {
        let i = self.index;
        let (lambda_t, lambda_s0) = (self.lambda(i + 1), self.lambda(i));
        let h = lambda_t - lambda_s0;
        let rks: Vec<f32> = (1..order)
            .map(|k| (self.lambda(i - k) - lambda_s0) / h)
            .chain([1.0])
            .collect();
        let (h_phi_1, b_h, r, b) = self.coefficients(h, &rks);
        let rhos: Vec<f32> = match order {
            1 => vec![],
            2 => vec![0.5],
            _ => solve(
                r[..order - 1]
                    .iter()
                    .map(|row| row[..order - 1].to_vec())
                    .collect(),
                b[..order - 1].to_vec(),
            ),
        };
        let m0 = self.outputs.last().expect("an output");
        let (sigma_t, sigma_s0) = (self.sigmas[i + 1], self.sigmas[i]);
        let alpha_t = 1.0 - sigma_t;
        let x = ((sample * (sigma_t / sigma_s0) as f64)? - (m0 * (alpha_t * h_phi_1) as f64)?)?;
        Ok(
            match self.weighted_differences(&rhos, &rks[..order - 1], m0)? {
                Some(d) => (x - (d * (alpha_t * b_h) as f64)?)?,
                None => x,
            },
        )
    }

    /// The corrector: step `index` redone with the model's output at it (`model_t`).
    fn correct(&self, model_t: &Tensor, last_sample: &Tensor, order: usize) -> Result<Tensor> {
        let i = self.index;
        let (lambda_t, lambda_s0) = (self.lambda(i), self.lambda(i - 1));
        let h = lambda_t - lambda_s0;
        let rks: Vec<f32> = (1..order)
            .map(|k| (self.lambda(i - 1 - k) - lambda_s0) / h)
            .chain([1.0])
            .collect();
        let (h_phi_1, b_h, r, b) = self.coefficients(h, &rks);
        let rhos = if order == 1 { vec![0.5] } else { solve(r, b) };
        let m0 = self.outputs.last().expect("an output");
        let (sigma_t, sigma_s0) = (self.sigmas[i], self.sigmas[i - 1]);
        let alpha_t = 1.0 - sigma_t;
        let x =
            ((last_sample * (sigma_t / sigma_s0) as f64)? - (m0 * (alpha_t * h_phi_1) as f64)?)?;
        let mut correction = ((model_t - m0)? * rhos[order - 1] as f64)?;
        if let Some(d) = self.weighted_differences(&rhos[..order - 1], &rks[..order - 1], m0)? {
            correction = (d + correction)?;
        }
        Ok((x - (correction * (alpha_t * b_h) as f64)?)?)
    }
}

impl Scheduler for UniPcMultistep {
    fn timesteps(&self) -> &[f32] {
        &self.timesteps
    }

    fn sigmas(&self) -> &[f32] {
        &self.sigmas
    }

    fn step(&mut self, model_output: &Tensor, sample: &Tensor) -> Result<Tensor> {
        let dtype = sample.dtype();
        let sample = sample.to_dtype(DType::F32)?;
        let model_output = model_output.to_dtype(DType::F32)?;
        let steps = self.timesteps.len();
        if self.index >= steps {
            return Err(DiffusionError::Usage(
                "the schedule has no steps left".into(),
            ));
        }
        // The data prediction: x₀ = x − σ·v.
        let x0 = (&sample - (&model_output * self.sigmas[self.index] as f64)?)?;
        let corrected = match &self.last_sample {
            Some(last)
                if self.index > 0
                    && !self.settings.disable_corrector.contains(&(self.index - 1)) =>
            {
                self.correct(&x0, last, self.this_order)?
            }
            _ => sample,
        };
        self.outputs.push(x0);
        if self.outputs.len() > self.settings.order {
            self.outputs.remove(0);
        }
        let order = if self.settings.lower_order_final {
            self.settings.order.min(steps - self.index)
        } else {
            self.settings.order
        };
        self.this_order = order.min(self.lower_order_nums + 1);
        let next = self.predict(&corrected, self.this_order)?;
        self.last_sample = Some(corrected);
        if self.lower_order_nums < self.settings.order {
            self.lower_order_nums += 1;
        }
        self.index += 1;
        Ok(next.to_dtype(dtype)?)
    }

    fn begin_at(&mut self, index: usize) {
        self.index = index;
        self.outputs.clear();
        self.last_sample = None;
        self.lower_order_nums = 0;
        self.this_order = 1;
    }
}

/// Solves the small system R·x = b by Gaussian elimination with partial pivoting.
fn solve(mut r: Vec<Vec<f32>>, mut b: Vec<f32>) -> Vec<f32> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| r[x][col].abs().total_cmp(&r[y][col].abs()))
            .unwrap_or(col);
        r.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = r[row][col] / r[col][col];
            let pivot_row = r[col].clone();
            for (value, p) in r[row].iter_mut().zip(&pivot_row).skip(col) {
                *value -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0f32; n];
    for row in (0..n).rev() {
        let s: f32 = (row + 1..n).map(|k| r[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / r[row][row];
    }
    x
}
