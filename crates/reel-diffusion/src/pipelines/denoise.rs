//! The denoising loop of diffusers' Wan pipelines: at each of the scheduler's timesteps the
//! transformer predicts the velocity for the prompt (and, with guidance, for the negative
//! prompt, in the same batch), the two are mixed as classifier-free guidance mixes them, and the
//! scheduler takes its step.

use std::time::{Duration, Instant};

use candle_core::{DType, Tensor};

use crate::error::{DiffusionError, Result};
use crate::models::wan_transformer::{Context, WanTransformer};
use crate::schedulers::Scheduler;

/// What the loop is conditioned on.
pub struct Conditioning<'a> {
    /// The encoded prompt (1, tokens, text_dim).
    pub prompt: &'a Tensor,
    /// The encoded negative prompt: with it the loop is guided, without it not.
    pub negative: Option<&'a Tensor>,
    /// The guidance scale (diffusers' `guidance_scale`).
    pub guidance: f64,
    /// The image encoder's states (1, tokens, image_dim), for the models that read them.
    pub image: Option<&'a Tensor>,
    /// What image to video puts beside the noise in the channels (1, channels, frames, h, w).
    pub condition: Option<&'a Tensor>,
    /// Wan2.2 TI2V's still: its latents (1, channels, 1, h, w) stand for the first latent frame
    /// in the transformer's input and in the result, and its tokens are at timestep 0.
    pub first_frame: Option<&'a Tensor>,
    /// A timestep a token (diffusers' `expand_timesteps`), as Wan2.2 TI2V is trained.
    pub per_token_timesteps: bool,
    /// Latents held to a clip's outside a region, at every step.
    pub hold: Option<Hold<'a>>,
}

/// A region-masked generation: where `keep` is 1 the latents are, at every noise level, the
/// clean clip's noised to it with the run's own initial noise, so only the rest moves (as
/// diffusers' inpainting pipelines blend after each step, for a model not trained to inpaint).
#[derive(Clone, Copy)]
pub struct Hold<'a> {
    /// The clip's latents (1, channels, frames, h, w).
    pub clean: &'a Tensor,
    /// The initial noise the run started from, of the same shape.
    pub noise: &'a Tensor,
    /// 1 where the clip is held, 0 where the model is free (1, 1, frames, h, w).
    pub keep: &'a Tensor,
}

impl Hold<'_> {
    /// `latents` with the held places set to the clip noised to `sigma`.
    pub fn apply(&self, latents: &Tensor, sigma: f32) -> Result<Tensor> {
        let sigma = f64::from(sigma);
        let held = ((self.clean * (1.0 - sigma))? + (self.noise * sigma)?)?;
        let free = self.keep.affine(-1.0, 1.0)?;
        Ok((held.broadcast_mul(self.keep)? + latents.broadcast_mul(&free)?)?)
    }
}

/// Where the loop is, for progress reports.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    pub step: usize,
    pub steps: usize,
    /// How long this step took.
    pub took: Duration,
}

/// Runs the steps `steps` of `scheduler` (all of them, or a two-expert model's share) from
/// `latents` (1, channels, frames, height, width); returns the latents in f32. `on_step` is told
/// after each step and may stop the loop by returning an error (an interrupt).
pub fn denoise(
    transformer: &WanTransformer,
    scheduler: &mut dyn Scheduler,
    latents: Tensor,
    conditioning: &Conditioning,
    steps: std::ops::Range<usize>,
    mut on_step: impl FnMut(StepReport) -> Result<()>,
) -> Result<Tensor> {
    // Guided when a negative prompt is given, with whatever scale (a two-expert model's second
    // scale applies as given, as in diffusers, once the first turned guidance on).
    let negative = conditioning.negative;
    // The prompt and the negative prompt share one batch when their lengths agree (the
    // pipelines pad both to the text length), which halves the weight traffic of every step.
    // Their cross-attention context is computed once for all the steps.
    enum Plan {
        Single(Context),
        Batched(Context),
        Separate(Context, Context),
    }
    // Both halves of the guidance see the same image.
    let image = conditioning.image;
    let plan = match negative {
        None => Plan::Single(transformer.context(conditioning.prompt, image)?),
        Some(n) if n.dims() == conditioning.prompt.dims() => {
            let both = image.map(|i| Tensor::cat(&[i, i], 0)).transpose()?;
            Plan::Batched(
                transformer.context(&Tensor::cat(&[conditioning.prompt, n], 0)?, both.as_ref())?,
            )
        }
        Some(n) => Plan::Separate(
            transformer.context(conditioning.prompt, image)?,
            transformer.context(n, image)?,
        ),
    };
    let condition = conditioning
        .condition
        .map(|c| c.to_dtype(DType::F32))
        .transpose()?;
    let first_frame = conditioning
        .first_frame
        .map(|f| f.to_dtype(DType::F32))
        .transpose()?;
    let with_first_frame = |latents: &Tensor| -> Result<Tensor> {
        Ok(match &first_frame {
            Some(f) => {
                let frames = latents.dim(2)?;
                Tensor::cat(&[f, &latents.narrow(2, 1, frames - 1)?], 2)?
            }
            None => latents.clone(),
        })
    };
    let timesteps = scheduler.timesteps().to_vec();
    let device = latents.device().clone();
    let mut latents = latents.to_dtype(DType::F32)?;
    // A timestep a token: the tokens of each latent frame, frame after frame, the still's at 0.
    let (_, _, frames, h, w) = latents.dims5()?;
    let patch = transformer.config().patch_size;
    let per_frame = (h / patch[1]) * (w / patch[2]);
    let timestep = |t: f32, batch: usize| -> Result<Tensor> {
        if !conditioning.per_token_timesteps {
            return Ok(Tensor::new(vec![t; batch].as_slice(), &device)?);
        }
        let mut values = vec![t; frames / patch[0] * per_frame];
        if first_frame.is_some() {
            values[..per_frame].fill(0.0);
        }
        Ok(Tensor::new(values.as_slice(), &device)?
            .unsqueeze(0)?
            .repeat((batch, 1))?)
    };
    let total = timesteps.len();
    if steps.end > total || steps.start > steps.end {
        return Err(DiffusionError::Usage(format!(
            "steps {steps:?} of a schedule of {total}"
        )));
    }
    for (i, &t) in timesteps
        .iter()
        .enumerate()
        .take(steps.end)
        .skip(steps.start)
    {
        let started = Instant::now();
        let input = with_first_frame(&latents)?;
        let input = match &condition {
            Some(c) => Tensor::cat(&[&input, c], 1)?,
            None => input,
        };
        let velocity = match &plan {
            Plan::Single(context) => transformer.forward_with(&input, &timestep(t, 1)?, context)?,
            Plan::Batched(context) => {
                let both = transformer.forward_with(
                    &Tensor::cat(&[&input, &input], 0)?,
                    &timestep(t, 2)?,
                    context,
                )?;
                guide(
                    &both.narrow(0, 0, 1)?,
                    &both.narrow(0, 1, 1)?,
                    conditioning.guidance,
                )?
            }
            Plan::Separate(cond, uncond) => {
                let timestep = timestep(t, 1)?;
                let c = transformer.forward_with(&input, &timestep, cond)?;
                let u = transformer.forward_with(&input, &timestep, uncond)?;
                guide(&c, &u, conditioning.guidance)?
            }
        };
        latents = scheduler.step(&velocity, &latents)?;
        if let Some(hold) = &conditioning.hold {
            latents = hold.apply(&latents, scheduler.sigmas()[i + 1])?;
        }
        on_step(StepReport {
            step: i + 1,
            steps: total,
            took: started.elapsed(),
        })?;
    }
    // The still's latents stand for the first frame in the result too, once all steps are done.
    if steps.end == total {
        with_first_frame(&latents)
    } else {
        Ok(latents)
    }
}

/// `uncond + scale·(cond − uncond)`.
fn guide(cond: &Tensor, uncond: &Tensor, scale: f64) -> Result<Tensor> {
    let cond = cond.to_dtype(DType::F32)?;
    let uncond = uncond.to_dtype(DType::F32)?;
    Ok((&uncond + ((cond - &uncond)? * scale)?)?)
}
