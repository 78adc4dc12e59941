//! `reel gen`: text to video, image to video (or a still) with a Wan model from a diffusers
//! folder.

use std::path::PathBuf;
use std::time::Duration;

use candle_core::DType;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reel_diffusion::DiffusionError;
use reel_diffusion::models::wan_vae::Tiling;
use reel_diffusion::pipelines::wan::{Noise, Request, Stage, WanVideo};
use reel_diffusion::schedulers::SchedulerKind;
use reel_image::Image;
use reel_video::{Decoder, Encoder, EncoderSettings, Frame, Timestamp};

use crate::OutputArgs;
use crate::failure::{Failure, Result};
use crate::provenance::Report as _;

#[derive(Args)]
pub struct GenArgs {
    /// What to generate.
    pub prompt: String,
    /// A Wan model in the diffusers layout (model_index.json, transformer/, text_encoder/,
    /// tokenizer/, vae/, scheduler/, and for image to video image_encoder/), for example
    /// Wan2.1-T2V-1.3B-Diffusers or Wan2.1-I2V-14B-480P-Diffusers.
    #[arg(long)]
    pub model: PathBuf,
    /// The first frame, for an image-to-video model or Wan2.2 TI2V (any image ffmpeg reads). It
    /// is cropped, centred, to the video's shape, never stretched.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// The video (.mp4, .mov, a folder for PNG frames) or, with --frames 1, a still (.png).
    #[arg(long, short)]
    pub output: PathBuf,
    /// What to steer away from (guidance's negative prompt).
    #[arg(long, default_value = "")]
    pub negative: String,
    /// WIDTHxHEIGHT, multiples of 16 (32 for Wan2.2 TI2V; by default 832x480, or with --image
    /// the image's shape at about as many pixels).
    #[arg(long)]
    pub size: Option<String>,
    /// Frames: 4k+1 (others are rounded down to one); 1 makes an image.
    #[arg(long, default_value_t = 81)]
    pub frames: usize,
    #[arg(long, default_value_t = 16)]
    pub fps: u32,
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
    #[arg(long, conflicts_with = "noise")]
    pub seed: Option<u64>,
    /// Starts from the initial latents in this safetensors file (a tensor named `latents`), as
    /// diffusers' `latents=` does, to reproduce a diffusers run.
    #[arg(long)]
    pub noise: Option<PathBuf>,
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
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: &GenArgs, quiet: bool) -> Result {
    let frames = if args.frames == 0 {
        return Err(Failure::usage("--frames must be at least 1"));
    } else if args.frames % 4 != 1 {
        let rounded = args.frames / 4 * 4 + 1;
        eprintln!(
            "note: the model makes 4k+1 frames; {} rounded to {rounded}",
            args.frames
        );
        rounded
    } else {
        args.frames
    };
    if args.fps == 0 {
        return Err(Failure::usage("--fps must be at least 1"));
    }
    let device = reel_runtime::device::device();
    let dtype = match args.dtype.as_deref() {
        None if device.is_cuda() => DType::BF16,
        None | Some("f32") => DType::F32,
        Some("bf16") => DType::BF16,
        Some("f16") => DType::F16,
        Some(other) => return Err(Failure::usage(format!("--dtype {other}: f32, bf16 or f16"))),
    };
    let mut inputs: Vec<&std::path::Path> = Vec::new();
    if let Some(noise) = &args.noise {
        inputs.push(noise);
    }
    if let Some(image) = &args.image {
        inputs.push(image);
    }
    reel_core::output::check_distinct(&inputs, &[&args.output])?;
    let pipeline = WanVideo::open(&args.model, &device, dtype)?;
    let still = args.image.as_deref().map(read_still).transpose()?;
    let (width, height) = match (&args.size, &still) {
        (Some(size), _) => parse_size(size)?,
        (None, Some(still)) => {
            let size = size_like(still, pipeline.size_multiple());
            if !quiet {
                eprintln!("note: {}x{} from the image's shape", size.0, size.1);
            }
            size
        }
        (None, None) => (832, 480),
    };
    // A fresh seed fits 53 bits, so that it reads back as the same number anywhere.
    let seed = args
        .seed
        .unwrap_or_else(|| crate::provenance::new_payload() >> 11);
    let request = Request {
        prompt: args.prompt.clone(),
        negative: args.negative.clone(),
        width,
        height,
        frames,
        steps: args.steps,
        guidance: args.guidance,
        guidance_low: args.guidance_low,
        shift: args.shift,
        scheduler: args.scheduler,
        noise: match &args.noise {
            Some(path) => Noise::File(path.clone()),
            None => Noise::Seed(seed),
        },
        image: still,
        vae_tiling: args.vae_tiling.then(Tiling::default),
        offload: args.offload.then_some(true),
    };
    pipeline.check(&request)?;

    // Generated media: the prompt and every setting go into its credentials.
    let model_name = args
        .model
        .canonicalize()
        .unwrap_or_else(|_| args.model.clone())
        .file_name()
        .map(|n| n.to_string_lossy().to_string());
    let provenance = crate::provenance::Provenance::new(
        &args.out.sign.signing(),
        "c2pa.created",
        reel_credentials::SourceType::TrainedAlgorithmicMedia,
        serde_json::json!({
            "model": model_name,
            "prompt": args.prompt,
            "negative_prompt": args.negative,
            // The manifest's integers are signed 64-bit: a larger seed is kept as text.
            "seed": args.noise.is_none().then(|| if seed <= i64::MAX as u64 {
                serde_json::json!(seed)
            } else {
                serde_json::json!(seed.to_string())
            }),
            "noise_file": args.noise.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().to_string()),
            "image": args.image.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().to_string()),
            "task": if args.image.is_some() { "image to video" } else { "text to video" },
            "width": width,
            "height": height,
            "frames": frames,
            "fps": args.fps,
            "steps": args.steps,
            "guidance": args.guidance,
            "guidance_low": args.guidance_low,
            "shift": args.shift,
            "scheduler": args.scheduler.map(|s| format!("{s:?}").to_lowercase()),
            "dtype": format!("{dtype:?}").to_lowercase(),
            "vae_tiling": args.vae_tiling,
        }),
        &inputs,
        None,
    )?;
    let settings = EncoderSettings {
        codec: args.out.codec_for(&args.output)?,
        crf: args.out.crf,
        audio_from: None,
        source: None,
        length: None,
        seal: provenance.seal(),
        frame_rate: Some((args.fps as i64, 1)),
    };
    let mut encoder = Encoder::create(&args.output, width, height, &settings)?;
    let mut marker = provenance.marker();
    if !quiet && args.noise.is_none() {
        eprintln!("seed {seed}");
    }

    let steps_bar = bar(args.steps as u64, "steps", quiet);
    let mut frames_bar: Option<ProgressBar> = None;
    let mut tiles_bar: Option<ProgressBar> = None;
    let mut image = Image::new(width, height);
    let mut written = 0u64;
    let mut told_offload = false;
    let result = pipeline.generate(
        &request,
        |stage| {
            if reel_core::stop::requested() {
                return Err(DiffusionError::Cancelled);
            }
            match stage {
                Stage::Prompt if request.image.is_some() => steps_bar.set_message("image"),
                Stage::Prompt | Stage::Image => steps_bar.set_message("denoising"),
                Stage::Offloading if !quiet && !told_offload => {
                    told_offload = true;
                    steps_bar.suspend(|| {
                    eprintln!(
                        "note: the transformer's blocks are read from the model files as they run \
                         (layer-by-layer offload: less memory, slower)"
                    )
                    })
                }
                Stage::Offloading => {}
                Stage::Step(report) => {
                    steps_bar.set_position(report.step as u64);
                    steps_bar.set_message(format!("{:.1} s/step", seconds(report.took)));
                }
                Stage::Tile { done, total } => {
                    steps_bar.finish_and_clear();
                    let b = tiles_bar.get_or_insert_with(|| bar(total as u64, "tiles", quiet));
                    b.set_position(done as u64);
                }
                Stage::Decoded { done, total } => {
                    steps_bar.finish_and_clear();
                    if let Some(b) = &tiles_bar {
                        b.finish_and_clear();
                    }
                    let b = frames_bar.get_or_insert_with(|| bar(total as u64, "frames", quiet));
                    b.set_position(done as u64);
                }
            }
            Ok(())
        },
        |chunk| {
            // The chunk's frames as interleaved RGB, copied off the device once.
            let rgb: Vec<f32> = chunk.permute((0, 2, 3, 1))?.flatten_all()?.to_vec1()?;
            for frame in rgb.chunks_exact(3 * width * height) {
                to_image(frame, &mut image);
                let time = Timestamp {
                    pts: written as i64,
                    num: 1,
                    den: args.fps as i64,
                };
                marker.mark(&mut image, time.seconds());
                encoder
                    .write(&image, Some(time))
                    .map_err(|e| DiffusionError::Output(e.to_string()))?;
                written += 1;
            }
            Ok(())
        },
    );
    steps_bar.finish_and_clear();
    for b in frames_bar.iter().chain(&tiles_bar) {
        b.finish_and_clear();
    }
    result?;
    let path = encoder.finish()?;
    provenance.report(quiet);
    if !quiet {
        eprintln!(
            "{}: {written} frames, {width}x{height}, {} fps, generated by {}",
            path.display(),
            args.fps,
            model_name.as_deref().unwrap_or("the model")
        );
    }
    Ok(())
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
        "{{msg:>14}} [{{bar:30}}] {{pos}}/{{len}} {unit}  elapsed {{elapsed}}  eta {{eta}}"
    );
    bar.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("prompt");
    bar
}

/// A frame's interleaved RGB values in [-1, 1] as 8-bit RGB.
fn to_image(rgb: &[f32], image: &mut Image) {
    for (dst, v) in image.data.iter_mut().zip(rgb) {
        *dst = ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8;
    }
}

/// The first frame of the still at `path`, upright.
fn read_still(path: &std::path::Path) -> Result<Image> {
    let mut decoder = Decoder::open(path)?;
    let mut frame = Frame::default();
    if !decoder.next_frame(&mut frame)? {
        return Err(Failure::usage(format!("{} holds no image", path.display())));
    }
    Ok(frame.image)
}

/// The size with `still`'s shape and about 832×480's pixels, in multiples of `multiple` (as
/// diffusers' image-to-video examples choose it).
fn size_like(still: &Image, multiple: usize) -> (usize, usize) {
    let area = 832.0 * 480.0;
    let aspect = still.height as f64 / still.width.max(1) as f64;
    let round = |v: f64| ((v / multiple as f64).round() as usize).max(1) * multiple;
    (round((area / aspect).sqrt()), round((area * aspect).sqrt()))
}

fn parse_size(size: &str) -> Result<(usize, usize)> {
    size.split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .ok_or_else(|| {
            Failure::usage(format!(
                "--size {size}: give WIDTHxHEIGHT, for example 832x480"
            ))
        })
}
