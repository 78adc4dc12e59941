//! Adam, fused on the CPU: one pass over each parameter updates both moments and the parameter
//! in place. candle's AdamW runs ten tensor operations a parameter, each allocating a tensor of
//! the parameter's size, and took a seventh of a training iteration. On other devices this is
//! candle's AdamW.

use std::sync::Mutex;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp2, Layout, Result, Var, bail};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rayon::prelude::*;
use reel_runtime::kernels::f32_slice;

/// Elements a thread updates at a time.
const CHUNK: usize = 1 << 14;

/// Adam (no weight decay) with PyTorch's update: both moments bias-corrected.
pub enum Adam {
    Cpu {
        vars: Vec<(Var, Mutex<Moments>)>,
        params: ParamsAdamW,
        step: i32,
    },
    Other(AdamW),
}

/// A parameter's first and second moments.
#[derive(Default)]
pub struct Moments {
    first: Vec<f32>,
    second: Vec<f32>,
}

/// One update of one parameter, given its gradient.
struct Update<'a> {
    moments: &'a Mutex<Moments>,
    lr: f32,
    beta: (f32, f32),
    /// 1 / (1 - beta^t) for each moment.
    correction: (f32, f32),
    eps: f32,
}

impl InplaceOp2 for Update<'_> {
    fn name(&self) -> &'static str {
        "reel-adam"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let grad = f32_slice(s2, l2)?;
        let (CpuStorage::F32(data), Some((start, end))) = (s1, l1.contiguous_offsets()) else {
            bail!("Adam expects a contiguous f32 parameter");
        };
        let param = &mut data[start..end];
        if param.len() != grad.len() {
            bail!(
                "Adam: gradient of {} values for a parameter of {}",
                grad.len(),
                param.len()
            );
        }
        let mut moments = self.moments.lock().unwrap_or_else(|e| e.into_inner());
        let Moments { first, second } = &mut *moments;
        first.resize(param.len(), 0.0);
        second.resize(param.len(), 0.0);
        let (b1, b2) = self.beta;
        let (c1, c2) = self.correction;
        let (lr, eps) = (self.lr, self.eps);
        param
            .par_chunks_mut(CHUNK)
            .zip(grad.par_chunks(CHUNK))
            .zip(first.par_chunks_mut(CHUNK))
            .zip(second.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| {
                for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *p -= lr * (*m * c1) / ((*v * c2).sqrt() + eps);
                }
            });
        Ok(())
    }
}

impl Optimizer for Adam {
    type Config = ParamsAdamW;

    fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<Self> {
        if params.weight_decay != 0.0 {
            bail!("reel's Adam has no weight decay");
        }
        if vars.iter().any(|v| !v.device().is_cpu()) {
            return Ok(Adam::Other(AdamW::new(vars, params)?));
        }
        Ok(Adam::Cpu {
            vars: vars
                .into_iter()
                .filter(|v| v.dtype() == candle_core::DType::F32)
                .map(|v| (v, Mutex::default()))
                .collect(),
            params,
            step: 0,
        })
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let (vars, params, step) = match self {
            Adam::Other(adam) => return adam.step(grads),
            Adam::Cpu { vars, params, step } => (vars, params, step),
        };
        *step += 1;
        let (b1, b2) = (params.beta1, params.beta2);
        for (var, moments) in vars.iter() {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            let update = Update {
                moments,
                lr: params.lr as f32,
                beta: (b1 as f32, b2 as f32),
                correction: (
                    (1.0 / (1.0 - b1.powi(*step))) as f32,
                    (1.0 / (1.0 - b2.powi(*step))) as f32,
                ),
                eps: params.eps as f32,
            };
            var.as_tensor().inplace_op2(&grad.contiguous()?, &update)?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        match self {
            Adam::Cpu { params, .. } => params.lr,
            Adam::Other(adam) => adam.learning_rate(),
        }
    }

    fn set_learning_rate(&mut self, lr: f64) {
        match self {
            Adam::Cpu { params, .. } => params.lr = lr,
            Adam::Other(adam) => adam.set_learning_rate(lr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// The fused update follows candle's AdamW (weight decay 0) step for step.
    #[test]
    fn matches_candle_adamw() {
        let params = ParamsAdamW {
            lr: 0.01,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-7,
            weight_decay: 0.0,
        };
        let start: Vec<f32> = (0..40_000)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let target = Tensor::from_vec(
            (0..40_000)
                .map(|i| ((i * 104_729) % 997) as f32 / 997.0)
                .collect::<Vec<f32>>(),
            40_000,
            &Device::Cpu,
        )
        .unwrap();
        let initial = Tensor::from_vec(start.clone(), 40_000, &Device::Cpu).unwrap();
        let ours = Var::from_vec(start.clone(), 40_000, &Device::Cpu).unwrap();
        let theirs = Var::from_vec(start, 40_000, &Device::Cpu).unwrap();
        let mut fused = Adam::new(vec![ours.clone()], params.clone()).unwrap();
        let mut reference = AdamW::new(vec![theirs.clone()], params).unwrap();
        for _ in 0..5 {
            let loss = |v: &Var| {
                (v.as_tensor() - &target)
                    .unwrap()
                    .sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
            };
            fused.backward_step(&loss(&ours)).unwrap();
            reference.backward_step(&loss(&theirs)).unwrap();
        }
        let largest = |a: &Tensor, b: &Tensor| -> f32 {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        let gap = largest(ours.as_tensor(), theirs.as_tensor());
        let moved = largest(ours.as_tensor(), &initial);
        assert!(
            moved > 0.04,
            "five steps of 0.01 should move the parameters, moved {moved}"
        );
        assert!(gap < 1e-6, "fused Adam strays {gap} from candle's");
    }
}
