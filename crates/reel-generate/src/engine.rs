//! A model folder opened with the sampler's settings: what every command that generates (the
//! command line's and the studio's) shares, so that both open a model, choose the size, build
//! the request and record the settings the same way.

use std::path::PathBuf;

use candle_core::DType;
use reel_diffusion::models::wan_vae::Tiling;
use reel_diffusion::pipelines::wan::{Noise, Request, WanVideo};
use reel_diffusion::schedulers::SchedulerKind;
use serde_json::{Map, Value, json};

use crate::GenerateError;
use crate::frames::size_like;

/// The model and the sampler's settings.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// A Wan model in the diffusers layout.
    pub model: PathBuf,
    /// What to steer away from (guidance's negative prompt).
    pub negative: String,
    /// The size generated at; by default the picture's shape at about 832x480's pixels.
    pub size: Option<(usize, usize)>,
    pub steps: usize,
    pub guidance: f64,
    /// The low-noise expert's guidance scale (Wan2.2 A14B; by default `guidance`).
    pub guidance_low: Option<f64>,
    /// The schedule's shift (by default the folder's).
    pub shift: Option<f64>,
    /// The sampler (by default the folder's).
    pub scheduler: Option<SchedulerKind>,
    /// The noise's seed (by default a fresh one, see [`Engine::seed`]).
    pub seed: Option<u64>,
    /// Read the transformer's blocks as they run (by default only where the model would not fit).
    pub offload: bool,
    /// Decode in tiles (by default only where whole frames would not fit).
    pub vae_tiling: bool,
    /// Weights' precision (by default bf16 on CUDA, f32 on the CPU).
    pub dtype: Option<DType>,
}

impl EngineSettings {
    /// The defaults for `model`: 50 steps at guidance 5, as diffusers' Wan pipelines.
    pub fn new(model: PathBuf) -> EngineSettings {
        EngineSettings {
            model,
            negative: String::new(),
            size: None,
            steps: 50,
            guidance: 5.0,
            guidance_low: None,
            shift: None,
            scheduler: None,
            seed: None,
            offload: false,
            vae_tiling: false,
            dtype: None,
        }
    }
}

/// Parses a precision's name: f32, bf16 or f16.
pub fn parse_dtype(name: &str) -> Result<DType, GenerateError> {
    match name {
        "f32" => Ok(DType::F32),
        "bf16" => Ok(DType::BF16),
        "f16" => Ok(DType::F16),
        other => Err(GenerateError::Settings(format!(
            "dtype {other}: f32, bf16 or f16"
        ))),
    }
}

/// Parses WIDTHxHEIGHT.
pub fn parse_size(size: &str) -> Result<(usize, usize), GenerateError> {
    size.split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)))
        .filter(|&(w, h)| w > 0 && h > 0)
        .ok_or_else(|| {
            GenerateError::Settings(format!(
                "size {size}: give WIDTHxHEIGHT, for example 832x480"
            ))
        })
}

/// An opened model folder with the settings it runs under.
pub struct Engine {
    pub pipeline: WanVideo,
    pub dtype: DType,
    /// The folder's name, as the credentials and summaries give it.
    pub name: Option<String>,
    /// The seed the noise is drawn from (the settings' or a fresh one).
    pub seed: u64,
    pub settings: EngineSettings,
}

impl Engine {
    /// Opens `settings.model` on reel's compute device. `fresh_seed` is used where the
    /// settings give none; it is cut to 53 bits so that it reads back as the same number
    /// anywhere (a JSON reader's doubles).
    pub fn open(settings: EngineSettings, fresh_seed: u64) -> Result<Engine, GenerateError> {
        let device = reel_runtime::device::device();
        let dtype = settings.dtype.unwrap_or(if device.is_cuda() {
            DType::BF16
        } else {
            DType::F32
        });
        let pipeline = WanVideo::open(&settings.model, &device, dtype)?;
        let name = settings
            .model
            .canonicalize()
            .unwrap_or_else(|_| settings.model.clone())
            .file_name()
            .map(|n| n.to_string_lossy().to_string());
        let seed = settings.seed.unwrap_or(fresh_seed >> 11);
        Ok(Engine {
            pipeline,
            dtype,
            name,
            seed,
            settings,
        })
    }

    /// The size to generate at: the settings', else `shape`'s at about 832x480's pixels in the
    /// model's multiples, else 832x480; and whether it was chosen from `shape`.
    pub fn size(&self, shape: Option<(usize, usize)>) -> ((usize, usize), bool) {
        match (self.settings.size, shape) {
            (Some(size), _) => (size, false),
            (None, Some((w, h))) => (size_like(w, h, self.pipeline.size_multiple()), true),
            (None, None) => ((832, 480), false),
        }
    }

    /// A request for `prompt` at `size` with these settings (one frame, no stills or clip yet).
    pub fn request(&self, prompt: &str, size: (usize, usize)) -> Request {
        let s = &self.settings;
        Request {
            prompt: prompt.to_string(),
            negative: s.negative.clone(),
            width: size.0,
            height: size.1,
            frames: 1,
            steps: s.steps,
            guidance: s.guidance,
            guidance_low: s.guidance_low,
            shift: s.shift,
            scheduler: s.scheduler,
            noise: Noise::Seed(self.seed),
            image: None,
            last_image: None,
            video: None,
            region: None,
            vae_tiling: s.vae_tiling.then(Tiling::default),
            offload: s.offload.then_some(true),
        }
    }

    /// The settings as the credentials record them.
    pub fn parameters(&self, size: (usize, usize)) -> Map<String, Value> {
        let s = &self.settings;
        let json = json!({
            "model": self.name,
            "negative_prompt": s.negative,
            // The manifest's integers are signed 64-bit: a larger seed is kept as text.
            "seed": if self.seed <= i64::MAX as u64 {
                json!(self.seed)
            } else {
                json!(self.seed.to_string())
            },
            "width": size.0,
            "height": size.1,
            "steps": s.steps,
            "guidance": s.guidance,
            "guidance_low": s.guidance_low,
            "shift": s.shift,
            "scheduler": s.scheduler.map(|k| format!("{k:?}").to_lowercase()),
            "dtype": format!("{:?}", self.dtype).to_lowercase(),
            "vae_tiling": s.vae_tiling,
        });
        match json {
            Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        }
    }
}
