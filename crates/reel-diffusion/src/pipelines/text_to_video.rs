//! Text to video (diffusers' `WanPipeline`) from a diffusers folder: the prompt encoded, the
//! latents denoised with guidance, and the frames decoded as a stream. Each model is loaded for
//! its stage and freed before the next, so the peak memory is the largest model's, not their
//! sum.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::error::{DiffusionError, Result};
use crate::models::wan_transformer::{WanTransformer, WanTransformerConfig};
use crate::models::wan_vae::WanVaeDecoder;
use crate::pipelines::denoise::{Conditioning, StepReport, denoise};
use crate::pipelines::prompt::{PromptEncoder, TEXT_LENGTH, clean};
use crate::pipelines::{memory, noise};
use crate::schedulers::{Scheduler, SchedulerConfig, SchedulerKind};
use crate::weights::{Weights, read_config};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Request {
    pub prompt: String,
    pub negative: String,
    pub width: usize,
    pub height: usize,
    /// 4k + 1.
    pub frames: usize,
    pub steps: usize,
    pub guidance: f64,
    pub shift: Option<f64>,
    pub scheduler: Option<SchedulerKind>,
    pub noise: Noise,
}

#[derive(Debug, Clone)]
pub enum Noise {
    Seed(u64),
    File(PathBuf),
}

/// Where a generation is.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// The prompts are encoded.
    Prompt,
    /// A denoising step is done.
    Step(StepReport),
    /// `done` of `total` frames decoded.
    Decoded { done: usize, total: usize },
}

/// A diffusers Wan text-to-video folder.
pub struct TextToVideo {
    folder: PathBuf,
    device: Device,
    dtype: DType,
    transformer: WanTransformerConfig,
}

#[derive(Deserialize)]
struct ModelIndex {
    #[serde(rename = "_class_name")]
    class: String,
    #[serde(default)]
    boundary_ratio: Option<f64>,
    #[serde(default)]
    expand_timesteps: bool,
}

/// The VAE's compression, in frames and pixels (the Wan2.1 VAE).
const TEMPORAL: usize = 4;
const SPATIAL: usize = 8;

impl TextToVideo {
    fn weight_bytes(&self, part: &str, stem: &str, dtype: DType) -> Result<usize> {
        Ok(Weights::open(&self.folder.join(part), stem, &self.device, dtype)?.bytes())
    }

    /// Opens `folder`, checking that it is a Wan text-to-video pipeline with every part there.
    pub fn open(folder: &Path, device: &Device, dtype: DType) -> Result<Self> {
        let index_path = folder.join("model_index.json");
        if !index_path.is_file() {
            return Err(DiffusionError::model(
                folder,
                "not a diffusers model folder (no model_index.json)",
            ));
        }
        let text = std::fs::read_to_string(&index_path)
            .map_err(|e| DiffusionError::model(&index_path, format!("unreadable: {e}")))?;
        let index: ModelIndex = serde_json::from_str(&text)
            .map_err(|e| DiffusionError::model(&index_path, format!("not a model index: {e}")))?;
        match index.class.as_str() {
            "WanPipeline" => {}
            "WanImageToVideoPipeline" => {
                return Err(DiffusionError::model(
                    folder,
                    "an image-to-video model: it needs an image, which reel gen does not take yet",
                ));
            }
            other => {
                return Err(DiffusionError::model(
                    folder,
                    format!("a {other}, not a Wan text-to-video pipeline (WanPipeline)"),
                ));
            }
        }
        if index.boundary_ratio.is_some() {
            return Err(DiffusionError::model(
                folder,
                "a two-expert Wan2.2 model (boundary_ratio): not supported yet",
            ));
        }
        if index.expand_timesteps {
            return Err(DiffusionError::model(
                folder,
                "a Wan2.2 TI2V model (per-token timesteps, Wan2.2 VAE): not supported yet",
            ));
        }
        for part in [
            "tokenizer",
            "text_encoder",
            "transformer",
            "vae",
            "scheduler",
        ] {
            if !folder.join(part).is_dir() {
                return Err(DiffusionError::model(
                    folder,
                    format!("its {part}/ folder is missing"),
                ));
            }
        }
        let transformer = read_config(&folder.join("transformer"), "WanTransformer3DModel")?;
        Ok(TextToVideo {
            folder: folder.to_path_buf(),
            device: device.clone(),
            dtype,
            transformer,
        })
    }

    /// The latents' shape for `width`×`height`×`frames`.
    pub fn latent_shape(&self, width: usize, height: usize, frames: usize) -> [usize; 5] {
        [
            1,
            self.transformer.in_channels,
            (frames - 1) / TEMPORAL + 1,
            height / SPATIAL,
            width / SPATIAL,
        ]
    }

    /// The size multiple the model needs (the VAE's factor times the patch).
    pub fn size_multiple(&self) -> usize {
        SPATIAL * self.transformer.patch_size[1].max(self.transformer.patch_size[2])
    }

    /// Checks `request` before any model is loaded.
    pub fn check(&self, request: &Request) -> Result<()> {
        self.prepare(request).map(|_| ())
    }

    /// Checks `request` and builds its sampler, which the checks need anyway.
    fn prepare(&self, request: &Request) -> Result<Box<dyn Scheduler>> {
        let m = self.size_multiple();
        if request.width == 0
            || request.height == 0
            || !request.width.is_multiple_of(m)
            || !request.height.is_multiple_of(m)
        {
            return Err(DiffusionError::Usage(format!(
                "a size of {}x{}: width and height must be multiples of {m} (for example 832x480 or 256x256)",
                request.width, request.height
            )));
        }
        if request.frames == 0 || request.frames % TEMPORAL != 1 {
            return Err(DiffusionError::Usage(format!(
                "{} frames: the model makes 4k+1 frames (1, 5, ..., 81)",
                request.frames
            )));
        }
        // The sampler's own checks (steps, shift), before anything loads.
        let scheduler = SchedulerConfig::read(&self.folder.join("scheduler"))?.build(
            request.scheduler,
            request.steps,
            request.shift,
        )?;
        if clean(&request.prompt).is_empty() {
            return Err(DiffusionError::Usage(
                "the prompt is empty: say what to generate".into(),
            ));
        }
        let [_, _, t, h, w] = self.latent_shape(request.width, request.height, request.frames);
        let (ph, pw) = (
            self.transformer.patch_size[1],
            self.transformer.patch_size[2],
        );
        if t.max(h / ph).max(w / pw) > self.transformer.rope_max_seq_len {
            return Err(DiffusionError::Usage(format!(
                "{}x{}x{} is beyond the model's positions; lower --size or --frames",
                request.width, request.height, request.frames
            )));
        }
        Ok(scheduler)
    }

    /// Generates `request`: `progress` hears of each stage, `frames` receives the video as it is
    /// decoded, in chunks of (frames, 3, height, width) in [-1, 1]; either may stop the job by
    /// returning an error.
    pub fn generate(
        &self,
        request: &Request,
        progress: impl FnMut(Stage) -> Result<()>,
        frames: impl FnMut(&Tensor) -> Result<()>,
    ) -> Result<()> {
        self.run(request, progress, frames).map_err(memory::explain)
    }

    fn run(
        &self,
        request: &Request,
        mut progress: impl FnMut(Stage) -> Result<()>,
        mut frames: impl FnMut(&Tensor) -> Result<()>,
    ) -> Result<()> {
        let mut scheduler = self.prepare(request)?;
        let shape = self.latent_shape(request.width, request.height, request.frames);
        let latents = match &request.noise {
            Noise::Seed(seed) => noise::seeded(&shape, *seed, &self.device)?,
            Noise::File(path) => noise::from_file(path, &shape, &self.device)?,
        };

        // The prompts, with the text encoder freed before the transformer loads.
        let guided = request.guidance > 1.0;
        // umT5's activations overflow f16 (transformers keeps parts of it in f32 then).
        let text_dtype = if self.dtype == DType::F16 {
            DType::F32
        } else {
            self.dtype
        };
        let text_bytes = self.weight_bytes("text_encoder", "model", text_dtype)?;
        memory::ensure_fits(
            "encoding the prompt",
            text_bytes + text_bytes / 10,
            &self.device,
        )?;
        let (prompt, negative) = {
            let encoder = PromptEncoder::load(
                &self.folder.join("tokenizer"),
                &self.folder.join("text_encoder"),
                &self.device,
                text_dtype,
                TEXT_LENGTH,
            )?;
            let prompt = encoder.encode(&request.prompt)?;
            let negative = if guided {
                Some(encoder.encode(&request.negative)?)
            } else {
                None
            };
            (prompt, negative)
        };
        progress(Stage::Prompt)?;

        let t = &self.transformer;
        let tokens = shape[2] / t.patch_size[0]
            * (shape[3] / t.patch_size[1])
            * (shape[4] / t.patch_size[2]);
        let batch = if guided { 2 } else { 1 };
        let needed = self.weight_bytes("transformer", "diffusion_pytorch_model", self.dtype)?
            + memory::transformer_activations(batch, tokens, t.inner_dim(), t.ffn_dim);
        memory::ensure_fits("denoising", needed, &self.device)?;
        let latents = {
            let transformer =
                WanTransformer::load(&self.folder.join("transformer"), &self.device, self.dtype)?;
            let conditioning = Conditioning {
                prompt: &prompt,
                negative: negative.as_ref(),
                guidance: request.guidance,
            };
            denoise(
                &transformer,
                scheduler.as_mut(),
                latents,
                &conditioning,
                |report| progress(Stage::Step(report)),
            )?
        };

        // A chunk of four frames through the widest full-size layers, and the unfolding.
        let pixels = request.width * request.height;
        let needed = self.weight_bytes("vae", "diffusion_pytorch_model", DType::F32)?
            + 4 * pixels * 96 * 4 * 8
            + (256 << 20);
        memory::ensure_fits("decoding", needed, &self.device)?;
        // The VAE decodes in f32 (as Wan's reference does): small weights, and the frames' values.
        let mut vae = WanVaeDecoder::load(&self.folder.join("vae"), &self.device, DType::F32)?;
        let z = vae.denormalise(&latents)?.squeeze(0)?;
        let latent_frames = z.dim(1)?;
        let mut done = 0;
        for i in 0..latent_frames {
            let chunk = vae.decode_frame(&z.narrow(1, i, 1)?.squeeze(1)?)?;
            done += chunk.dim(0)?;
            frames(&chunk)?;
            progress(Stage::Decoded {
                done,
                total: request.frames,
            })?;
        }
        Ok(())
    }
}
