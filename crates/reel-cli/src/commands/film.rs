//! `reel film`: the AI-directed film. `check` reads a story file and reports every problem in
//! it, with its line and column, or the story's shape when it is sound. `render` plays a
//! recorded performance through the story into a film with the performance as its soundtrack
//! and a log of each decision beside it; `live` plays it as the pianist plays.

use std::path::PathBuf;

use clap::Args;
use reel_film::Story;
use reel_film::live::LiveJob;
use reel_film::render::{RenderJob, default_log};
use reel_film::timeline::{DecisionLog, decision_line};

use crate::failure::Result;
use crate::provenance::Report as _;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The story file (TOML).
    pub story: PathBuf,
}

pub fn check(args: &CheckArgs, quiet: bool) -> Result {
    let story = Story::load(&args.story)?;
    reel_film::compose::check_pictures(&story)?;
    if quiet {
        return Ok(());
    }
    println!(
        "{}: {} ({} nodes), starts at \"{}\"",
        args.story.display(),
        story.title.as_deref().unwrap_or("untitled"),
        story.order.len(),
        story.start
    );
    let folder = args.story.parent().unwrap_or(std::path::Path::new(""));
    for line in reel_film::story::outline(&story, folder) {
        println!("  {line}");
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The story file (TOML).
    pub story: PathBuf,
    /// The performance: a recording (audio or video) or a MIDI file (played on the SoundFont
    /// piano for the soundtrack).
    #[arg(long)]
    pub audio: PathBuf,
    /// The film to write.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Where to write the decision log (JSON); by default beside the film, as
    /// NAME.decisions.json.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Frame size WIDTHxHEIGHT; by default the size of the story's first picture.
    #[arg(long)]
    pub size: Option<String>,
    /// H.264/H.265 quality (constant rate factor, 0 to 51; lower is better).
    #[arg(long, default_value_t = 18, value_parser = clap::value_parser!(u8).range(0..=51))]
    pub crf: u8,
    /// A recogniser other than the one `reel style train` made.
    #[arg(long)]
    pub recogniser: Option<PathBuf>,
    #[command(flatten)]
    pub sign: crate::provenance::SignArgs,
}

pub fn render(args: &RenderArgs, quiet: bool) -> Result {
    let log = args
        .log
        .clone()
        .unwrap_or_else(|| default_log(&args.output));
    // The story's own pictures are inputs too.
    let story = Story::load(&args.story)?;
    let inputs = reel_jobs::film::inputs(&args.story, &story, Some(&args.audio));
    reel_core::output::check_distinct(&inputs, &[&args.output, &log])?;
    let provenance =
        reel_jobs::film::provenance(&args.sign.signing(), &args.story, &story, Some(&args.audio))?;
    let job = RenderJob {
        story: &args.story,
        performance: &args.audio,
        output: &args.output,
        log: Some(&log),
        size: args.size.as_deref(),
        crf: args.crf,
        recogniser: args.recogniser.as_deref(),
        seal: provenance.seal(),
        watermark: Some(provenance.payload),
        label: provenance.label,
    };
    let bar = crate::progress::frames(None, "film", quiet);
    let rendered = reel_film::render::render(&job, |done, total| {
        crate::progress::advance(&bar, done, Some(total))
    });
    bar.finish_and_clear();
    let rendered = rendered?;
    provenance.report(quiet);
    if !quiet {
        let timeline = &rendered.timeline;
        print_decisions(&timeline.decisions);
        let path: Vec<&str> = timeline.shots.iter().map(|s| s.node.as_str()).collect();
        eprintln!(
            "{}: {} frames ({:.2} s at {} fps, {}x{}), {}; log {}",
            args.output.display(),
            timeline.frames,
            timeline.frames as f64 / timeline.fps as f64,
            timeline.fps,
            rendered.size.0,
            rendered.size.1,
            path.join(" -> "),
            rendered.log.display()
        );
    }
    Ok(())
}

/// The decisions, a line each, on stderr.
fn print_decisions(decisions: &[DecisionLog]) {
    for d in decisions {
        eprintln!("{}", decision_line(d));
    }
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// The story file (TOML).
    pub story: PathBuf,
    /// Listen to this recording as if it were being played now (in real time), instead of the
    /// microphone.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// The microphone, as ffmpeg names it: pulse:default, alsa:default, alsa:hw:1,0 ...
    /// (default: PulseAudio's default source, else ALSA's).
    #[arg(long)]
    pub device: Option<String>,
    /// A MIDI keyboard: an ALSA raw MIDI device such as /dev/snd/midiC1D0. Without --input or
    /// --device, the first one connected is used.
    #[arg(long)]
    pub midi: Option<PathBuf>,
    /// The local port of the web page (0: any free one).
    #[arg(long, default_value_t = 8017)]
    pub port: u16,
    /// Also record the film here (with --input, with its sound).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write the decision log here when the film ends.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Frame size WIDTHxHEIGHT; by default the size of the story's first picture.
    #[arg(long)]
    pub size: Option<String>,
    /// A recogniser other than the one `reel style train` made.
    #[arg(long)]
    pub recogniser: Option<PathBuf>,
    #[command(flatten)]
    pub sign: crate::provenance::SignArgs,
}

pub fn live(args: &LiveArgs, quiet: bool) -> Result {
    let inputs: Vec<&std::path::Path> = [Some(&args.story), args.input.as_ref()]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    let outputs: Vec<&std::path::Path> = [args.record.as_ref(), args.log.as_ref()]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    reel_core::output::check_distinct(&inputs, &outputs)?;
    // A recording is labelled as the render is: its pictures and what was heard are its
    // ingredients.
    let provenance = match &args.record {
        Some(_) => Some(reel_jobs::film::provenance(
            &args.sign.signing(),
            &args.story,
            &Story::load(&args.story)?,
            args.input.as_deref(),
        )?),
        None => None,
    };
    let job = LiveJob {
        story: &args.story,
        input: args.input.as_deref(),
        device: args.device.as_deref(),
        midi: args.midi.as_deref(),
        port: args.port,
        record: args.record.as_deref(),
        log: args.log.as_deref(),
        size: args.size.as_deref(),
        recogniser: args.recogniser.as_deref(),
        seal: provenance.as_ref().and_then(|p| p.seal()),
        watermark: provenance.as_ref().map(|p| p.payload),
        label: provenance.as_ref().and_then(|p| p.label),
    };
    let report = reel_film::live::live(
        &job,
        |source, address| {
            if !quiet {
                eprintln!("listening to {source}; the film is at http://{address}/");
            }
        },
        |_, _| true,
    )?;
    if let Some(p) = &provenance {
        p.report(quiet);
    }
    if !quiet {
        print_decisions(&report.decisions);
        eprintln!(
            "the film {} after {} frames",
            if report.interrupted {
                "was stopped"
            } else {
                "ended"
            },
            report.frames
        );
    }
    Ok(())
}
