//! `reel bench faces`: median timings of each stage, beside MediaPipe's own on the same frames.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use reel_face::{FaceDetector, FaceMesh, Range, Roi, Search};
use reel_image::Image;
use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame, probe};
use serde_json::Value;

use crate::common::{analysis_ms, dump, fps, load, time_each};
use crate::{BenchError, Result, reference_script, run_reference, sample};

#[derive(Args)]
pub struct BenchFacesArgs {
    /// The clip to measure on (by default the sample talking head).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Frames per measurement.
    #[arg(long, default_value_t = 120)]
    pub frames: usize,
    /// A Python with mediapipe==0.10.14 installed, to time the reference beside reel.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// A folder with reel's reference scripts to run instead of the built-in ones (also
    /// REEL_REFERENCE).
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Skip the MediaPipe reference run.
    #[arg(long)]
    pub no_reference: bool,
}

pub fn faces(args: &BenchFacesArgs) -> Result<()> {
    if args.reference.is_some() {
        // Named by the user: a folder without the script is a mistake to report, not skip.
        reference_script(args.reference.as_deref(), "bench_mediapipe.py")?;
    }
    let input = args
        .input
        .clone()
        .unwrap_or_else(|| sample("talking_head.mp4"));
    let dir = std::env::temp_dir().join(format!("reel-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(args, &input, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(args: &BenchFacesArgs, input: &Path, dir: &Path) -> Result<()> {
    let n = args.frames.max(10);
    let (vga, _) = load(input, n, None, dir)?;
    if vga.is_empty() {
        return Err(BenchError::other(format!(
            "{} has no frames",
            input.display()
        )));
    }
    let (hd, hd_path) = load(input, n, Some((1280, 720)), dir)?;
    let (fhd, _) = load(input, n, Some((1920, 1080)), dir)?;
    println!(
        "reel bench faces: {} ({}x{}), {} frames per measurement, median per frame",
        input.display(),
        vga[0].width,
        vga[0].height,
        vga.len()
    );

    let mut detector = FaceDetector::new(Search::Only(Range::Short), 1)?;
    let still: Vec<&Image> = std::iter::repeat_n(&vga[0], 50).collect();
    let detection = time_each(&still, |img| {
        detector.detect(img).map(|_| ()).map_err(Into::into)
    })?;

    let mut mesh = FaceMesh::new(1)?;
    let first = detector.detect(&vga[0])?;
    let Some(d) = first.first() else {
        return Err(BenchError::other(format!(
            "no face in the first frame of {}",
            input.display()
        )));
    };
    let mut roi = Roi::from_detection(d);
    let mut lm = Vec::new();
    let tracking = time_each(&vga, |img| {
        mesh.run(img, &roi, &mut lm)?;
        roi = Roi::from_landmarks(&lm);
        Ok(())
    })?;
    let hd_ms = analysis_ms(&hd)?;
    let fhd_ms = analysis_ms(&fhd)?;

    let info = probe(&hd_path)?;
    let t = Instant::now();
    let mut dec = Decoder::open(&hd_path)?;
    let mut f = Frame::default();
    let mut decoded = 0;
    while dec.next_frame(&mut f)? {
        decoded += 1;
    }
    let decode_fps = fps(decoded, t.elapsed().as_secs_f64());
    let t = Instant::now();
    let out = dir.join("encoded.mp4");
    let mut enc = Encoder::create(
        &out,
        hd[0].width,
        hd[0].height,
        &EncoderSettings::like_source(Codec::H264, &info),
    )?;
    for img in &hd {
        enc.write(img, None)?;
    }
    enc.finish()?;
    let encode_fps = fps(hd.len(), t.elapsed().as_secs_f64());

    let reference = if args.no_reference {
        None
    } else {
        reference(args, dir, &vga, &hd, &fhd)
    };
    let r = |key: &str| reference.as_ref().and_then(|v| v[key].as_f64());
    let row = |name: &str, ms: f64, key: Option<&str>| {
        let reference = key.and_then(r);
        match reference {
            Some(m) => println!(
                "  {name:<34} {ms:8.3} ms   mediapipe {m:8.3} ms   reel is {:.2}x its speed",
                m / ms
            ),
            None => println!("  {name:<34} {ms:8.3} ms"),
        }
    };
    row(
        "detection (short range, 640x480)",
        detection,
        Some("detection_ms"),
    );
    row(
        "landmarks, tracking mode (1 face)",
        tracking,
        Some("tracking_ms"),
    );
    row("full analysis 720p", hd_ms, Some("analysis_720p_ms"));
    row("full analysis 1080p", fhd_ms, Some("analysis_1080p_ms"));
    println!(
        "  {:<34} {:8.1} fps ({:.1} fps at 1080p)",
        "full analysis 720p throughput",
        1000.0 / hd_ms,
        1000.0 / fhd_ms
    );
    println!(
        "  {:<34} {:8.1} fps",
        "decode 720p H.264 (ffmpeg, RGB)", decode_fps
    );
    println!(
        "  {:<34} {:8.1} fps",
        "encode 720p H.264 (ffmpeg, crf 18)", encode_fps
    );
    if reference.is_none() && !args.no_reference {
        println!(
            "  (no MediaPipe reference: give --python a Python with mediapipe==0.10.14 installed)"
        );
    }
    Ok(())
}

fn reference(
    args: &BenchFacesArgs,
    dir: &Path,
    vga: &[Image],
    hd: &[Image],
    fhd: &[Image],
) -> Option<Value> {
    let prepared = dump(vga, &dir.join("vga.rgb"))
        .and_then(|_| dump(hd, &dir.join("720p.rgb")))
        .and_then(|_| dump(fhd, &dir.join("1080p.rgb")));
    prepared.ok()?;
    let reference = args.reference.as_deref();
    run_reference(&args.python, reference, "bench_mediapipe.py", [dir])
}
