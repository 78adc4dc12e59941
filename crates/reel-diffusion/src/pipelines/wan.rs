//! Text to video, image to video, first and last frame to video, and video to video (diffusers'
//! `WanPipeline`, `WanImageToVideoPipeline` with and without `last_image`, and
//! `WanVideoToVideoPipeline`) from a diffusers folder: the prompt encoded (and the stills
//! through the CLIP image encoder and the VAE, or the clip through the VAE), the latents
//! denoised with guidance, and the frames decoded as a stream. Each model is loaded for its stage and freed before the next, so the peak
//! memory is the largest model's, not their sum.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::error::{DiffusionError, Result};
use crate::models::clip_vision::ClipVision;
use crate::models::wan_transformer::{WanTransformer, WanTransformerConfig};
use crate::models::wan_vae::{Decoded, Tiling, WanVaeConfig, WanVaeDecoder, WanVaeEncoder};
use crate::pipelines::denoise::{Conditioning, Hold, StepReport, denoise};
use crate::pipelines::image::{ClipImageProcessor, crop_to_shape, vae_frame};
use crate::pipelines::prompt::{PromptEncoder, TEXT_LENGTH, clean};
use crate::pipelines::{memory, noise};
use crate::schedulers::{Scheduler, SchedulerConfig, SchedulerKind, start_for_strength};
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
    /// The low-noise expert's guidance, for Wan2.2's two-expert models (by default `guidance`).
    pub guidance_low: Option<f64>,
    pub shift: Option<f64>,
    pub scheduler: Option<SchedulerKind>,
    pub noise: Noise,
    /// The first frame, for image to video (any size: it is cropped to the video's shape).
    pub image: Option<reel_image::Image>,
    /// The last frame, for a Wan2.1 image-to-video folder (the FLF2V models are trained for
    /// it): with `image`, a clip from one still to the other; alone, a clip that ends on it.
    pub last_image: Option<reel_image::Image>,
    /// Video to video: the clip to start from, noised to its strength (text-to-video folders).
    pub video: Option<SourceVideo>,
    /// Part of a still animated: outside the region every frame is the still, held at every step.
    pub region: Option<Region>,
    /// Decode in spatial tiles (diffusers' `enable_tiling`); by default only where a whole
    /// frame would not fit in memory.
    pub vae_tiling: Option<Tiling>,
    /// Read the transformer's blocks from the files as they run instead of holding them (layer
    /// by layer offload); by default only where the transformer would not fit in memory.
    pub offload: Option<bool>,
}

/// The clip video to video starts from.
#[derive(Debug, Clone)]
pub struct SourceVideo {
    /// As many frames as the request makes (any size: each is cropped to the video's shape).
    pub frames: Vec<reel_image::Image>,
    /// The share of the schedule that is run: near 0 keeps the clip, 1 starts from pure noise.
    pub strength: f64,
}

/// The still a region-masked generation holds outside its region.
#[derive(Debug, Clone)]
pub struct Region {
    /// The still, at the request's size.
    pub still: reel_image::Image,
    /// Where the picture may move: one value a pixel of the request's size, above 0 moves.
    pub moving: Vec<u8>,
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
    /// The transformer's blocks are read from the files as they run (it would not fit, or
    /// `offload` asked for it).
    Offloading,
    /// The stills or the clip are encoded.
    Image,
    /// A denoising step is done.
    Step(StepReport),
    /// `done` of `total` tiles decoded (tiled decoding, before its frames come).
    Tile { done: usize, total: usize },
    /// `done` of `total` frames decoded.
    Decoded { done: usize, total: usize },
}

/// What a folder makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    TextToVideo,
    /// Wan2.1's image to video: the still through the VAE (the first frame's latents and a
    /// mask, beside the noise) and, with `image_encoder`, through CLIP.
    ImageToVideo {
        image_encoder: bool,
    },
    /// Wan2.2's TI2V: text to video, or with a still its latents as the first latent frame
    /// (whose tokens are held at timestep 0); every token has its own timestep.
    TextImageToVideo,
}

/// A diffusers Wan folder.
pub struct WanVideo {
    folder: PathBuf,
    device: Device,
    dtype: DType,
    task: Task,
    transformer: WanTransformerConfig,
    /// Wan2.2's two experts: the share of the schedule (of `num_train_timesteps`) below which
    /// the low-noise expert (`transformer_2/`) takes over.
    boundary: Option<f64>,
    vae: WanVaeConfig,
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

/// The mask channels beside Wan2.1 I2V's noise: one a frame of a latent frame's four.
const MASK_CHANNELS: usize = 4;

impl WanVideo {
    fn weight_bytes(&self, part: &str, stem: &str, dtype: DType) -> Result<usize> {
        Ok(Weights::open(&self.folder.join(part), stem, &self.device, dtype)?.bytes())
    }

    /// Opens `folder`, checking that it is a Wan pipeline reel runs, with every part there.
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
        let image_to_video = match index.class.as_str() {
            "WanPipeline" => false,
            "WanImageToVideoPipeline" => true,
            other => {
                return Err(DiffusionError::model(
                    folder,
                    format!(
                        "a {other}, not a Wan pipeline (WanPipeline or WanImageToVideoPipeline)"
                    ),
                ));
            }
        };
        let boundary = index.boundary_ratio;
        if boundary.is_some_and(|b| !(0.0..=1.0).contains(&b)) {
            return Err(DiffusionError::model(
                &index_path,
                "boundary_ratio is outside 0 to 1",
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
        let transformer: WanTransformerConfig =
            read_config(&folder.join("transformer"), "WanTransformer3DModel")?;
        if boundary.is_some() {
            let low: WanTransformerConfig =
                read_config(&folder.join("transformer_2"), "WanTransformer3DModel")?;
            if (
                low.in_channels,
                low.out_channels,
                low.patch_size,
                low.text_dim,
            ) != (
                transformer.in_channels,
                transformer.out_channels,
                transformer.patch_size,
                transformer.text_dim,
            ) {
                return Err(DiffusionError::model(
                    folder.join("transformer_2"),
                    "the low-noise expert's inputs differ from the high-noise expert's",
                ));
            }
        }
        if transformer.patch_size.contains(&0) || transformer.num_layers == 0 {
            return Err(DiffusionError::model(
                folder.join("transformer"),
                format!(
                    "patch_size {:?} and {} layers: neither can be zero",
                    transformer.patch_size, transformer.num_layers
                ),
            ));
        }
        let vae = WanVaeConfig::read(&folder.join("vae"))?;
        let image_encoder = folder.join("image_encoder").is_dir();
        let task = match (image_to_video, index.expand_timesteps) {
            (_, true) => Task::TextImageToVideo,
            (true, false) => Task::ImageToVideo { image_encoder },
            (false, false) => Task::TextToVideo,
        };
        if vae.temporal_factor() != MASK_CHANNELS && task != Task::TextToVideo {
            return Err(DiffusionError::model(
                folder.join("vae"),
                "image to video needs a VAE that makes a latent frame of four frames",
            ));
        }
        // The transformer's inputs have to be what this task feeds it.
        let z = vae.z_dim;
        let (channels, what) = match task {
            Task::TextToVideo | Task::TextImageToVideo => (z, "the noise"),
            Task::ImageToVideo { .. } => (
                2 * z + MASK_CHANNELS,
                "the noise, the mask and the still's latents",
            ),
        };
        let out_channels = transformer.out_channels.unwrap_or(transformer.in_channels);
        if transformer.in_channels != channels || out_channels != z {
            return Err(DiffusionError::model(
                folder.join("transformer"),
                format!(
                    "takes {} channels and gives {}; with this VAE (z_dim {z}) it must take {channels} \
                     ({what}) and give {z}",
                    transformer.in_channels, out_channels
                ),
            ));
        }
        if matches!(task, Task::ImageToVideo { .. })
            && transformer.image_dim.is_some() != image_encoder
        {
            return Err(DiffusionError::model(
                folder,
                if image_encoder {
                    "it has an image_encoder/ but its transformer takes no image states"
                } else {
                    "its transformer takes image states (image_dim) but the image_encoder/ folder is missing"
                },
            ));
        }
        Ok(WanVideo {
            folder: folder.to_path_buf(),
            device: device.clone(),
            dtype,
            task,
            transformer,
            boundary,
            vae,
        })
    }

    pub fn task(&self) -> Task {
        self.task
    }

    /// The latents' shape for `width`×`height`×`frames`.
    pub fn latent_shape(&self, width: usize, height: usize, frames: usize) -> [usize; 5] {
        [
            1,
            self.vae.z_dim,
            (frames - 1) / self.vae.temporal_factor() + 1,
            height / self.vae.spatial_factor(),
            width / self.vae.spatial_factor(),
        ]
    }

    /// The size multiple the model needs (the VAE's factor times the patch).
    pub fn size_multiple(&self) -> usize {
        self.vae.spatial_factor()
            * self.transformer.patch_size[1].max(self.transformer.patch_size[2])
    }

    /// Checks `request` before any model is loaded.
    pub fn check(&self, request: &Request) -> Result<()> {
        self.prepare(request).map(|_| ())
    }

    /// Checks `request` and builds its sampler, which the checks need anyway; with it, the
    /// schedule's `num_train_timesteps` (the experts' boundary is a share of it) and the step
    /// the walk starts at (past 0 for video to video).
    fn prepare(&self, request: &Request) -> Result<(Box<dyn Scheduler>, usize, usize)> {
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
        let t = self.vae.temporal_factor();
        if request.frames == 0 || !(request.frames - 1).is_multiple_of(t) {
            return Err(DiffusionError::Usage(format!(
                "{} frames: the model makes {t}k+1 frames (1, {}, ..., {})",
                request.frames,
                t + 1,
                20 * t + 1
            )));
        }
        // The sampler's own checks (steps, shift), before anything loads.
        let config = SchedulerConfig::read(&self.folder.join("scheduler"))?;
        let scheduler = config.build(request.scheduler, request.steps, request.shift)?;
        if request.guidance_low.is_some() && self.boundary.is_none() {
            return Err(DiffusionError::Usage(
                "--guidance-low is for Wan2.2's two-expert models; this one has one transformer"
                    .into(),
            ));
        }
        if let Some(tiling) = request.vae_tiling {
            tiling.check(self.vae.spatial_factor())?;
        }
        let start = match &request.video {
            None => 0,
            Some(video) => {
                if matches!(self.task, Task::ImageToVideo { .. })
                    || request.image.is_some()
                    || request.last_image.is_some()
                {
                    return Err(DiffusionError::Usage(
                        "video to video runs on a text-to-video folder (for example \
                         Wan2.1-T2V-1.3B-Diffusers or Wan2.2-TI2V-5B-Diffusers), with no still"
                            .into(),
                    ));
                }
                if video.frames.len() != request.frames {
                    return Err(DiffusionError::Usage(format!(
                        "{} frames of video for a request of {}",
                        video.frames.len(),
                        request.frames
                    )));
                }
                if video.frames.iter().any(|f| f.width == 0 || f.height == 0) {
                    return Err(DiffusionError::Usage(
                        "a frame of the video is empty".into(),
                    ));
                }
                if !(video.strength > 0.0 && video.strength <= 1.0) {
                    return Err(DiffusionError::Usage(format!(
                        "a strength of {}: above 0, at most 1",
                        video.strength
                    )));
                }
                let start = start_for_strength(request.steps, video.strength);
                if start == request.steps {
                    return Err(DiffusionError::Usage(format!(
                        "a strength of {} over {} steps runs no step: raise the strength or the steps",
                        video.strength, request.steps
                    )));
                }
                start
            }
        };
        if let Some(region) = &request.region {
            if request.video.is_some() || request.last_image.is_some() {
                return Err(DiffusionError::Usage(
                    "a region is animated from one still: no clip and no last frame".into(),
                ));
            }
            if (region.still.width, region.still.height) != (request.width, request.height)
                || region.moving.len() != request.width * request.height
            {
                return Err(DiffusionError::Usage(format!(
                    "the region's still and mask must be {}x{}, the video's size",
                    request.width, request.height
                )));
            }
        }
        match (self.task, &request.image, &request.last_image) {
            (Task::TextToVideo, Some(_), _) => {
                return Err(DiffusionError::Usage(
                    "this is a text-to-video model; image to video needs an image-to-video folder \
                     (for example Wan2.1-I2V-14B-480P-Diffusers)"
                        .into(),
                ));
            }
            (Task::TextToVideo | Task::TextImageToVideo, _, Some(_)) => {
                return Err(DiffusionError::Usage(
                    "a last frame needs a Wan2.1 image-to-video folder (for example \
                     Wan2.1-FLF2V-14B-720P-Diffusers); this model conditions on the first frame only"
                        .into(),
                ));
            }
            (Task::ImageToVideo { .. }, None, None) => {
                return Err(DiffusionError::Usage(
                    "this is an image-to-video model: give it the first frame (--image)".into(),
                ));
            }
            _ => {}
        }
        for img in request.image.iter().chain(&request.last_image) {
            if img.width == 0 || img.height == 0 {
                return Err(DiffusionError::Usage("the image is empty".into()));
            }
        }
        if request.last_image.is_some() && request.frames < 5 {
            return Err(DiffusionError::Usage(
                "a last frame needs at least 5 frames (it is the last of a 4k+1 clip)".into(),
            ));
        }
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
        Ok((scheduler, config.num_train_timesteps, start))
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
        let (mut scheduler, train_steps, start) = self.prepare(request)?;
        let shape = self.latent_shape(request.width, request.height, request.frames);
        let initial = match &request.noise {
            Noise::Seed(seed) => noise::seeded(&shape, *seed, &self.device)?,
            Noise::File(path) => noise::from_file(path, &shape, &self.device)?,
        }
        .to_dtype(DType::F32)?;
        let latents = initial.clone();
        scheduler.begin_at(start);

        // The prompts, with the text encoder freed before the transformer loads.
        // As in diffusers: guided (for both experts) when the first scale is above 1.
        let guidance_low = request.guidance_low.unwrap_or(request.guidance);
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

        let (image_states, condition, first_frame) = match (self.task, &request.image) {
            (Task::ImageToVideo { image_encoder }, _) => {
                let states = image_encoder
                    .then(|| self.encode_stills(request))
                    .transpose()?;
                let condition = self.condition(request)?;
                progress(Stage::Image)?;
                (states, Some(condition), None)
            }
            (Task::TextImageToVideo, Some(img)) => {
                let latents = self.first_frame(img, request)?;
                progress(Stage::Image)?;
                (None, None, Some(latents))
            }
            _ => (None, None, None),
        };
        // Video to video: the clip's latents noised to where the walk starts.
        let latents = match &request.video {
            Some(video) => {
                let clip = self.encode_video(&video.frames, request)?;
                progress(Stage::Image)?;
                let sigma = f64::from(scheduler.sigmas()[start]);
                ((clip * (1.0 - sigma))? + (latents * sigma)?)?
            }
            None => latents,
        };

        // A region animated: the still's own clip (the still in every frame) held outside it.
        let hold = match &request.region {
            Some(region) => {
                let still = vec![region.still.clone(); request.frames];
                let clean = self.encode_video(&still, request)?;
                progress(Stage::Image)?;
                let keep = self.keep_mask(region, &shape)?;
                Some((clean.to_dtype(DType::F32)?, initial.clone(), keep))
            }
            None => None,
        };
        let hold = hold
            .as_ref()
            .map(|(clean, noise, keep)| Hold { clean, noise, keep });
        let latents = match &hold {
            Some(hold) => hold.apply(&latents, scheduler.sigmas()[start])?,
            None => latents,
        };

        let t = &self.transformer;
        let tokens = shape[2] / t.patch_size[0]
            * (shape[3] / t.patch_size[1])
            * (shape[4] / t.patch_size[2]);
        let batch = if guided { 2 } else { 1 };
        // The experts and their shares of the steps: one, or Wan2.2's high-noise expert while
        // the timestep is at or above the boundary and the low-noise one after.
        let total = scheduler.timesteps().len();
        let experts = match self.boundary {
            None => vec![("transformer", request.guidance, start..total)],
            Some(ratio) => {
                let boundary = ratio * train_steps as f64;
                let split = scheduler
                    .timesteps()
                    .iter()
                    .position(|&t| (t as f64) < boundary)
                    .unwrap_or(total);
                vec![
                    ("transformer", request.guidance, start..split.max(start)),
                    ("transformer_2", guidance_low, split.max(start)..total),
                ]
            }
        };
        let mut latents = latents;
        for (part, guidance, steps) in experts {
            if steps.is_empty() {
                continue;
            }
            let weights = self.weight_bytes(part, "diffusion_pytorch_model", self.dtype)?;
            let activations =
                memory::transformer_activations(batch, tokens, t.inner_dim(), t.ffn_dim);
            let streamed = request
                .offload
                .unwrap_or_else(|| !memory::fits(weights + activations, &self.device));
            // Streamed, about two blocks' weights are held at once (the running one, and its
            // transposed copies as they are made), besides the embeddings.
            let held = if streamed {
                2 * weights / t.num_layers.max(1)
            } else {
                weights
            };
            memory::ensure_fits("denoising", held + activations, &self.device)?;
            // One expert in memory at a time.
            let folder = self.folder.join(part);
            let transformer = if streamed {
                progress(Stage::Offloading)?;
                WanTransformer::load_streamed(&folder, &self.device, self.dtype)?
            } else {
                WanTransformer::load(&folder, &self.device, self.dtype)?
            };
            let conditioning = Conditioning {
                prompt: &prompt,
                negative: negative.as_ref(),
                guidance,
                image: image_states.as_ref(),
                condition: condition.as_ref(),
                first_frame: first_frame.as_ref(),
                per_token_timesteps: self.task == Task::TextImageToVideo,
                hold,
            };
            latents = denoise(
                &transformer,
                scheduler.as_mut(),
                latents,
                &conditioning,
                steps,
                |report| progress(Stage::Step(report)),
            )?;
        }

        // Whole frames where they fit, tiles where they do not (or where asked).
        let whole = self.vae_bytes(request)?;
        let tiling = match request.vae_tiling {
            Some(tiling) => Some(tiling),
            None if !memory::fits(whole, &self.device) => Some(Tiling::default()),
            None => None,
        };
        let needed = match tiling {
            // One tile's working memory, and the decoded tiles held until they are stitched
            // (their overlaps make them about 1.8 times the video, in f32).
            Some(t) => {
                self.vae_bytes_at(t.tile * t.tile)?
                    + request.frames * 3 * request.width * request.height * 4 * 9 / 5
            }
            None => whole,
        };
        memory::ensure_fits("decoding", needed, &self.device)?;
        // The VAE decodes in f32 (as Wan's reference does): small weights, and the frames' values.
        let mut vae = WanVaeDecoder::load(&self.folder.join("vae"), &self.device, DType::F32)?;
        let z = vae.denormalise(&latents)?.squeeze(0)?;
        let (_, latent_frames, h, w) = z.dims4()?;
        let mut done = 0;
        match tiling {
            Some(tiling) => vae.tiled(h, w, tiling)?.decode(&z, |event| match event {
                Decoded::Tile { done, total } => progress(Stage::Tile { done, total }),
                Decoded::Frames(chunk) => {
                    done += chunk.dim(0)?;
                    frames(chunk)?;
                    progress(Stage::Decoded {
                        done,
                        total: request.frames,
                    })
                }
            })?,
            None => {
                for i in 0..latent_frames {
                    let chunk = vae.decode_frame(&z.narrow(1, i, 1)?.squeeze(1)?)?;
                    done += chunk.dim(0)?;
                    frames(&chunk)?;
                    progress(Stage::Decoded {
                        done,
                        total: request.frames,
                    })?;
                }
            }
        }
        Ok(())
    }
}

impl WanVideo {
    /// Where the latents hold the still, (1, 1, frames, h, w): a latent cell moves where any
    /// pixel it covers moves, and the first latent frame (the still itself) never does.
    fn keep_mask(&self, region: &Region, shape: &[usize; 5]) -> Result<Tensor> {
        let [_, _, frames, h, w] = *shape;
        let f = self.vae.spatial_factor();
        let width = region.still.width;
        let mut keep = vec![1f32; h * w];
        for (i, &m) in region.moving.iter().enumerate() {
            if m > 0 {
                let (x, y) = (i % width / f, i / width / f);
                if x < w && y < h {
                    keep[y * w + x] = 0.0;
                }
            }
        }
        let frame = Tensor::from_vec(keep, (1, 1, 1, h, w), &self.device)?;
        let still = Tensor::ones((1, 1, 1, h, w), DType::F32, &self.device)?;
        let mut parts = vec![still];
        parts.extend(std::iter::repeat_n(frame, frames - 1));
        Ok(Tensor::cat(&parts, 2)?)
    }

    /// The VAE's peak: a chunk of four frames through the widest full-size layers, and the
    /// unfolding.
    fn vae_bytes(&self, request: &Request) -> Result<usize> {
        self.vae_bytes_at(request.width * request.height)
    }

    fn vae_bytes_at(&self, pixels: usize) -> Result<usize> {
        Ok(
            self.weight_bytes("vae", "diffusion_pytorch_model", DType::F32)?
                + 4 * pixels * self.vae.base_dim * 4 * 8
                + (256 << 20),
        )
    }

    /// The stills through the CLIP image encoder: their states before the last layer, as
    /// diffusers' `encode_image` takes them. CLIP sees what the video starts (or ends) from:
    /// each still cropped to the video's shape (the same as diffusers' where the shapes agree).
    /// A transformer with learnt positions for two images (FLF2V) gets the first and the last
    /// still (the one given, twice, when only one is); the others get the first, or the last
    /// when it is all there is.
    fn encode_stills(&self, request: &Request) -> Result<Tensor> {
        let stills: Vec<&reel_image::Image> =
            request.image.iter().chain(&request.last_image).collect();
        let stills = match (self.transformer.pos_embed_seq_len.is_some(), &stills[..]) {
            (true, [one]) => vec![*one, *one],
            (true, _) => stills,
            (false, _) => stills[..1].to_vec(),
        };
        let folder = self.folder.join("image_encoder");
        let bytes = self.weight_bytes("image_encoder", "model", self.dtype)?;
        memory::ensure_fits("encoding the image", bytes + bytes / 5, &self.device)?;
        let encoder = ClipVision::load(&folder, &self.device, self.dtype)?;
        let processor = ClipImageProcessor::read(
            &self.folder.join("image_processor"),
            encoder.config().image_size,
        )?;
        let pixels = stills
            .iter()
            .map(|img| {
                let framed = crop_to_shape(img, request.width, request.height);
                processor.prepare(&framed, &self.device)
            })
            .collect::<Result<Vec<_>>>()?;
        encoder.penultimate_states(&Tensor::cat(&pixels, 0)?)
    }

    /// The conditioning beside the noise, as diffusers' `prepare_latents` builds it: a mask of
    /// the frames given (4 channels, one a frame of each latent frame's four; the first latent
    /// frame's four all stand for the first frame) and the VAE's latents of the video made of
    /// the stills where they are given and grey (zeros) elsewhere, (1, 4 + z_dim, frames, h, w).
    fn condition(&self, request: &Request) -> Result<Tensor> {
        memory::ensure_fits("encoding the image", self.vae_bytes(request)?, &self.device)?;
        let mut vae = WanVaeEncoder::load(&self.folder.join("vae"), &self.device, DType::F32)?;
        let still =
            |img: &reel_image::Image| vae_frame(img, request.width, request.height, &self.device);
        let grey = Tensor::zeros((3, request.height, request.width), DType::F32, &self.device)?;
        let first = match &request.image {
            Some(img) => still(img)?,
            None => grey.clone(),
        };
        let last = request.last_image.as_ref().map(still).transpose()?;
        let t = self.vae.temporal_factor();
        let chunks = (request.frames - 1) / t;
        let mut latents = vec![vae.encode_chunk(&first.unsqueeze(0)?)?];
        for k in 0..chunks {
            stop_requested()?;
            let frames: Vec<&Tensor> = (0..t)
                .map(|i| match &last {
                    Some(last) if k + 1 == chunks && i + 1 == t => last,
                    _ => &grey,
                })
                .collect();
            latents.push(vae.encode_chunk(&Tensor::stack(&frames, 0)?)?);
        }
        let latents = Tensor::stack(&latents, 2)?;
        let (_, _, latent_frames, h, w) = latents.dims5()?;
        // Which frames are given: the first, the last, or both.
        let given = |frame: usize| {
            (frame == 0 && request.image.is_some())
                || (frame + 1 == request.frames && request.last_image.is_some())
        };
        let mut mask = vec![0f32; MASK_CHANNELS * latent_frames * h * w];
        for c in 0..MASK_CHANNELS {
            for k in 0..latent_frames {
                let frame = if k == 0 { 0 } else { (k - 1) * t + 1 + c };
                if given(frame) {
                    let start = (c * latent_frames + k) * h * w;
                    mask[start..start + h * w].fill(1.0);
                }
            }
        }
        let mask = Tensor::from_vec(mask, (1, MASK_CHANNELS, latent_frames, h, w), &self.device)?;
        Ok(Tensor::cat(&[&mask, &latents], 1)?)
    }

    /// Video to video's clip through the VAE, chunk by chunk: its latents (1, z_dim, frames, h,
    /// w), normalised, as diffusers' `prepare_latents` encodes the video (the distribution's
    /// mean).
    fn encode_video(&self, frames: &[reel_image::Image], request: &Request) -> Result<Tensor> {
        memory::ensure_fits("encoding the video", self.vae_bytes(request)?, &self.device)?;
        let mut vae = WanVaeEncoder::load(&self.folder.join("vae"), &self.device, DType::F32)?;
        let frame =
            |img: &reel_image::Image| vae_frame(img, request.width, request.height, &self.device);
        let mut latents = vec![vae.encode_chunk(&frame(&frames[0])?.unsqueeze(0)?)?];
        for chunk in frames[1..].chunks(self.vae.temporal_factor()) {
            stop_requested()?;
            let chunk = chunk.iter().map(frame).collect::<Result<Vec<_>>>()?;
            latents.push(vae.encode_chunk(&Tensor::stack(&chunk, 0)?)?);
        }
        Ok(Tensor::stack(&latents, 2)?)
    }

    /// Wan2.2 TI2V's first latent frame: the still alone through the VAE, (1, z_dim, 1, h, w).
    fn first_frame(&self, img: &reel_image::Image, request: &Request) -> Result<Tensor> {
        Ok(self.encode_still(img, request)?.1.unsqueeze(2)?)
    }

    /// The VAE's encoder with the still encoded as the video's first frame, and its latent
    /// frame (1, z_dim, h, w).
    fn encode_still(
        &self,
        img: &reel_image::Image,
        request: &Request,
    ) -> Result<(WanVaeEncoder, Tensor)> {
        memory::ensure_fits("encoding the image", self.vae_bytes(request)?, &self.device)?;
        let mut vae = WanVaeEncoder::load(&self.folder.join("vae"), &self.device, DType::F32)?;
        let first = vae_frame(img, request.width, request.height, &self.device)?;
        let latent = vae.encode_chunk(&first.unsqueeze(0)?)?;
        Ok((vae, latent))
    }
}

/// The VAE's encoders run for many chunks between progress reports: a stop is heard between
/// chunks.
fn stop_requested() -> Result<()> {
    if reel_core::stop::requested() {
        return Err(DiffusionError::Cancelled);
    }
    Ok(())
}
