//! `reel restyle`, `reel extend`, `reel bridge`, `reel animate`: clips (and stills) worked on
//! with a generation model, the new frames labelled with the model, the prompt and every setting.

use std::path::{Path, PathBuf};

use clap::Args;
use reel_clips::{JoinReport, Output};
use reel_credentials::SourceType;
use reel_generate::{AnimateSettings, BridgeSettings, Direction, ExtendSettings, RestyleSettings};
use reel_video::Fit;
use serde_json::json;

use crate::OutputArgs;
use crate::commands::clips::parse_fit;
use crate::commands::generate::{Bars, EngineArgs, size};
use crate::failure::{Failure, Result};
use crate::provenance::Provenance;
use crate::provenance::Report as _;
use reel_generate::Engine;

#[derive(Args)]
pub struct RestyleArgs {
    /// The clip to restyle.
    pub clip: PathBuf,
    /// What the clip should become ("a watercolour painting", "claymation").
    #[arg(long)]
    pub prompt: String,
    #[arg(long, short)]
    pub output: PathBuf,
    /// How far from the clip to go: near 0 keeps it, 1 generates afresh (its layout lost).
    #[arg(long, default_value_t = 0.6)]
    pub strength: f64,
    /// Frames restyled together (4k+1); a longer clip is restyled in windows of this length.
    #[arg(long, default_value_t = 81)]
    pub window: usize,
    /// Frames each window shares with the one before (at most half a window), crossfaded from
    /// one to the other.
    #[arg(long, default_value_t = 8)]
    pub overlap: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Args)]
pub struct ExtendArgs {
    /// The clip to extend.
    pub clip: PathBuf,
    /// How much to add, in seconds (at the clip's frame rate).
    #[arg(long)]
    pub seconds: f64,
    /// What happens in the new frames.
    #[arg(long, default_value = "the scene continues naturally")]
    pub prompt: String,
    /// Add before the clip's first frame instead of after its last (a Wan2.1 image-to-video
    /// folder, which conditions on a last frame).
    #[arg(long)]
    pub backward: bool,
    /// Frames one generation makes at most (4k+1); longer extensions chain generations.
    #[arg(long, default_value_t = 81)]
    pub pass_frames: usize,
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Args)]
pub struct BridgeArgs {
    /// The clip before the passage.
    pub from: PathBuf,
    /// The clip after it (conformed to the first's size and rate where they differ).
    pub to: PathBuf,
    /// The passage's length, in seconds.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// What happens in the passage.
    #[arg(
        long,
        default_value = "a smooth, continuous transition between the two shots"
    )]
    pub prompt: String,
    /// A second clip of another shape is fitted whole with black bars (pad) or fills the frame,
    /// cropped at its centre (crop).
    #[arg(long, default_value = "crop", value_parser = parse_fit)]
    pub fit: Fit,
    /// Frames one generation makes at most (4k+1), which bounds the passage.
    #[arg(long, default_value_t = 81)]
    pub max_frames: usize,
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Args)]
pub struct AnimateArgs {
    /// The still to bring to life (any image ffmpeg reads).
    pub still: PathBuf,
    /// How the region moves ("her hair moves in the wind").
    #[arg(long)]
    pub prompt: String,
    /// A point of the region that moves, X,Y in the still's pixels: on a face, the face moves;
    /// on a person, the person; elsewhere the region grows from it over similar colour, stopped
    /// by edges. Repeat for more.
    #[arg(long, value_parser = parse_click, required_unless_present = "mask")]
    pub click: Vec<(usize, usize)>,
    /// The region as a mask image of the still's size instead (white moves, black stays).
    #[arg(long, conflicts_with = "click")]
    pub mask: Option<PathBuf>,
    /// How different a colour may be from the clicked one and still join the region (CIELAB
    /// ΔE; higher takes more).
    #[arg(long, default_value_t = 12.0)]
    pub tolerance: f32,
    /// Grow every click's region by its colour, even on a face or a person (a lock of hair, a
    /// sleeve).
    #[arg(long, conflicts_with = "mask")]
    pub by_colour: bool,
    /// Write the still with the region drawn on it to this PNG, to check it; without -o,
    /// nothing is generated.
    #[arg(long)]
    pub preview_mask: Option<PathBuf>,
    /// How far inside the region's edge the motion fades in, in the still's pixels.
    #[arg(long, default_value_t = 8.0)]
    pub feather: f32,
    /// Frames: 4k+1.
    #[arg(long, default_value_t = 81)]
    pub frames: usize,
    #[arg(long, default_value_t = 16)]
    pub fps: u32,
    #[arg(long, short, required_unless_present = "preview_mask")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

fn parse_click(text: &str) -> std::result::Result<(usize, usize), String> {
    text.split_once(',')
        .and_then(|(x, y)| Some((x.trim().parse().ok()?, y.trim().parse().ok()?)))
        .ok_or_else(|| "give the point as X,Y in pixels, for example 320,180".into())
}

fn name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().to_string())
}

/// The upright size of `clip`'s pictures (probing is quick; rotation is applied).
fn shape(clip: &Path) -> Result<(usize, usize)> {
    let image = reel_generate::frames::first_frame(clip)?;
    Ok((image.width, image.height))
}

/// Credentials for a clip with generated frames in it: the operation, the prompt, the model
/// and every setting.
fn provenance(
    engine: &Engine,
    size: (usize, usize),
    operation: serde_json::Value,
    inputs: &[&Path],
    out: &OutputArgs,
) -> Result<Provenance> {
    let mut parameters = engine.parameters(size);
    if let serde_json::Value::Object(more) = operation {
        parameters.extend(more);
    }
    Ok(Provenance::new(
        &out.sign.signing(),
        "c2pa.edited",
        SourceType::CompositeWithTrainedAlgorithmicMedia,
        serde_json::Value::Object(parameters),
        inputs,
        None,
    )?)
}

/// Runs a generating job into `path`: marked, signed, its progress shown.
fn run_job<T>(
    path: &Path,
    args: &OutputArgs,
    provenance: &Provenance,
    bars: &mut Bars,
    quiet: bool,
    job: impl FnOnce(
        &Output,
        &mut dyn FnMut(&mut reel_image::Image, f64),
        &mut dyn FnMut(reel_generate::Event) -> bool,
    ) -> std::result::Result<T, reel_generate::GenerateError>,
) -> Result<T> {
    let output = Output {
        path: path.to_path_buf(),
        codec: args.codec_for(path)?,
        crf: args.crf,
        seal: provenance.seal(),
    };
    if output.codec == reel_video::Codec::Image {
        return Err(Failure::usage(format!(
            "{}: this makes a video; give a video file (.mp4, .mov) or a folder for PNG frames",
            path.display()
        )));
    }
    // A destination that cannot take the result is refused before anything is generated.
    if output.codec == reel_video::Codec::PngSequence {
        reel_core::output::check_sequence_folder(path)?;
    } else {
        reel_core::output::destination(path)?;
    }
    let mut marker = provenance.marker();
    let report = job(
        &output,
        &mut |image, seconds| marker.mark(image, seconds),
        &mut |event| bars.on(event),
    );
    bars.clear();
    let report = report?;
    provenance.report(quiet);
    Ok(report)
}

fn print_join(path: &Path, join: &JoinReport, made: String) {
    for clip in &join.clips {
        for note in &clip.notes {
            eprintln!("note: {}: {note}", clip.path.display());
        }
    }
    eprintln!(
        "{}: {} frames ({:.3} s) at {}x{}, {} fps, {made}{}",
        path.display(),
        join.frames,
        join.seconds(),
        join.width,
        join.height,
        reel_clips::rate_text(join.rate),
        if join.audio {
            ", with sound"
        } else {
            ", no sound"
        },
    );
}

pub fn restyle(args: &RestyleArgs, quiet: bool) -> Result {
    reel_core::output::check_distinct(&[&args.clip], &[&args.output])?;
    if args.window == 0 || args.window % 4 != 1 {
        return Err(Failure::usage(format!(
            "--window {}: the model makes 4k+1 frames (for example 33 or 81)",
            args.window
        )));
    }
    if args.overlap > args.window / 2 {
        return Err(Failure::usage(format!(
            "--overlap {} is more than half of --window {}",
            args.overlap, args.window
        )));
    }
    let shape = shape(&args.clip)?;
    let engine = args.engine.open()?;
    let size = size(&engine, Some(shape), quiet);
    let base = engine.request(&args.prompt, size);
    let provenance = provenance(
        &engine,
        size,
        json!({
            "operation": "restyle",
            "task": "video to video",
            "prompt": args.prompt,
            "strength": args.strength,
            "window": args.window,
            "overlap": args.overlap,
        }),
        &[&args.clip],
        &args.out,
    )?;
    if !quiet {
        eprintln!("seed {}", engine.seed);
    }
    let settings = RestyleSettings {
        strength: args.strength,
        window: args.window,
        overlap: args.overlap,
    };
    let mut bars = Bars::new(engine.settings.steps, false, quiet);
    let report = run_job(
        &args.output,
        &args.out,
        &provenance,
        &mut bars,
        quiet,
        |output, mark, progress| {
            reel_generate::restyle(
                &engine.pipeline,
                &base,
                &args.clip,
                &settings,
                output,
                mark,
                progress,
            )
        },
    )?;
    if !quiet {
        eprintln!(
            "{}: {} frames at {}x{} restyled in {} window{} of up to {} by {}{}",
            args.output.display(),
            report.frames,
            report.width,
            report.height,
            report.windows,
            if report.windows == 1 { "" } else { "s" },
            args.window,
            engine.name.as_deref().unwrap_or("the model"),
            if report.audio { ", with sound" } else { "" },
        );
    }
    Ok(())
}

pub fn extend(args: &ExtendArgs, quiet: bool) -> Result {
    reel_core::output::check_distinct(&[&args.clip], &[&args.output])?;
    let shape = shape(&args.clip)?;
    let engine = args.engine.open()?;
    let size = size(&engine, Some(shape), quiet);
    let base = engine.request(&args.prompt, size);
    let direction = if args.backward {
        Direction::Backward
    } else {
        Direction::Forward
    };
    let provenance = provenance(
        &engine,
        size,
        json!({
            "operation": "extend",
            "task": if args.backward { "video extended backward" } else { "video extended forward" },
            "prompt": args.prompt,
            "seconds": args.seconds,
            "clip": name(&args.clip),
        }),
        &[&args.clip],
        &args.out,
    )?;
    if !quiet {
        eprintln!("seed {}", engine.seed);
    }
    let settings = ExtendSettings {
        seconds: args.seconds,
        direction,
        pass_frames: args.pass_frames,
    };
    let mut bars = Bars::new(engine.settings.steps, true, quiet);
    let report = run_job(
        &args.output,
        &args.out,
        &provenance,
        &mut bars,
        quiet,
        |output, mark, progress| {
            reel_generate::extend(
                &engine.pipeline,
                &base,
                &args.clip,
                &settings,
                output,
                mark,
                progress,
            )
        },
    )?;
    if !quiet {
        print_join(
            &args.output,
            &report.join,
            format!(
                "{} of them generated {} the clip in {} pass{}",
                report.generated,
                if args.backward { "before" } else { "after" },
                report.passes,
                if report.passes == 1 { "" } else { "es" },
            ),
        );
    }
    Ok(())
}

pub fn bridge(args: &BridgeArgs, quiet: bool) -> Result {
    reel_core::output::check_distinct(&[&args.from, &args.to], &[&args.output])?;
    let shape = shape(&args.from)?;
    let engine = args.engine.open()?;
    let size = size(&engine, Some(shape), quiet);
    let base = engine.request(&args.prompt, size);
    let provenance = provenance(
        &engine,
        size,
        json!({
            "operation": "bridge",
            "task": "first and last frame to video",
            "prompt": args.prompt,
            "seconds": args.seconds,
            "fit": match args.fit { Fit::Pad => "pad", Fit::Crop => "crop" },
        }),
        &[&args.from, &args.to],
        &args.out,
    )?;
    if !quiet {
        eprintln!("seed {}", engine.seed);
    }
    let settings = BridgeSettings {
        seconds: args.seconds,
        fit: args.fit,
        max_frames: args.max_frames,
    };
    let mut bars = Bars::new(engine.settings.steps, true, quiet);
    let report = run_job(
        &args.output,
        &args.out,
        &provenance,
        &mut bars,
        quiet,
        |output, mark, progress| {
            reel_generate::bridge(
                &engine.pipeline,
                &base,
                [&args.from, &args.to],
                &settings,
                output,
                mark,
                progress,
            )
        },
    )?;
    if !quiet {
        print_join(
            &args.output,
            &report.join,
            format!("{} of them a generated passage", report.generated),
        );
    }
    Ok(())
}

pub fn animate(args: &AnimateArgs, quiet: bool) -> Result {
    let mut outputs: Vec<&Path> = args.output.iter().map(PathBuf::as_path).collect();
    outputs.extend(args.preview_mask.as_deref());
    let mut inputs: Vec<&Path> = vec![&args.still];
    inputs.extend(args.mask.as_deref());
    reel_core::output::check_distinct(&inputs, &outputs)?;
    if args.frames == 0 || args.frames % 4 != 1 {
        return Err(Failure::usage(format!(
            "--frames {}: the model makes 4k+1 frames (for example 33 or 81)",
            args.frames
        )));
    }
    let still = reel_generate::frames::first_frame(&args.still)?;
    let mut selected: Vec<&str> = Vec::new();
    let mask = match &args.mask {
        Some(path) => reel_generate::region::from_image(
            &reel_generate::frames::first_frame(path)?,
            still.width,
            still.height,
        )?,
        None => {
            let (mask, found) =
                reel_generate::region::select(&still, &args.click, args.tolerance, args.by_colour)?;
            selected = found.iter().map(|f| f.name()).collect();
            mask
        }
    };
    if !quiet {
        let how = if selected.is_empty() {
            String::new()
        } else {
            format!(" (from the clicks: {})", selected.join(", "))
        };
        eprintln!(
            "the region moving: {:.1} % of the picture{how}",
            100.0 * mask.coverage()
        );
    }
    if let Some(path) = &args.preview_mask {
        let preview = reel_generate::region::preview(&still, &mask);
        let png = reel_image::png::encode(preview.width, preview.height, 3, &preview.data);
        reel_core::output::write_atomic(path, &png)?;
        if !quiet {
            eprintln!("{}: the region, drawn on the still", path.display());
        }
    }
    let Some(output) = &args.output else {
        return Ok(());
    };
    let engine = args.engine.open()?;
    let size = size(&engine, Some((still.width, still.height)), quiet);
    let base = engine.request(&args.prompt, size);
    let provenance = provenance(
        &engine,
        size,
        json!({
            "operation": "animate",
            "task": "a region of an image to video",
            "prompt": args.prompt,
            "frames": args.frames,
            "fps": args.fps,
            "clicks": args.click.iter().map(|(x, y)| format!("{x},{y}")).collect::<Vec<_>>(),
            "mask": args.mask.as_deref().and_then(name),
            "selected": selected,
            "tolerance": args.tolerance,
            "feather": args.feather,
            "coverage": mask.coverage(),
        }),
        &inputs,
        &args.out,
    )?;
    if !quiet {
        eprintln!("seed {}", engine.seed);
    }
    let settings = AnimateSettings {
        frames: args.frames,
        fps: args.fps,
        feather: args.feather,
    };
    let mut bars = Bars::new(engine.settings.steps, true, quiet);
    let report = run_job(
        output,
        &args.out,
        &provenance,
        &mut bars,
        quiet,
        |out, mark, progress| {
            reel_generate::animate(
                &engine.pipeline,
                &base,
                (&still, &mask),
                &settings,
                out,
                mark,
                progress,
            )
        },
    )?;
    if !quiet {
        eprintln!(
            "{}: {} frames at {}x{}, {} fps, {:.1} % of the picture moving, by {}",
            output.display(),
            report.frames,
            report.width,
            report.height,
            args.fps,
            100.0 * report.coverage,
            engine.name.as_deref().unwrap_or("the model"),
        );
    }
    Ok(())
}
