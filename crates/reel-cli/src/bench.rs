//! `reel bench faces`: median timings of each stage, beside MediaPipe's own on the same frames.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use reel_face::{AnalyzerSettings, FaceAnalyzer, FaceDetector, FaceMesh, Range, Roi};
use reel_image::Image;
use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame, probe};
use serde_json::Value;

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
    /// Skip the MediaPipe reference run.
    #[arg(long)]
    pub no_reference: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn time_each<T>(items: &[T], mut f: impl FnMut(&T) -> Result<()>) -> Result<f64> {
    for x in items.iter().take(3) {
        f(x)?;
    }
    let mut times = Vec::with_capacity(items.len());
    for x in items {
        let t = Instant::now();
        f(x)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(times))
}

/// Decodes up to `n` frames, scaled by ffmpeg when `scale` is given (written to a temp file).
fn load(
    input: &Path,
    n: usize,
    scale: Option<(usize, usize)>,
    dir: &Path,
) -> Result<(Vec<Image>, PathBuf)> {
    let path = match scale {
        None => input.to_path_buf(),
        Some((w, h)) => {
            let out = dir.join(format!("{h}p.mp4"));
            let ok = Command::new("ffmpeg")
                .args(["-nostdin", "-v", "error", "-y", "-i"])
                .arg(input)
                .args([
                    "-vf",
                    &format!("scale={w}:{h}"),
                    "-c:v",
                    "libx264",
                    "-crf",
                    "16",
                    "-c:a",
                    "copy",
                ])
                .arg(&out)
                .status()?
                .success();
            if !ok {
                bail!("ffmpeg could not scale {}", input.display());
            }
            out
        }
    };
    let mut dec = Decoder::open(&path)?;
    let mut frames = Vec::new();
    let mut f = Frame::default();
    while frames.len() < n && dec.next_frame(&mut f)? {
        frames.push(f.image.clone());
    }
    Ok((frames, path))
}

fn dump(frames: &[Image], path: &Path) -> Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for f in frames {
        file.write_all(&f.data)?;
    }
    let meta = serde_json::json!({"frames": frames.len(), "width": frames[0].width, "height": frames[0].height});
    std::fs::write(path.with_extension("json"), meta.to_string())?;
    Ok(())
}

fn analysis_ms(frames: &[Image]) -> Result<f64> {
    let mut analyzer = FaceAnalyzer::new(AnalyzerSettings::default())?;
    let mut i = 0;
    time_each(frames, |img| {
        i += 1;
        analyzer.analyze(img, i as f64 / 30.0)?;
        Ok(())
    })
}

fn fps(frames: usize, seconds: f64) -> f64 {
    frames as f64 / seconds
}

pub fn faces(args: &BenchFacesArgs, _quiet: bool) -> Result<()> {
    let input = args
        .input
        .clone()
        .unwrap_or_else(|| crate::samples_path("talking_head.mp4"));
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
        bail!("{} has no frames", input.display());
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

    let mut detector = FaceDetector::new(Range::Short, 1)?;
    let still: Vec<&Image> = std::iter::repeat_n(&vga[0], 50).collect();
    let detection = time_each(&still, |img| {
        detector.detect(img).map(|_| ()).map_err(Into::into)
    })?;

    let mut mesh = FaceMesh::new(1)?;
    let first = detector.detect(&vga[0])?;
    let Some(d) = first.first() else {
        bail!("no face in the first frame of {}", input.display());
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
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/reference/bench_mediapipe.py");
    if !script.exists() {
        return None;
    }
    let prepared = dump(vga, &dir.join("vga.rgb"))
        .and_then(|_| dump(hd, &dir.join("720p.rgb")))
        .and_then(|_| dump(fhd, &dir.join("1080p.rgb")));
    prepared.ok()?;
    let out = Command::new(&args.python)
        .arg(&script)
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .context("running the MediaPipe reference")
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last()?).ok()
}

/// One editing run end to end (decode, analysis, `chain`, H.264 encode), as the edit commands
/// run it: frames written and seconds taken.
fn edit_timed(input: &Path, output: &Path, chain: &mut reel_process::Chain) -> Result<(u64, f64)> {
    use reel_process::{FaceSelection, pipeline};
    let t = Instant::now();
    let report = pipeline::run(
        input,
        output,
        Codec::H264,
        18,
        pipeline::editing_analysis(8, 1),
        &mut FaceSelection::All,
        chain,
        |_, _| true,
    )?;
    Ok((report.frames, t.elapsed().as_secs_f64()))
}

#[derive(Args)]
pub struct BenchRetouchArgs {
    /// The clip to measure on (by default the sample talking head, scaled to 720p).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Runs of each job; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// `reel bench retouch`: beauty, de-aging and the instant swap end to end (decode, analysis, processing, H.264
/// encode) on 720p video, beside the same pipeline with no processor.
pub fn retouch(args: &BenchRetouchArgs, _quiet: bool) -> Result<()> {
    use reel_process::{Beauty, BeautySettings, Chain, Deage, DeageSettings};
    let dir = std::env::temp_dir().join(format!("reel-bench-retouch-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        let input = match &args.input {
            Some(p) => p.clone(),
            None => {
                let sample = crate::samples_path("talking_head.mp4");
                load(&sample, 1, Some((1280, 720)), &dir)?.1
            }
        };
        let info = probe(&input)?;
        println!(
            "reel bench retouch: {} ({}x{}, {} frames), end to end with decode and H.264 encode, median of {} runs",
            input.display(),
            info.width,
            info.height,
            info.declared_frames
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            args.runs.max(1)
        );
        type MakeChain = fn() -> Result<Chain>;
        let jobs: [(&str, MakeChain); 5] = [
            ("decode + analysis + encode", || Ok(Chain::new())),
            ("beauty (strength 0.7)", || {
                Ok(Chain::new().then(Beauty::new(BeautySettings::default())?))
            }),
            ("swap from a photo", || {
                let photo = crate::samples_path("grace_hopper.jpg");
                Ok(Chain::new().then(reel_process::PhotoSwap::from_photos(&[photo])?))
            }),
            ("deage (20 years)", || {
                Ok(Chain::new().then(Deage::new(DeageSettings { years: 20.0 })?))
            }),
            ("deage 20 + beauty 0.5", || {
                Ok(Chain::new()
                    .then(Deage::new(DeageSettings { years: 20.0 })?)
                    .then(Beauty::new(BeautySettings {
                        strength: 0.5,
                        ..BeautySettings::default()
                    })?))
            }),
        ];
        let mut baseline = None;
        for (name, make) in jobs {
            let mut times = Vec::new();
            let mut frames = 0;
            for _ in 0..args.runs.max(1) {
                let (n, seconds) = edit_timed(&input, &dir.join("out.mp4"), &mut make()?)?;
                times.push(seconds);
                frames = n;
            }
            let fps = frames as f64 / median(times);
            let base = *baseline.get_or_insert(fps);
            println!(
                "  {name:<28} {fps:7.1} fps   {:5.2}x the time of the bare pipeline",
                base / fps
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[derive(Args)]
pub struct BenchTrainArgs {
    /// Face resolution of the model.
    #[arg(long, default_value_t = 128)]
    pub resolution: usize,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, value_enum, default_value_t = crate::train::Design::Df)]
    pub architecture: crate::train::Design,
    /// Timed training iterations (after one untimed).
    #[arg(long, default_value_t = 3)]
    pub iterations: u64,
}

/// `reel bench train`: swap-model training speed on this machine, and the trained model's swap
/// speed on 720p video end to end, beside the same pipeline with no processor.
pub fn train(args: &BenchTrainArgs, _quiet: bool) -> Result<()> {
    use reel_faceset::extract::{ExtractSettings, extract};
    use reel_process::Chain;
    use reel_swap::train::{TrainSettings, train};
    let dir = std::env::temp_dir().join(format!("reel-bench-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        let every = ExtractSettings {
            min_change: 0.0,
            every: 2,
            ..ExtractSettings::default()
        };
        let (a, b) = (dir.join("a"), dir.join("b"));
        extract(
            &[crate::samples_path("speaker.mp4")],
            &a,
            &every,
            |_, _, _| true,
        )?;
        extract(
            &[crate::samples_path("talking_head.mp4")],
            &b,
            &every,
            |_, _, _| true,
        )?;
        let model = dir.join("model");
        let mut settings = TrainSettings {
            batch: args.batch,
            iterations: Some(1),
            evaluate_every: u64::MAX,
            ..TrainSettings::default()
        };
        settings.config.resolution = args.resolution;
        settings.config.architecture = args.architecture.into();
        train(&a, &b, &model, &settings, |_| true)?;
        settings.iterations = Some(1 + args.iterations.max(1));
        let t = Instant::now();
        train(&a, &b, &model, &settings, |_| true)?;
        let secs = t.elapsed().as_secs_f64();
        let its = args.iterations.max(1) as f64 / secs;
        println!(
            "reel bench train: {:?}, {} px, batch {} per person, {} ({})",
            args.architecture,
            args.resolution,
            args.batch,
            if cfg!(feature = "cuda") {
                "CUDA build"
            } else {
                "CPU"
            },
            if reel_swap::device().is_cpu() {
                "running on the CPU"
            } else {
                "running on the GPU"
            }
        );
        println!(
            "  training: {its:.3} iterations/s, {:.1} faces/s (both people), {:.2} s per iteration",
            its * 2.0 * args.batch as f64,
            1.0 / its
        );
        let (_, hd) = load(
            &crate::samples_path("talking_head.mp4"),
            1,
            Some((1280, 720)),
            &dir,
        )?;
        let mut fps = Vec::new();
        for with_model in [false, true] {
            let mut chain = Chain::new();
            if with_model {
                chain = chain.then(reel_swap::swapper::ModelSwap::load(&model)?);
            }
            let (frames, seconds) = edit_timed(&hd, &dir.join("out.mp4"), &mut chain)?;
            fps.push(frames as f64 / seconds);
        }
        // The network alone, one face at a time as the swap runs it.
        let dev = reel_swap::device();
        let (net, _, _weights) = reel_swap::train::load(&model, &dev)?;
        let r = args.resolution;
        let face = candle_core::Tensor::full(0.5f32, (1, 3, r, r), &dev)?;
        net.swap(&face)?;
        let runs = 10;
        let t = Instant::now();
        for _ in 0..runs {
            net.swap(&face)?.0.flatten_all()?.to_vec1::<f32>()?;
        }
        let network_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
        println!(
            "  swap with the model, 720p end to end: {:.1} fps (decode + analysis + encode alone {:.1} fps); the swap adds {:.1} ms a frame, of which the network takes {network_ms:.1} ms and alignment, colour matching and blending the rest",
            fps[1],
            fps[0],
            1000.0 / fps[1] - 1000.0 / fps[0]
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[derive(Args)]
pub struct BenchTranscribeArgs {
    /// Audio to transcribe (by default the sample talking head's soundtrack, repeated to a minute).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Runs; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// A Python with basic-pitch==0.4.0 and onnxruntime installed, to time the reference beside
    /// reel.
    #[arg(long, default_value = "python3")]
    pub python: String,
}

/// basic-pitch's own Python pipeline on the same WAV (tools/reference/bench_basic_pitch.py):
/// its median seconds, or None when that Python lacks basic-pitch.
fn basic_pitch_seconds(python: &str, wav: &Path, threads: usize, runs: usize) -> Option<f64> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/reference/bench_basic_pitch.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(wav)
        .arg(threads.to_string())
        .arg(runs.max(1).to_string())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    serde_json::from_str::<Value>(text.lines().last()?).ok()?["seconds"].as_f64()
}

/// `reel bench transcribe`: piano transcription speed as a multiple of real time, on one core
/// and on two, beside basic-pitch's own Python pipeline on the same audio.
pub fn transcribe(args: &BenchTranscribeArgs, _quiet: bool) -> Result<()> {
    use reel_music::transcribe::SAMPLE_RATE;
    use reel_music::{NoteSettings, Transcriber, notes};
    let dir = std::env::temp_dir().join(format!("reel-bench-transcribe-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        // The audio, as the 22050 Hz mono WAV both sides read.
        let wav = dir.join("audio.wav");
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-v", "error", "-y"]);
        match &args.input {
            Some(p) => cmd.arg("-i").arg(p),
            None => cmd
                .args(["-stream_loop", "10", "-i"])
                .arg(crate::samples_path("talking_head.mp4"))
                .args(["-t", "60"]),
        };
        cmd.args(["-vn", "-ac", "1", "-ar", "22050", "-c:a", "pcm_f32le"])
            .arg(&wav);
        anyhow::ensure!(
            cmd.status()?.success(),
            "ffmpeg could not prepare the audio"
        );
        let seconds = reel_video::read_audio(&wav, SAMPLE_RATE)?.len() as f64 / SAMPLE_RATE as f64;
        println!(
            "reel bench transcribe: {:.1} s of audio, median of {} runs (reading the WAV, the model, joining and note decoding; the same on both sides)",
            seconds, args.runs
        );
        for threads in [1, 2] {
            let mut transcriber = Transcriber::new(threads)?;
            let mut times = Vec::new();
            for run in 0..=args.runs.max(1) {
                let t = Instant::now();
                let audio = reel_video::read_audio(&wav, SAMPLE_RATE)?;
                let a = transcriber.activations(&audio)?;
                let _ = notes(&a, &NoteSettings::default());
                if run > 0 {
                    times.push(t.elapsed().as_secs_f64());
                }
            }
            times.sort_by(f64::total_cmp);
            let ours = times[times.len() / 2];
            let reference = basic_pitch_seconds(&args.python, &wav, threads, args.runs);
            let beside = match reference {
                Some(r) => format!(
                    "; basic-pitch (Python) {r:.3} s, {:.0}x real time; ratio {:.2}",
                    seconds / r,
                    r / ours
                ),
                None => String::new(),
            };
            println!(
                "  {threads} thread{}: {ours:.3} s, {:.0}x real time{beside}",
                if threads == 1 { " " } else { "s" },
                seconds / ours
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[derive(Args, Debug)]
pub struct BenchStyleArgs {
    /// Piano audio to recognise (by default a minute of the Maple Leaf Rag on the SoundFont
    /// piano).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Runs; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// A Python with basic-pitch==0.4.0 and onnxruntime installed, to time its transcription of
    /// the same audio beside the whole recogniser.
    #[arg(long, default_value = "python3")]
    pub python: String,
}

/// `reel bench style`: the whole style recogniser (reading the audio, transcription, a reading
/// every half second) on one core, as a multiple of real time, beside basic-pitch's Python
/// transcription alone.
pub fn style(args: &BenchStyleArgs, _quiet: bool) -> Result<()> {
    use reel_music::transcribe::SAMPLE_RATE;
    use reel_music::{NoteSettings, Played, Recogniser, Transcriber};
    let recogniser = Recogniser::load(&Recogniser::default_path())?;
    let dir = std::env::temp_dir().join(format!("reel-bench-style-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        let wav = dir.join("piano.wav");
        match &args.input {
            Some(p) => {
                let ok = Command::new("ffmpeg")
                    .args(["-nostdin", "-v", "error", "-y", "-i"])
                    .arg(p)
                    .args(["-vn", "-ac", "1", "-ar", "22050"])
                    .arg(&wav)
                    .status()?
                    .success();
                anyhow::ensure!(ok, "ffmpeg could not prepare the audio");
            }
            None => {
                let rag = reel_music::read_midi(&crate::samples_path("maple_leaf_rag.mid"))?;
                let minute: Vec<Played> = rag.into_iter().filter(|n| n.start < 60.0).collect();
                let mut audio = reel_music::Piano::load()?.render_notes(&minute, SAMPLE_RATE)?;
                audio.truncate(60 * SAMPLE_RATE as usize);
                std::fs::write(&wav, reel_music::wav_bytes(&audio, SAMPLE_RATE))?;
            }
        }
        let seconds = reel_video::read_audio(&wav, SAMPLE_RATE)?.len() as f64 / SAMPLE_RATE as f64;
        let mut transcriber = Transcriber::new(1)?;
        let (mut whole, mut reading) = (Vec::new(), Vec::new());
        let mut count = 0;
        for run in 0..=args.runs.max(1) {
            let t = Instant::now();
            let audio = reel_video::read_audio(&wav, SAMPLE_RATE)?;
            let heard = reel_music::hear(&mut transcriber, &audio, &NoteSettings::default(), 0.0)?;
            let r = Instant::now();
            let readings = recogniser.over_time(&heard, seconds);
            count = readings.len();
            if run > 0 {
                reading.push(r.elapsed().as_secs_f64());
                whole.push(t.elapsed().as_secs_f64());
            }
        }
        whole.sort_by(f64::total_cmp);
        reading.sort_by(f64::total_cmp);
        let (ours, classify) = (whole[whole.len() / 2], reading[reading.len() / 2]);
        println!(
            "reel bench style: {seconds:.1} s of piano audio, one thread, median of {} runs",
            args.runs
        );
        println!(
            "  whole recogniser: {ours:.3} s, {:.0}x real time ({count} readings; features and classifier {:.1} ms in all)",
            seconds / ours,
            classify * 1000.0
        );
        let reference = basic_pitch_seconds(&args.python, &wav, 1, args.runs);
        if let Some(r) = reference {
            println!(
                "  basic-pitch (Python), transcription alone: {r:.3} s, {:.0}x real time; ratio {:.2}",
                seconds / r,
                r / ours
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
