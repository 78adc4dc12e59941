//! Noise schedules and their steps, matching diffusers step for step. Wan is a flow-matching
//! model: the transformer predicts the velocity from noise to video, and a scheduler walks the
//! sample from pure noise (sigma 1) to the clean latent (sigma 0).

pub mod flow_euler;
pub mod unipc;

use std::path::Path;

use candle_core::Tensor;
use serde::Deserialize;

pub use flow_euler::FlowMatchEuler;
pub use unipc::UniPcMultistep;

use crate::error::{DiffusionError, Result};

/// A sampler: the timesteps the model is asked at, and the update after each answer.
pub trait Scheduler {
    /// The timestep to give the model at each step, in order.
    fn timesteps(&self) -> &[f32];
    /// The noise level of each step, with the final one (0) appended.
    fn sigmas(&self) -> &[f32];
    /// The sample after the current step, given the model's output for it; moves to the next step.
    fn step(&mut self, model_output: &Tensor, sample: &Tensor) -> Result<Tensor>;
    /// Starts the walk at step `index` (video to video starts part way, from a noised clip), as
    /// diffusers' schedulers start at the first timestep they are given: no history kept.
    fn begin_at(&mut self, index: usize);
}

/// Where video to video starts in a schedule of `steps` for `strength` (0 to 1), as diffusers'
/// `get_timesteps`: the last `steps × strength` steps (rounded down) are run.
pub fn start_for_strength(steps: usize, strength: f64) -> usize {
    let run = ((steps as f64 * strength) as usize).min(steps);
    steps - run
}

/// Which sampler to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerKind {
    UniPc,
    Euler,
}

impl std::str::FromStr for SchedulerKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "unipc" => Ok(SchedulerKind::UniPc),
            "euler" => Ok(SchedulerKind::Euler),
            other => Err(format!("unknown scheduler {other:?} (unipc or euler)")),
        }
    }
}

/// The fields of a diffusers `scheduler_config.json` that the flow samplers read (either
/// class's), with diffusers' defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct SchedulerConfig {
    #[serde(rename = "_class_name")]
    pub class: String,
    #[serde(default = "default_train_steps")]
    pub num_train_timesteps: usize,
    /// UniPC's shift.
    #[serde(default)]
    pub flow_shift: Option<f64>,
    /// Flow-matching Euler's shift.
    #[serde(default)]
    pub shift: Option<f64>,
    #[serde(default)]
    pub use_flow_sigmas: bool,
    #[serde(default)]
    pub use_dynamic_shifting: bool,
    #[serde(default)]
    pub prediction_type: Option<String>,
    #[serde(default = "default_order")]
    pub solver_order: usize,
    #[serde(default = "default_solver_type")]
    pub solver_type: String,
    #[serde(default = "default_true")]
    pub predict_x0: bool,
    #[serde(default = "default_true")]
    pub lower_order_final: bool,
    #[serde(default)]
    pub disable_corrector: Vec<usize>,
    #[serde(default = "default_final_sigmas")]
    pub final_sigmas_type: String,
    #[serde(default)]
    pub thresholding: bool,
    #[serde(default)]
    pub shift_terminal: Option<f64>,
    #[serde(default)]
    pub use_karras_sigmas: bool,
    #[serde(default)]
    pub use_exponential_sigmas: bool,
    #[serde(default)]
    pub use_beta_sigmas: bool,
    #[serde(default)]
    pub invert_sigmas: bool,
    #[serde(default)]
    pub stochastic_sampling: bool,
}

fn default_train_steps() -> usize {
    1000
}
fn default_order() -> usize {
    2
}
fn default_solver_type() -> String {
    "bh2".into()
}
fn default_true() -> bool {
    true
}
fn default_final_sigmas() -> String {
    "zero".into()
}

impl SchedulerConfig {
    /// Reads `folder/scheduler_config.json`.
    pub fn read(folder: &Path) -> Result<Self> {
        let path = folder.join("scheduler_config.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| DiffusionError::model(&path, format!("unreadable: {e}")))?;
        let config: SchedulerConfig = serde_json::from_str(&text)
            .map_err(|e| DiffusionError::model(&path, format!("not a scheduler config: {e}")))?;
        match config.class.as_str() {
            "UniPCMultistepScheduler" | "FlowMatchEulerDiscreteScheduler" => Ok(config),
            other => Err(DiffusionError::model(
                &path,
                format!("{other} is not a scheduler reel runs (UniPC or flow-matching Euler)"),
            )),
        }
    }

    /// The shift the folder sets (UniPC's `flow_shift` or Euler's `shift`).
    pub fn folder_shift(&self) -> f64 {
        self.flow_shift.or(self.shift).unwrap_or(1.0)
    }

    /// The sampler `kind` (by default the folder's own class) for `steps` steps, with the
    /// folder's shift unless `shift` overrides it.
    pub fn build(
        &self,
        kind: Option<SchedulerKind>,
        steps: usize,
        shift: Option<f64>,
    ) -> Result<Box<dyn Scheduler>> {
        if steps == 0 || steps > self.num_train_timesteps {
            return Err(DiffusionError::Usage(format!(
                "{steps} steps: from 1 to the model's {} training timesteps",
                self.num_train_timesteps
            )));
        }
        let kind = kind.unwrap_or(if self.class == "FlowMatchEulerDiscreteScheduler" {
            SchedulerKind::Euler
        } else {
            SchedulerKind::UniPc
        });
        let shift = shift.unwrap_or_else(|| self.folder_shift());
        if !(shift > 0.0 && shift.is_finite()) {
            return Err(DiffusionError::Usage(format!(
                "a shift of {shift} (it must be above 0)"
            )));
        }
        let unsupported = [
            (self.use_dynamic_shifting, "use_dynamic_shifting"),
            (self.thresholding, "thresholding"),
            (self.shift_terminal.is_some(), "shift_terminal"),
            (self.use_karras_sigmas, "use_karras_sigmas"),
            (self.use_exponential_sigmas, "use_exponential_sigmas"),
            (self.use_beta_sigmas, "use_beta_sigmas"),
            (self.invert_sigmas, "invert_sigmas"),
            (self.stochastic_sampling, "stochastic_sampling"),
        ];
        if let Some((_, name)) = unsupported.iter().find(|(on, _)| *on) {
            return Err(DiffusionError::Usage(format!(
                "the scheduler config sets {name}, which Wan's samplers do not use"
            )));
        }
        Ok(match kind {
            SchedulerKind::Euler => {
                Box::new(FlowMatchEuler::new(self.num_train_timesteps, shift, steps))
            }
            SchedulerKind::UniPc => {
                if self.class == "UniPCMultistepScheduler"
                    && (!self.use_flow_sigmas
                        || self.prediction_type.as_deref() != Some("flow_prediction"))
                {
                    return Err(DiffusionError::Usage(
                        "the UniPC config is not a flow-matching one (use_flow_sigmas, flow_prediction)".into(),
                    ));
                }
                Box::new(UniPcMultistep::new(unipc::Settings {
                    train_steps: self.num_train_timesteps,
                    shift,
                    steps,
                    order: self.solver_order.clamp(1, 3),
                    bh2: match self.solver_type.as_str() {
                        "bh2" => true,
                        "bh1" => false,
                        other => {
                            return Err(DiffusionError::Usage(format!(
                                "UniPC solver_type {other:?}"
                            )));
                        }
                    },
                    predict_x0: self.predict_x0,
                    lower_order_final: self.lower_order_final,
                    disable_corrector: self.disable_corrector.clone(),
                    final_sigma_min: self.final_sigmas_type == "sigma_min",
                })?)
            }
        })
    }
}

/// `shift·σ / (1 + (shift − 1)·σ)`: more of the steps at high noise for larger frames.
pub(crate) fn shifted(sigma: f64, shift: f64) -> f64 {
    shift * sigma / (1.0 + (shift - 1.0) * sigma)
}

/// numpy's `linspace(start, stop, num)`, to the last bit: `start + i·step`, the end exact.
pub(crate) fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    let mut out: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    out[num - 1] = stop;
    out
}
