//! The optional adversarial term (DeepFaceLab's "GAN power"): a small patch discriminator learns
//! to tell person A's real faces from A's faces as the model draws them back, and the model is
//! pushed to draw faces it cannot tell apart. Pixel and structural losses average fine detail
//! (pores, hair, the glint of an eye) away; this term brings it back. Off unless asked for.

use std::path::Path;

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};

use crate::adam::Adam;
use crate::conv::Conv;

/// The discriminator's weights beside the model's.
pub const WEIGHTS: &str = "discriminator.safetensors";

/// Three halvings, then one logit a patch of 8 x 8 pixels (of the model's resolution).
struct Discriminator {
    downs: Vec<Conv>,
    out: Conv,
}

impl Discriminator {
    fn new(vb: VarBuilder) -> Result<Discriminator> {
        let chans = [3, 16, 32, 64];
        let downs = (0..3)
            .map(|i| {
                Conv::new(
                    chans[i],
                    chans[i + 1],
                    5,
                    (2, 2, 1),
                    Some(0.2),
                    vb.pp(format!("down{i}")),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Discriminator {
            downs,
            out: Conv::new(64, 1, 3, (1, 1, 1), None, vb.pp("out"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for d in &self.downs {
            h = d.forward(&h)?;
        }
        self.out.forward(&h)
    }
}

/// Mean binary cross-entropy of `logits` against the label `target` (0 or 1), in the form that
/// stays finite however sure the logits are: max(x, 0) - x t + ln(1 + e^-|x|).
pub fn cross_entropy(logits: &Tensor, target: f64) -> Result<Tensor> {
    let soft = ((logits.abs()?.neg()?.exp()? + 1.0)?).log()?;
    ((logits.relu()? - (logits * target)?)? + soft)?.mean_all()
}

/// The discriminator, its optimiser and the term's weight.
pub struct Gan {
    net: Discriminator,
    varmap: VarMap,
    opt: Adam,
    power: f64,
}

impl Gan {
    /// A discriminator for faces, its weights read from `dir` when a run there saved them.
    pub fn new(power: f64, learning_rate: f64, dir: &Path, dev: &Device) -> Result<Gan> {
        let mut varmap = VarMap::new();
        let net = Discriminator::new(VarBuilder::from_varmap(&varmap, DType::F32, dev))?;
        let saved = dir.join(WEIGHTS);
        if saved.exists() {
            varmap.load(&saved)?;
        }
        let opt = crate::train::optimiser(&varmap, learning_rate)?;
        Ok(Gan {
            net,
            varmap,
            opt,
            power,
        })
    }

    /// The model's adversarial loss for its drawing of A's faces (masked): how surely the
    /// discriminator calls them drawn, times the power.
    pub fn model_loss(&self, drawn: &Tensor) -> Result<Tensor> {
        cross_entropy(&self.net.forward(drawn)?, 1.0)? * self.power
    }

    /// One step of the discriminator on A's real faces against the model's drawing of them
    /// (both masked); returns its loss.
    pub fn step(&mut self, real: &Tensor, drawn: &Tensor) -> Result<f32> {
        let real_loss = cross_entropy(&self.net.forward(real)?, 1.0)?;
        let drawn_loss = cross_entropy(&self.net.forward(&drawn.detach())?, 0.0)?;
        let loss = ((real_loss + drawn_loss)? * 0.5)?;
        let value = loss.to_scalar::<f32>()?;
        self.opt.backward_step(&loss)?;
        Ok(value)
    }

    /// Writes the discriminator's weights to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.varmap.save(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_is_exact_and_finite_however_sure_the_logits() {
        let at = |x: f32, t: f64| -> f32 {
            let logits = Tensor::new(&[x], &Device::Cpu).unwrap();
            cross_entropy(&logits, t).unwrap().to_scalar().unwrap()
        };
        assert!((at(0.0, 1.0) - std::f32::consts::LN_2).abs() < 1e-6);
        assert!((at(2.0, 1.0) - (1.0 + (-2.0f32).exp()).ln()).abs() < 1e-6);
        assert!((at(2.0, 0.0) - (1.0 + 2.0f32.exp()).ln()).abs() < 1e-5);
        assert!(at(100.0, 1.0).abs() < 1e-6);
        assert!((at(-100.0, 1.0) - 100.0).abs() < 1e-3);
        assert!((at(100.0, 0.0) - 100.0).abs() < 1e-3);
    }

    /// A few steps teach the discriminator to tell two kinds of picture apart.
    #[test]
    fn the_discriminator_learns_to_tell_real_from_drawn() {
        let dir = std::env::temp_dir();
        let mut gan = Gan::new(0.1, 1e-3, &dir.join("reel-gan-test-none"), &Device::Cpu).unwrap();
        // "Real" faces with fine texture, "drawn" ones flat.
        let real = Tensor::rand(0f32, 1f32, (4, 3, 32, 32), &Device::Cpu).unwrap();
        let drawn = Tensor::full(0.5f32, (4, 3, 32, 32), &Device::Cpu).unwrap();
        let first = gan.step(&real, &drawn).unwrap();
        let mut last = first;
        for _ in 0..30 {
            last = gan.step(&real, &drawn).unwrap();
        }
        assert!(last < first * 0.5, "discriminator loss {first} -> {last}");
        // The model's term then calls the flat faces drawn: a large loss to push against.
        let pushed: f32 = gan.model_loss(&drawn).unwrap().to_scalar().unwrap();
        assert!(pushed > 0.1 * std::f32::consts::LN_2, "{pushed}");
    }
}
