//! Flow-matching Euler (diffusers' `FlowMatchEulerDiscreteScheduler`): `x ← x + (σ_next − σ)·v`.

use candle_core::{DType, Tensor};

use super::{Scheduler, linspace, shifted};
use crate::error::Result;

pub struct FlowMatchEuler {
    timesteps: Vec<f32>,
    sigmas: Vec<f32>,
    index: usize,
}

impl FlowMatchEuler {
    pub fn new(train_steps: usize, shift: f64, steps: usize) -> Self {
        let n = train_steps as f64;
        // As diffusers: the end points come from the training schedule, shifted once in f32,
        // and the inference schedule between them is shifted again (in f64).
        let shift32 = shift as f32;
        let train = |s: f32| shift32 * s / (1.0 + (shift32 - 1.0) * s);
        let sigma_max = train(1.0) as f64;
        let sigma_min = train(1.0 / train_steps as f32) as f64;
        let mut sigmas: Vec<f32> = linspace(sigma_max * n, sigma_min * n, steps)
            .into_iter()
            .map(|t| shifted(t / n, shift) as f32)
            .collect();
        let timesteps = sigmas.iter().map(|s| s * train_steps as f32).collect();
        sigmas.push(0.0);
        FlowMatchEuler {
            timesteps,
            sigmas,
            index: 0,
        }
    }
}

impl Scheduler for FlowMatchEuler {
    fn timesteps(&self) -> &[f32] {
        &self.timesteps
    }

    fn sigmas(&self) -> &[f32] {
        &self.sigmas
    }

    fn step(&mut self, model_output: &Tensor, sample: &Tensor) -> Result<Tensor> {
        let i = self.index.min(self.timesteps.len() - 1);
        let dt = self.sigmas[i + 1] - self.sigmas[i];
        let next =
            (sample.to_dtype(DType::F32)? + (model_output.to_dtype(DType::F32)? * dt as f64)?)?;
        self.index += 1;
        Ok(next.to_dtype(model_output.dtype())?)
    }

    fn begin_at(&mut self, index: usize) {
        self.index = index;
    }
}
