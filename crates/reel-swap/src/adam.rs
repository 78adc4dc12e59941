//! Adam, fused on the CPU: one pass over each parameter updates both moments and the parameter
//! in place. candle's AdamW runs ten tensor operations a parameter, each allocating a tensor of
//! the parameter's size, and took a seventh of a training iteration. On other devices this is
//! candle's AdamW.

use std::collections::HashMap;
use std::sync::Mutex;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, Device, InplaceOp2, Layout, Result, Tensor, Var, bail};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use rayon::prelude::*;
use reel_runtime::kernels::f32_slice;

/// Elements a thread updates at a time.
const CHUNK: usize = 1 << 14;

/// Adam (no weight decay) with PyTorch's update: both moments bias-corrected.
pub enum Adam {
    Cpu {
        vars: Vec<Param>,
        params: ParamsAdamW,
        step: i32,
    },
    Other(AdamW),
}

/// A parameter, its name (for saving the optimiser's state) and its moments.
pub struct Param {
    name: String,
    var: Var,
    moments: Mutex<Moments>,
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

impl Adam {
    fn cpu(vars: Vec<(String, Var)>, params: ParamsAdamW) -> Adam {
        let vars = vars
            .into_iter()
            .filter(|(_, v)| v.dtype() == DType::F32)
            .map(|(name, var)| Param {
                name,
                var,
                moments: Mutex::default(),
            })
            .collect();
        Adam::Cpu {
            vars,
            params,
            step: 0,
        }
    }

    /// Adam over every variable of `varmap`, each known by its name so that the state can be
    /// saved and restored with the weights.
    pub fn over(varmap: &VarMap, params: ParamsAdamW) -> Result<Adam> {
        let mut vars: Vec<(String, Var)> = varmap
            .data()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        if vars.iter().any(|(_, v)| !v.device().is_cpu()) {
            let vars = vars.into_iter().map(|(_, v)| v).collect();
            return Ok(Adam::Other(AdamW::new(vars, params)?));
        }
        Ok(Adam::cpu(vars, params))
    }

    /// The moments and the step count, as tensors by name (nothing on other devices, whose
    /// optimiser keeps its state to itself).
    pub fn state(&self) -> Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        let Adam::Cpu { vars, step, .. } = self else {
            return Ok(out);
        };
        out.insert("step".into(), Tensor::new(&[*step as u32], &Device::Cpu)?);
        for p in vars {
            let m = p.moments.lock().unwrap_or_else(|e| e.into_inner());
            if m.first.is_empty() {
                continue;
            }
            let shape = p.var.shape();
            let first = Tensor::from_slice(&m.first, shape, &Device::Cpu)?;
            let second = Tensor::from_slice(&m.second, shape, &Device::Cpu)?;
            out.insert(format!("first.{}", p.name), first);
            out.insert(format!("second.{}", p.name), second);
        }
        Ok(out)
    }

    /// Restores what `state` saved; a moment whose shape no longer fits is refused.
    pub fn restore(&mut self, state: &HashMap<String, Tensor>) -> Result<()> {
        let Adam::Cpu { vars, step, .. } = self else {
            return Ok(());
        };
        let Some(saved_step) = state.get("step") else {
            bail!("the optimiser state has no step count");
        };
        *step = saved_step.to_vec1::<u32>()?.first().copied().unwrap_or(0) as i32;
        for p in vars.iter() {
            let (Some(first), Some(second)) = (
                state.get(&format!("first.{}", p.name)),
                state.get(&format!("second.{}", p.name)),
            ) else {
                continue;
            };
            if first.shape() != p.var.shape() || second.shape() != p.var.shape() {
                bail!("the optimiser state of {} does not fit its weights", p.name);
            }
            let mut m = p.moments.lock().unwrap_or_else(|e| e.into_inner());
            m.first = first.flatten_all()?.to_vec1()?;
            m.second = second.flatten_all()?.to_vec1()?;
        }
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
        let named = vars
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v));
        Ok(Adam::cpu(named.collect(), params))
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let (vars, params, step) = match self {
            Adam::Other(adam) => return adam.step(grads),
            Adam::Cpu { vars, params, step } => (vars, params, step),
        };
        *step += 1;
        let (b1, b2) = (params.beta1, params.beta2);
        for Param { var, moments, .. } in vars.iter() {
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

    /// The fused update follows candle's AdamW (weight decay 0) step for step.
    #[test]
    fn matches_candle_adamw() {
        let params = crate::train::adam_settings(0.01);
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

    /// A restored optimiser steps exactly as the one whose state it took.
    #[test]
    fn saved_state_resumes_the_same_steps() {
        let params = crate::train::adam_settings(0.01);
        let target = Tensor::arange(0f32, 300.0, &Device::Cpu).unwrap();
        let model = |varmap: &VarMap| {
            let vb = candle_nn::VarBuilder::from_varmap(varmap, DType::F32, &Device::Cpu);
            vb.get_with_hints(300, "w", candle_nn::Init::Const(1.0))
                .unwrap()
        };
        let loss = |w: &Tensor| {
            (w * w)
                .unwrap()
                .sub(&target)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let (first, second, third) = (VarMap::new(), VarMap::new(), VarMap::new());
        let (w1, w2, w3) = (model(&first), model(&second), model(&third));
        let mut running = Adam::over(&first, params.clone()).unwrap();
        for _ in 0..3 {
            running.backward_step(&loss(&w1)).unwrap();
        }
        // The second copy takes the weights and the optimiser's state, as a resumed run does;
        // the third the weights alone.
        second.data().lock().unwrap()["w"].set(&w1).unwrap();
        third.data().lock().unwrap()["w"].set(&w1).unwrap();
        let mut resumed = Adam::over(&second, params.clone()).unwrap();
        resumed.restore(&running.state().unwrap()).unwrap();
        let mut fresh = Adam::over(&third, params).unwrap();
        running.backward_step(&loss(&w1)).unwrap();
        resumed.backward_step(&loss(&w2)).unwrap();
        fresh.backward_step(&loss(&w3)).unwrap();
        let gap = |a: &Tensor, b: &Tensor| -> f32 {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        assert_eq!(gap(&w1, &w2), 0.0);
        // Without the state the step differs, so the comparison above can fail.
        let gap = gap(&w1, &w3);
        assert!(
            gap > 1e-4,
            "a fresh optimiser stepped like the restored one ({gap})"
        );
    }
}
