//! `reel faces analyze`.

use std::path::{Path, PathBuf};

use clap::Args;
use reel_face::{AnalyzerSettings, OneEuro, Range, Region, Search, TrackerSettings};
use reel_process::analyze::{AnalyzeJob, PreviewMask};
use reel_video::Codec;

use crate::failure::{Failure, Result};
use crate::provenance::Report as _;
use crate::{OutputArgs, progress};

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// A video, an image sequence pattern (frames/%04d.png) or a still image.
    pub input: PathBuf,
    /// Write every face of every frame as JSON to this file (`-` for standard output).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a copy of the video with the faces drawn over it (audio kept).
    #[arg(long)]
    pub preview: Option<PathBuf>,
    /// Follow at most this many faces at once.
    #[arg(long, default_value_t = 8)]
    pub max_faces: usize,
    /// Only the short-range detector (faces within about 2 m, MediaPipe's default). By default
    /// reel adds the full-range detector and a tiled search where it finds nothing.
    #[arg(long, conflicts_with = "full_range")]
    pub short_range: bool,
    /// Only the full-range detector (faces up to about 5 m away).
    #[arg(long)]
    pub full_range: bool,
    /// Search overlapping parts of every frame too, with the short-range detector (or the
    /// full-range one with --full-range), for small faces and crowds (slower).
    #[arg(long)]
    pub small_faces: bool,
    /// Do not recognise who faces are (ids then come back after an occlusion only where the
    /// face was lost).
    #[arg(long)]
    pub no_identity: bool,
    /// Run the detector on every frame instead of tracking.
    #[arg(long = "static")]
    pub detect_every_frame: bool,
    /// Tint a mask in the preview: face, skin, eyes, mouth or person.
    #[arg(long, value_parser = ["face", "skin", "eyes", "mouth", "person"])]
    pub preview_mask: Option<String>,
    /// Smooth landmarks over time (One Euro filter) so that edits built on them don't jitter.
    #[arg(long)]
    pub smooth: bool,
    /// Minimum detector score for a new face, 0..1.
    #[arg(long, default_value_t = 0.5)]
    pub min_score: f32,
    /// Threads per model.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn check(args: &AnalyzeArgs) -> Result {
    if args.max_faces == 0 || args.max_faces > 100 {
        return Err(Failure::usage(format!(
            "--max-faces must be between 1 and 100, not {}",
            args.max_faces
        )));
    }
    if !(0.0..=1.0).contains(&args.min_score) {
        return Err(Failure::usage(format!(
            "--min-score must be between 0 and 1, not {}",
            args.min_score
        )));
    }
    if args.threads == 0 || args.threads > 64 {
        return Err(Failure::usage("--threads must be between 1 and 64"));
    }
    if let Some(c) = &args.output.codec
        && Codec::parse(c).is_none()
    {
        return Err(Failure::usage(format!(
            "unknown codec {c}; use h264, h265, prores or png"
        )));
    }
    let outputs: Vec<&Path> = [&args.json, &args.preview]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    reel_core::output::check_distinct(&[&args.input], &outputs)?;
    Ok(())
}

/// The detector's search the flags ask for.
fn search(args: &AnalyzeArgs) -> Search {
    let range = if args.full_range {
        Range::Full
    } else {
        Range::Short
    };
    match (args.small_faces, args.short_range || args.full_range) {
        (true, _) => Search::Tiled(range),
        (false, true) => Search::Only(range),
        (false, false) => Search::Auto,
    }
}

pub fn analyze(args: &AnalyzeArgs, quiet: bool) -> Result {
    check(args)?;
    let settings = AnalyzerSettings {
        tracker: TrackerSettings {
            max_faces: args.max_faces,
            detect_every_frame: args.detect_every_frame,
            reidentify: !args.no_identity,
            ..TrackerSettings::default()
        },
        search: search(args),
        min_detection_score: args.min_score,
        smoothing: args.smooth.then(OneEuro::default),
        threads: args.threads,
        ..AnalyzerSettings::default()
    };
    let codec = match (&args.output.codec, &args.preview) {
        (Some(c), _) => Codec::parse(c).expect("checked"),
        (None, Some(p)) => Codec::for_path(p)?,
        (None, None) => Codec::H264,
    };
    let preview_mask = match args.preview_mask.as_deref() {
        Some("face") => Some(PreviewMask::Region(Region::Face)),
        Some("skin") => Some(PreviewMask::Region(Region::Skin)),
        Some("eyes") => Some(PreviewMask::Region(Region::Eyes)),
        Some("mouth") => Some(PreviewMask::Region(Region::Mouth)),
        Some("person") => Some(PreviewMask::Person),
        _ => None,
    };
    // The preview is a video of reel's making: signed and marked like every other.
    let provenance = args
        .preview
        .as_ref()
        .map(|_| {
            crate::provenance::Provenance::new(
                &args.output.sign.signing(),
                "c2pa.edited",
                reel_credentials::SourceType::CompositeWithTrainedAlgorithmicMedia,
                serde_json::json!({ "processors": [{
                "name": "analysis preview",
                "settings": { "mask": args.preview_mask },
            }] }),
                &[&args.input],
                None,
            )
        })
        .transpose()?;
    let job = AnalyzeJob {
        input: &args.input,
        json: args.json.as_deref(),
        preview: args.preview.as_deref(),
        codec,
        crf: args.output.crf,
        settings,
        preview_mask,
        seal: provenance.as_ref().and_then(|p| p.seal()),
        marker: provenance.as_ref().map(|p| p.marker()),
    };
    let bar = progress::frames(None, "analyze", quiet);
    let summary =
        reel_process::analyze::run(job, |done, total| progress::advance(&bar, done, total));
    bar.finish_and_clear();
    let summary = summary?;
    if let Some(provenance) = &provenance {
        provenance.report(quiet);
    }
    if !quiet {
        eprintln!(
            "{}: {} frames, faces in {}, {} distinct face{}, at most {} at once",
            args.input.display(),
            summary.frames,
            summary.frames_with_faces,
            summary.tracks.len(),
            if summary.tracks.len() == 1 { "" } else { "s" },
            summary.most_faces_in_a_frame
        );
        if summary.tracks.is_empty() {
            eprintln!(
                "no faces found{}",
                match search(args) {
                    Search::Auto => " (searched with both detectors, whole and in tiles)",
                    Search::Only(_) => " (for small or distant faces try --small-faces)",
                    Search::Tiled(_) => "",
                }
            );
        }
        if let Some(p) = &args.preview {
            eprintln!("preview: {}", p.display());
        }
        if let Some(p) = args.json.as_ref().filter(|p| p.as_path() != Path::new("-")) {
            eprintln!("faces:   {}", p.display());
        }
    }
    Ok(())
}
