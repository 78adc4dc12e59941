//! `reel join`, `reel concat`, `reel trim`: clips edited without a model, frame-exact, the
//! sound kept under its frames.

use std::path::{Path, PathBuf};

use clap::Args;
use reel_clips::{ClipError, JoinSettings, Output, Point, Transition};
use reel_credentials::SourceType;
use reel_image::Image;
use reel_video::Fit;
use serde_json::json;

use crate::OutputArgs;
use crate::failure::{Failure, Result};
use crate::progress;
use crate::provenance::Provenance;
use crate::provenance::Report as _;

/// How the output's size and rate are chosen, and clips of another shape fitted.
#[derive(Args, Clone, Debug)]
pub struct ConformArgs {
    /// The output's size, WIDTHxHEIGHT (by default the first clip's).
    #[arg(long)]
    pub size: Option<String>,
    /// The output's frame rate: 25, 29.97 or 30000/1001 (by default the first clip's).
    #[arg(long)]
    pub fps: Option<String>,
    /// A clip of another shape is fitted whole with black bars (pad) or fills the frame,
    /// cropped at its centre (crop).
    #[arg(long, default_value = "pad", value_parser = parse_fit)]
    pub fit: Fit,
}

#[derive(Args)]
pub struct JoinArgs {
    /// The clips, in order (two or more).
    #[arg(required = true, num_args = 2..)]
    pub clips: Vec<PathBuf>,
    #[arg(long, short)]
    pub output: PathBuf,
    /// How each clip gives way to the next: cut, crossfade, wipe, flow (the picture moved
    /// into the next along the optical flow between them), or morph (where both show a face,
    /// the faces morph into each other; the rest dissolves).
    #[arg(long, default_value = "crossfade")]
    pub transition: Transition,
    /// The length of each transition, in seconds (the two clips share that many frames).
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    #[command(flatten)]
    pub conform: ConformArgs,
    #[command(flatten)]
    pub output_args: OutputArgs,
}

#[derive(Args)]
pub struct ConcatArgs {
    /// The clips, in order (two or more).
    #[arg(required = true, num_args = 2..)]
    pub clips: Vec<PathBuf>,
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub conform: ConformArgs,
    #[command(flatten)]
    pub output_args: OutputArgs,
}

#[derive(Args)]
pub struct TrimArgs {
    pub input: PathBuf,
    #[arg(long, short)]
    pub output: PathBuf,
    /// The first frame kept: seconds (12.5), a time (1:02.5) or a frame index (150f); by
    /// default the first.
    #[arg(long)]
    pub from: Option<Point>,
    /// The first frame no longer kept, in the same forms; by default the clip's end.
    #[arg(long, conflicts_with = "length")]
    pub to: Option<Point>,
    /// How long to keep from --from, in seconds (or frames, 50f).
    #[arg(long)]
    pub length: Option<Point>,
    #[command(flatten)]
    pub output_args: OutputArgs,
}

#[derive(Args)]
pub struct RetimeArgs {
    pub input: PathBuf,
    #[arg(long, short)]
    pub output: PathBuf,
    /// The output's frame rate: 50, 59.94, 60000/1001, or a multiple of the clip's own (2x);
    /// by default the clip's own.
    #[arg(long)]
    pub fps: Option<String>,
    /// Playback speed: 0.5 is slow motion at half speed, 2 twice as fast; the sound is
    /// stretched with its pitch kept.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// How frames between the clip's own are made: flow (motion-compensated, from dense
    /// optical flow), blend (mixed, no motion) or nearest (repeated or dropped).
    #[arg(long, default_value = "flow")]
    pub method: reel_clips::Method,
    /// Threads for the flow and the warping.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    #[command(flatten)]
    pub output_args: OutputArgs,
}

pub fn parse_fit(text: &str) -> std::result::Result<Fit, String> {
    match text {
        "pad" => Ok(Fit::Pad),
        "crop" => Ok(Fit::Crop),
        _ => Err("use pad or crop".into()),
    }
}

/// `25`, `29.97` (read as 30000/1001, as 23.976 and 59.94 are), `30000/1001`.
pub fn parse_rate(text: &str) -> Result<(i64, i64)> {
    reel_clips::settings::rate(text).map_err(|e| Failure::usage(format!("--fps {text}: {e}")))
}

fn parse_size(size: &str) -> Result<(usize, usize)> {
    reel_clips::settings::size(size).map_err(|e| Failure::usage(format!("--size {size}: {e}")))
}

/// Runs a clip job into `path`: every frame marked with the job's watermark, a progress bar
/// named `what`, the credentials' notices reported.
fn run_marked<T>(
    path: &Path,
    args: &OutputArgs,
    provenance: &Provenance,
    what: &str,
    quiet: bool,
    job: impl FnOnce(
        &Output,
        &mut dyn FnMut(&mut Image, f64),
        &mut dyn FnMut(u64, Option<u64>) -> bool,
    ) -> std::result::Result<T, ClipError>,
) -> Result<T> {
    let output = Output {
        path: path.to_path_buf(),
        codec: args.codec_for(path)?,
        crf: args.crf,
        seal: provenance.seal(),
    };
    let mut marker = provenance.marker();
    let bar = progress::frames(None, what, quiet);
    let report = job(
        &output,
        &mut |image, seconds| marker.mark(image, seconds),
        &mut |done, total| progress::advance(&bar, done, total),
    );
    bar.finish_and_clear();
    let report = report?;
    provenance.report(quiet);
    Ok(report)
}

pub fn join(args: &JoinArgs, quiet: bool) -> Result {
    join_clips(
        &args.clips,
        &args.output,
        args.transition,
        args.seconds,
        &args.conform,
        &args.output_args,
        quiet,
    )
}

pub fn concat(args: &ConcatArgs, quiet: bool) -> Result {
    join_clips(
        &args.clips,
        &args.output,
        Transition::Cut,
        0.0,
        &args.conform,
        &args.output_args,
        quiet,
    )
}

fn join_clips(
    clips: &[PathBuf],
    out: &Path,
    transition: Transition,
    seconds: f64,
    conform: &ConformArgs,
    output_args: &OutputArgs,
    quiet: bool,
) -> Result {
    let inputs: Vec<&Path> = clips.iter().map(PathBuf::as_path).collect();
    reel_core::output::check_distinct(&inputs, &[out])?;
    let settings = JoinSettings {
        transition,
        seconds,
        size: conform.size.as_deref().map(parse_size).transpose()?,
        rate: conform.fps.as_deref().map(parse_rate).transpose()?,
        fit: conform.fit,
    };
    let provenance = Provenance::new(
        &output_args.sign.signing(),
        "c2pa.edited",
        // A flow or morph transition's frames are made from the motion between the clips.
        match transition {
            Transition::Flow | Transition::Morph => SourceType::AlgorithmicMedia,
            _ => SourceType::Composite,
        },
        json!({
            "operation": "join",
            "transition": transition.name(),
            "seconds": if transition == Transition::Cut { 0.0 } else { seconds },
            "fit": match conform.fit { Fit::Pad => "pad", Fit::Crop => "crop" },
        }),
        &inputs,
        None,
    )?;
    let report = run_marked(
        out,
        output_args,
        &provenance,
        "join",
        quiet,
        |output, mark, progress| reel_clips::join(clips, &settings, output, mark, progress),
    )?;
    if !quiet {
        for clip in &report.clips {
            for note in &clip.notes {
                eprintln!("note: {}: {note}", clip.path.display());
            }
        }
        let shared = match report.transition_frames {
            0 => String::new(),
            n => format!(", {} of {n} frames each", transition.name()),
        };
        eprintln!(
            "{}: {} frames ({:.3} s) at {}x{}, {} fps, from {} clips{shared}{}",
            out.display(),
            report.frames,
            report.seconds(),
            report.width,
            report.height,
            reel_clips::rate_text(report.rate),
            report.clips.len(),
            if report.audio {
                ", with sound"
            } else {
                ", no sound"
            },
        );
    }
    Ok(())
}

pub fn trim(args: &TrimArgs, quiet: bool) -> Result {
    reel_core::output::check_distinct(&[&args.input], &[&args.output])?;
    let to = match (args.length, args.from) {
        (None, _) => args.to,
        (Some(Point::Seconds(l)), None) => Some(Point::Seconds(l)),
        (Some(Point::Seconds(l)), Some(Point::Seconds(f))) => Some(Point::Seconds(f + l)),
        (Some(Point::Frame(l)), None) => Some(Point::Frame(l)),
        (Some(Point::Frame(l)), Some(Point::Frame(f))) => Some(Point::Frame(f.saturating_add(l))),
        _ => {
            return Err(Failure::usage(
                "give --from and --length in the same unit (both seconds, or both frames)",
            ));
        }
    };
    let empty = match (args.from, to) {
        (Some(Point::Seconds(f)), Some(Point::Seconds(t))) => t <= f,
        (Some(Point::Frame(f)), Some(Point::Frame(t))) => t <= f,
        (None, Some(Point::Seconds(t))) => t <= 0.0,
        (None, Some(Point::Frame(t))) => t == 0,
        _ => false,
    };
    if empty {
        return Err(Failure::usage(
            "the range is empty: --to must come after --from",
        ));
    }
    let provenance = Provenance::new(
        &args.output_args.sign.signing(),
        "c2pa.edited",
        SourceType::Composite,
        json!({
            "operation": "trim",
            "from": args.from.map(|p| p.to_string()),
            "to": to.map(|p| p.to_string()),
        }),
        &[&args.input],
        None,
    )?;
    let report = run_marked(
        &args.output,
        &args.output_args,
        &provenance,
        "trim",
        quiet,
        |output, mark, progress| {
            reel_clips::trim(&args.input, args.from, to, output, mark, progress)
        },
    )?;
    if !quiet {
        eprintln!(
            "{}: frames {}..{} ({} frames, {:.3} s from {:.3} s){}",
            args.output.display(),
            report.first,
            report.first + report.frames,
            report.frames,
            report.seconds,
            report.start,
            if report.audio { ", with sound" } else { "" },
        );
    }
    Ok(())
}

pub fn retime(args: &RetimeArgs, quiet: bool) -> Result {
    reel_core::output::check_distinct(&[&args.input], &[&args.output])?;
    let rate = match args.fps.as_deref() {
        Some(multiple) if multiple.ends_with('x') => {
            let own = reel_video::probe(&args.input)?.rate();
            Some(
                reel_clips::settings::rate_or_multiple(multiple, own)
                    .map_err(|e| Failure::usage(format!("--fps {multiple}: {e}")))?,
            )
        }
        other => other.map(parse_rate).transpose()?,
    };
    let settings = reel_clips::RetimeSettings {
        rate,
        speed: args.speed,
        method: args.method,
        threads: args.threads.max(1),
        ..reel_clips::RetimeSettings::default()
    };
    let method = args.method.name();
    // Frames made by an algorithm from the motion between real ones.
    let source_type = match args.method {
        reel_clips::Method::Nearest => SourceType::Composite,
        _ => SourceType::AlgorithmicMedia,
    };
    let provenance = Provenance::new(
        &args.output_args.sign.signing(),
        "c2pa.edited",
        source_type,
        json!({
            "operation": "retime",
            "fps": args.fps,
            "speed": args.speed,
            "method": method,
        }),
        &[&args.input],
        None,
    )?;
    let report = run_marked(
        &args.output,
        &args.output_args,
        &provenance,
        "retime",
        quiet,
        |output, mark, progress| reel_clips::retime(&args.input, &settings, output, mark, progress),
    )?;
    if !quiet {
        eprintln!(
            "{}: {} frames ({:.3} s) at {} fps from {} source frames, {} made by {method}{}",
            args.output.display(),
            report.frames,
            report.seconds,
            reel_clips::rate_text(report.rate),
            report.source_frames,
            report.made,
            if report.audio { ", with sound" } else { "" },
        );
    }
    Ok(())
}
