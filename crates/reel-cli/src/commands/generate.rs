//! `reel gen`: text to video, image to video (or a still, or a loop) with a Wan model from a
//! diffusers folder; the engine's settings and progress, shared by every command that generates.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reel_diffusion::pipelines::wan::{Noise, Stage};
use reel_diffusion::schedulers::SchedulerKind;
use reel_generate::{Engine, EngineSettings, Event};

use crate::OutputArgs;
use crate::failure::{Failure, Result};
use crate::provenance::Report as _;

/// The model and the sampler's settings, shared by every command that generates.
#[derive(Args)]
pub struct EngineArgs {
    /// A Wan model in the diffusers layout (model_index.json, transformer/, text_encoder/,
    /// tokenizer/, vae/, scheduler/, and for image to video image_encoder/), for example
    /// Wan2.1-T2V-1.3B-Diffusers or Wan2.1-I2V-14B-480P-Diffusers.
    #[arg(long)]
    pub model: PathBuf,
    /// What to steer away from (guidance's negative prompt).
    #[arg(long, default_value = "")]
    pub negative: String,
    /// The size generated at, WIDTHxHEIGHT, multiples of 16 (32 for Wan2.2 TI2V; by default
    /// the picture's shape at about 832x480's pixels).
    #[arg(long)]
    pub size: Option<String>,
    /// Denoising steps.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Classifier-free guidance scale (1 turns it off, halving the work).
    #[arg(long, default_value_t = 5.0)]
    pub guidance: f64,
    /// The low-noise expert's guidance scale, for Wan2.2's two-expert models (A14B; by default
    /// --guidance).
    #[arg(long)]
    pub guidance_low: Option<f64>,
    /// The schedule's shift (by default the folder's: 3 for 480p models, 5 for 720p).
    #[arg(long)]
    pub shift: Option<f64>,
    /// The sampler: unipc or euler (by default the folder's).
    #[arg(long)]
    pub scheduler: Option<SchedulerKind>,
    /// Draws the initial noise from this seed (reel's own generator; by default a fresh one,
    /// printed so the run can be repeated).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Read the transformer's blocks from the model files as they run instead of holding them
    /// all (layer-by-layer offload): for models larger than the memory, slower; by default only
    /// where the model would not fit (on the CPU, where the free memory is known).
    #[arg(long)]
    pub offload: bool,
    /// Decode the video in overlapping tiles of 256 pixels (as diffusers' enable_tiling), to
    /// bound the decoder's memory; by default only where whole frames would not fit.
    #[arg(long)]
    pub vae_tiling: bool,
    /// Weights' precision: f32 (the CPU's default) or bf16 (CUDA's default), or f16.
    #[arg(long)]
    pub dtype: Option<String>,
}

impl EngineArgs {
    /// The settings these arguments give.
    pub fn settings(&self) -> Result<EngineSettings> {
        Ok(EngineSettings {
            model: self.model.clone(),
            negative: self.negative.clone(),
            size: self.size.as_deref().map(parse_size).transpose()?,
            steps: self.steps,
            guidance: self.guidance,
            guidance_low: self.guidance_low,
            shift: self.shift,
            scheduler: self.scheduler,
            seed: self.seed,
            offload: self.offload,
            vae_tiling: self.vae_tiling,
            dtype: self
                .dtype
                .as_deref()
                .map(reel_generate::engine::parse_dtype)
                .transpose()?,
        })
    }

    pub fn open(&self) -> Result<Engine> {
        Ok(Engine::open(
            self.settings()?,
            crate::provenance::new_payload(),
        )?)
    }
}

/// The size to generate at for a picture of `shape`, said when it was chosen from the shape.
pub fn size(engine: &Engine, shape: Option<(usize, usize)>, quiet: bool) -> (usize, usize) {
    let (size, from_shape) = engine.size(shape);
    if from_shape && !quiet {
        eprintln!(
            "note: generating at {}x{}, the picture's shape",
            size.0, size.1
        );
    }
    size
}

#[derive(Args)]
pub struct GenArgs {
    /// What to generate.
    pub prompt: String,
    /// The first frame, for an image-to-video model or Wan2.2 TI2V (any image ffmpeg reads). It
    /// is cropped, centred, to the video's shape, never stretched.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// The video (.mp4, .mov, a folder for PNG frames) or, with --frames 1, a still (.png).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Frames: 4k+1 (others are rounded down to one); 1 makes an image.
    #[arg(long, default_value_t = 81)]
    pub frames: usize,
    #[arg(long, default_value_t = 16)]
    pub fps: u32,
    /// A seamless loop: the clip ends where it began, on --image (a Wan2.1 image-to-video
    /// folder, which conditions on a last frame); the closing frame, the first again, is left
    /// out so that the clip repeats without a held frame.
    #[arg(long = "loop", requires = "image")]
    pub looped: bool,
    /// Starts from the initial latents in this safetensors file (a tensor named `latents`), as
    /// diffusers' `latents=` does, to reproduce a diffusers run.
    #[arg(long, conflicts_with = "seed")]
    pub noise: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: &GenArgs, quiet: bool) -> Result {
    let frames = reel_generate::model_frames(args.frames)
        .map_err(|_| Failure::usage("--frames must be at least 1"))?;
    if frames != args.frames {
        eprintln!(
            "note: the model makes 4k+1 frames; {} rounded to {frames}",
            args.frames
        );
    }
    if args.fps == 0 {
        return Err(Failure::usage("--fps must be at least 1"));
    }
    if args.looped && frames < 5 {
        return Err(Failure::usage("a loop needs 5 frames or more (--frames)"));
    }
    let mut inputs: Vec<&std::path::Path> = Vec::new();
    if let Some(noise) = &args.noise {
        inputs.push(noise);
    }
    if let Some(image) = &args.image {
        inputs.push(image);
    }
    reel_core::output::check_distinct(&inputs, &[&args.output])?;
    let engine = args.engine.open()?;
    let still = args
        .image
        .as_deref()
        .map(reel_generate::frames::first_frame)
        .transpose()?;
    let size = size(&engine, still.as_ref().map(|s| (s.width, s.height)), quiet);
    let mut request = engine.request(&args.prompt, size);
    request.frames = frames;
    if let Some(path) = &args.noise {
        request.noise = Noise::File(path.clone());
    }
    if args.looped {
        request.last_image = still.clone();
    }
    request.image = still;
    // Refused before the credentials are made and the seed is told (video() checks it again,
    // reading only the scheduler's config).
    engine.pipeline.check(&request)?;
    // The loop's closing frame is its first again.
    let kept = frames - usize::from(args.looped);

    // Generated media: the prompt and every setting go into its credentials.
    let mut parameters = engine.parameters(size);
    parameters.insert("prompt".into(), serde_json::json!(args.prompt));
    if args.noise.is_some() {
        parameters.insert("seed".into(), serde_json::Value::Null);
    }
    for (key, value) in [
        (
            "noise_file",
            args.noise
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().to_string())
                .into(),
        ),
        (
            "image",
            args.image
                .as_ref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().to_string())
                .into(),
        ),
        (
            "task",
            serde_json::json!(reel_generate::video_task(
                request.image.is_some(),
                args.looped
            )),
        ),
        ("frames", serde_json::json!(kept)),
        ("fps", serde_json::json!(args.fps)),
    ] {
        parameters.insert(key.into(), value);
    }
    let provenance = crate::provenance::Provenance::new(
        &args.out.sign.signing(),
        "c2pa.created",
        reel_credentials::SourceType::TrainedAlgorithmicMedia,
        serde_json::Value::Object(parameters),
        &inputs,
        None,
    )?;
    let output = reel_clips::Output {
        path: args.output.clone(),
        codec: args.out.codec_for(&args.output)?,
        crf: args.out.crf,
        seal: provenance.seal(),
    };
    let mut marker = provenance.marker();
    if !quiet && args.noise.is_none() {
        eprintln!("seed {}", engine.seed);
    }

    let mut bars = Bars::new(engine.settings.steps, request.image.is_some(), quiet);
    let report = reel_generate::video(
        &engine.pipeline,
        &request,
        &reel_generate::VideoSettings {
            fps: args.fps,
            looped: args.looped,
        },
        &output,
        &mut |image, seconds| marker.mark(image, seconds),
        &mut |event| bars.on(event),
    );
    bars.clear();
    let report = report?;
    provenance.report(quiet);
    if !quiet {
        eprintln!(
            "{}: {} frames, {}x{}, {} fps, generated by {}{}",
            args.output.display(),
            report.frames,
            report.width,
            report.height,
            args.fps,
            engine.name.as_deref().unwrap_or("the model"),
            if args.looped { ", looping" } else { "" },
        );
    }
    Ok(())
}

/// The progress of a job that generates: a bar of steps for each generation, then tiles and
/// frames as they are decoded, then frames written where the job joins or writes after.
pub struct Bars {
    steps: usize,
    stills: bool,
    quiet: bool,
    pass: Option<(usize, usize)>,
    steps_bar: Option<ProgressBar>,
    tiles_bar: Option<ProgressBar>,
    frames_bar: Option<ProgressBar>,
    written_bar: Option<ProgressBar>,
    told_offload: bool,
}

impl Bars {
    pub fn new(steps: usize, stills: bool, quiet: bool) -> Bars {
        Bars {
            steps,
            stills,
            quiet,
            pass: None,
            steps_bar: None,
            tiles_bar: None,
            frames_bar: None,
            written_bar: None,
            told_offload: false,
        }
    }

    fn steps_bar(&mut self) -> &ProgressBar {
        let (steps, quiet, pass) = (self.steps, self.quiet, self.pass);
        self.steps_bar.get_or_insert_with(|| {
            let b = bar(steps as u64, "steps", quiet);
            if let Some((index, of)) = pass.filter(|p| p.1 > 1) {
                b.set_prefix(format!("{}/{of} ", index + 1));
            }
            b
        })
    }

    /// Shows `event`; false once a stop was requested.
    pub fn on(&mut self, event: Event) -> bool {
        match event {
            Event::Pass { index, of } => {
                self.clear();
                self.pass = Some((index, of));
            }
            Event::Stage(stage) => self.stage(stage),
            Event::Written { done, total } => {
                for b in [&self.steps_bar, &self.tiles_bar, &self.frames_bar]
                    .into_iter()
                    .flatten()
                {
                    b.finish_and_clear();
                }
                let quiet = self.quiet;
                let b = self
                    .written_bar
                    .get_or_insert_with(|| crate::progress::frames(total, "writing", quiet));
                return crate::progress::advance(b, done, total);
            }
        }
        !reel_core::stop::requested()
    }

    fn stage(&mut self, stage: Stage) {
        match stage {
            Stage::Prompt if self.stills => self.steps_bar().set_message("image"),
            Stage::Prompt | Stage::Image => self.steps_bar().set_message("denoising"),
            Stage::Offloading if !self.quiet && !self.told_offload => {
                self.told_offload = true;
                self.steps_bar().suspend(|| {
                    eprintln!(
                        "note: the transformer's blocks are read from the model files as they run \
                         (layer-by-layer offload: less memory, slower)"
                    )
                })
            }
            Stage::Offloading => {}
            Stage::Step(report) => {
                let b = self.steps_bar();
                b.set_position(report.step as u64);
                b.set_message(format!("{:.1} s/step", seconds(report.took)));
            }
            Stage::Tile { done, total } => {
                self.steps_bar().finish_and_clear();
                let quiet = self.quiet;
                let b = self
                    .tiles_bar
                    .get_or_insert_with(|| bar(total as u64, "tiles", quiet));
                b.set_position(done as u64);
            }
            Stage::Decoded { done, total } => {
                self.steps_bar().finish_and_clear();
                if let Some(b) = &self.tiles_bar {
                    b.finish_and_clear();
                }
                let quiet = self.quiet;
                let b = self
                    .frames_bar
                    .get_or_insert_with(|| bar(total as u64, "frames", quiet));
                b.set_position(done as u64);
            }
        }
    }

    /// Clears every bar (a new generation starts, or the job has ended).
    pub fn clear(&mut self) {
        for b in [
            self.steps_bar.take(),
            self.tiles_bar.take(),
            self.frames_bar.take(),
            self.written_bar.take(),
        ]
        .into_iter()
        .flatten()
        {
            b.finish_and_clear();
        }
    }
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn bar(total: u64, unit: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = format!(
        "{{prefix}}{{msg:>14}} [{{bar:30}}] {{pos}}/{{len}} {unit}  elapsed {{elapsed}}  eta {{eta}}"
    );
    bar.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("prompt");
    bar
}

pub fn parse_size(size: &str) -> Result<(usize, usize)> {
    reel_generate::engine::parse_size(size).map_err(|e| Failure::usage(format!("--{e}")))
}
