//! `reel faces analyze`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use reel_face::{
    AnalyzerSettings, FaceAnalyzer, OneEuro, PersonSegmenter, Range, Region, TrackerSettings,
};
use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame};
use serde::Serialize;

use crate::failure::UsageError;
use crate::{OutputArgs, preview, progress};

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
    /// Use the full-range detector (faces up to about 5 m away, slower).
    #[arg(long)]
    pub full_range: bool,
    /// Also search overlapping parts of each frame, for small faces and crowds (slower).
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

#[derive(Serialize)]
struct FrameRecord<'a> {
    index: u64,
    time: Option<f64>,
    faces: &'a [reel_face::Face],
}

#[derive(Default, Serialize)]
struct TrackSummary {
    first_frame: u64,
    last_frame: u64,
    frames: u64,
}

#[derive(Serialize)]
struct Summary {
    frames: u64,
    frames_with_faces: u64,
    most_faces_in_a_frame: usize,
    detector_runs: u64,
    tracks: BTreeMap<u32, TrackSummary>,
}

/// JSON written as frames arrive, into a temporary file renamed into place at the end.
struct JsonSink {
    out: Box<dyn Write>,
    temp: Option<(PathBuf, PathBuf)>,
    first: bool,
}

impl JsonSink {
    fn create(path: &Path) -> Result<JsonSink> {
        if path == Path::new("-") {
            return Ok(JsonSink {
                out: Box::new(BufWriter::new(std::io::stdout())),
                temp: None,
                first: true,
            });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let temp = dir.join(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
        Ok(JsonSink {
            out: Box::new(BufWriter::new(file)),
            temp: Some((temp, path.to_path_buf())),
            first: true,
        })
    }

    fn frame(&mut self, record: &FrameRecord) -> Result<()> {
        let sep = if self.first { "" } else { ",\n" };
        self.first = false;
        write!(self.out, "{sep}")?;
        serde_json::to_writer(&mut self.out, record)?;
        Ok(())
    }

    fn finish(mut self, summary: &Summary) -> Result<()> {
        write!(self.out, "\n],\n\"summary\": ")?;
        serde_json::to_writer_pretty(&mut self.out, summary)?;
        writeln!(self.out, "\n}}")?;
        self.out.flush()?;
        if let Some((temp, path)) = self.temp.take() {
            std::fs::rename(&temp, &path)
                .with_context(|| format!("moving JSON to {}", path.display()))?;
        }
        Ok(())
    }
}

impl Drop for JsonSink {
    fn drop(&mut self) {
        if let Some((temp, _)) = &self.temp {
            let _ = std::fs::remove_file(temp);
        }
    }
}

fn check(args: &AnalyzeArgs) -> Result<()> {
    if args.max_faces == 0 || args.max_faces > 100 {
        bail!(UsageError(format!(
            "--max-faces must be between 1 and 100, not {}",
            args.max_faces
        )));
    }
    if !(0.0..=1.0).contains(&args.min_score) {
        bail!(UsageError(format!(
            "--min-score must be between 0 and 1, not {}",
            args.min_score
        )));
    }
    if args.threads == 0 || args.threads > 64 {
        bail!(UsageError("--threads must be between 1 and 64".into()));
    }
    if let Some(c) = &args.output.codec
        && Codec::parse(c).is_none()
    {
        bail!(UsageError(format!(
            "unknown codec {c}; use h264, h265, prores or png"
        )));
    }
    for out in [&args.json, &args.preview].into_iter().flatten() {
        if out.as_path() != Path::new("-") && same_file(out, &args.input) {
            bail!(UsageError(format!(
                "{} is the input; choose another output",
                out.display()
            )));
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

pub fn analyze(args: &AnalyzeArgs, quiet: bool) -> Result<()> {
    check(args)?;
    let mut decoder = Decoder::open(&args.input)?;
    let info = decoder.info().clone();
    let settings = AnalyzerSettings {
        tracker: TrackerSettings {
            max_faces: args.max_faces,
            detect_every_frame: args.detect_every_frame || info.is_still,
            small_faces: args.small_faces,
            reidentify: !args.no_identity,
            ..TrackerSettings::default()
        },
        range: if args.full_range {
            Range::Full
        } else {
            Range::Short
        },
        min_detection_score: args.min_score,
        smoothing: args.smooth.then(OneEuro::default),
        threads: args.threads,
        ..AnalyzerSettings::default()
    };
    let mut analyzer = FaceAnalyzer::new(settings)?;
    let mut json = match &args.json {
        Some(path) => {
            let mut sink = JsonSink::create(path)?;
            let head = serde_json::json!({
                "input": args.input,
                "width": info.width,
                "height": info.height,
                "frame_rate": info.frame_rate.0 as f64 / info.frame_rate.1 as f64,
            });
            let head = head.to_string();
            write!(sink.out, "{},\n\"frames\": [\n", &head[..head.len() - 1])?;
            Some(sink)
        }
        None => None,
    };
    let codec = match &args.output.codec {
        Some(c) => Codec::parse(c).expect("checked"),
        None => args
            .preview
            .as_deref()
            .map(Codec::for_path)
            .unwrap_or(Codec::H264),
    };
    let mut encoder: Option<Encoder> = None;
    let region = match args.preview_mask.as_deref() {
        Some("face") => Some(Region::Face),
        Some("skin") => Some(Region::Skin),
        Some("eyes") => Some(Region::Eyes),
        Some("mouth") => Some(Region::Mouth),
        _ => None,
    };
    let mut segmenter = match args.preview_mask.as_deref() {
        Some("person") => Some(PersonSegmenter::new(args.threads)?),
        _ => None,
    };
    let mut person = Vec::new();
    let bar = progress::frames(
        info.declared_frames.filter(|_| !info.is_still),
        "analyze",
        quiet,
    );
    let mut frame = Frame::default();
    let mut summary = Summary {
        frames: 0,
        frames_with_faces: 0,
        most_faces_in_a_frame: 0,
        detector_runs: 0,
        tracks: BTreeMap::new(),
    };
    while decoder.next_frame(&mut frame)? {
        crate::interrupt::check()?;
        let time = frame.time.map(|t| t.seconds());
        let faces = analyzer
            .analyze(&frame.image, time.unwrap_or(frame.index as f64 / 25.0))
            .context("analysing faces")?;
        summary.frames += 1;
        summary.frames_with_faces += u64::from(!faces.is_empty());
        summary.most_faces_in_a_frame = summary.most_faces_in_a_frame.max(faces.len());
        for f in faces {
            let t = summary.tracks.entry(f.id).or_insert_with(|| TrackSummary {
                first_frame: frame.index,
                ..TrackSummary::default()
            });
            t.last_frame = frame.index;
            t.frames += 1;
        }
        if let Some(sink) = json.as_mut() {
            sink.frame(&FrameRecord {
                index: frame.index,
                time,
                faces,
            })?;
        }
        if let Some(path) = &args.preview {
            if let Some(seg) = segmenter.as_mut() {
                seg.segment(&frame.image, &mut person)?;
            }
            let person_mask = segmenter.is_some().then_some(person.as_slice());
            preview::tint_masks(&mut frame.image, faces, region, person_mask);
            preview::draw_faces(&mut frame.image, faces);
            if encoder.is_none() {
                let mut s = EncoderSettings::like_source(codec, &info);
                s.crf = args.output.crf;
                encoder = Some(Encoder::create(
                    path,
                    frame.image.width,
                    frame.image.height,
                    &s,
                )?);
            }
            encoder
                .as_mut()
                .expect("created above")
                .write(&frame.image, frame.time)?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if summary.frames == 0 {
        bail!(reel_video::VideoError::Unreadable {
            path: args.input.clone(),
            detail: "it holds no frames".into(),
        });
    }
    summary.detector_runs = analyzer.tracker().detector_runs;
    if let Some(enc) = encoder {
        enc.finish()?;
    }
    if let Some(sink) = json {
        sink.finish(&summary)?;
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
                if args.full_range {
                    ""
                } else {
                    " (for small or distant faces try --full-range)"
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
