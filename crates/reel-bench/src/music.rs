//! `reel bench transcribe` and `reel bench style`: piano transcription and the whole style
//! recogniser as multiples of real time, beside basic-pitch's own Python pipeline.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;

use crate::{BenchError, Result, reference_script, run_reference, sample};

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
    /// A folder with reel's reference scripts to run instead of the built-in ones (also
    /// REEL_REFERENCE).
    #[arg(long)]
    pub reference: Option<PathBuf>,
}

/// basic-pitch's own Python pipeline on the same WAV (tools/reference/bench_basic_pitch.py):
/// its median seconds, or None when that Python lacks basic-pitch.
fn basic_pitch_seconds(
    python: &str,
    reference: Option<&Path>,
    wav: &Path,
    threads: usize,
    runs: usize,
) -> Option<f64> {
    let args = [
        wav.as_os_str().to_owned(),
        threads.to_string().into(),
        runs.max(1).to_string().into(),
    ];
    run_reference(python, reference, "bench_basic_pitch.py", args)?["seconds"].as_f64()
}

/// `reel bench transcribe`: piano transcription speed as a multiple of real time, on one core
/// and on two, beside basic-pitch's own Python pipeline on the same audio.
pub fn transcribe(args: &BenchTranscribeArgs) -> Result<()> {
    if args.reference.is_some() {
        reference_script(args.reference.as_deref(), "bench_basic_pitch.py")?;
    }
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
                .arg(sample("talking_head.mp4"))
                .args(["-t", "60"]),
        };
        cmd.args(["-vn", "-ac", "1", "-ar", "22050", "-c:a", "pcm_f32le"])
            .arg(&wav);
        if !cmd.status()?.success() {
            return Err(BenchError::other("ffmpeg could not prepare the audio"));
        }
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
            let reference = basic_pitch_seconds(
                &args.python,
                args.reference.as_deref(),
                &wav,
                threads,
                args.runs,
            );
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
    /// A folder with reel's reference scripts to run instead of the built-in ones (also
    /// REEL_REFERENCE).
    #[arg(long)]
    pub reference: Option<PathBuf>,
}

/// `reel bench style`: the whole style recogniser (reading the audio, transcription, a reading
/// every half second) on one core, as a multiple of real time, beside basic-pitch's Python
/// transcription alone.
pub fn style(args: &BenchStyleArgs) -> Result<()> {
    if args.reference.is_some() {
        reference_script(args.reference.as_deref(), "bench_basic_pitch.py")?;
    }
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
                if !ok {
                    return Err(BenchError::other("ffmpeg could not prepare the audio"));
                }
            }
            None => {
                let rag = reel_music::read_midi(&sample("maple_leaf_rag.mid"))?;
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
        let reference =
            basic_pitch_seconds(&args.python, args.reference.as_deref(), &wav, 1, args.runs);
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
