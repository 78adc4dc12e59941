//! `reel transcribe`: the notes a piano (or any pitched instrument) plays in a recording, or
//! those of a MIDI file, in the form the style recogniser reads.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use reel_music::transcribe::SAMPLE_RATE;
use reel_music::{MusicError, NoteSettings, Played, Transcriber, read_midi};

#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// Audio or video file (anything ffmpeg reads; its first audio stream), or a MIDI file
    /// (.mid, .midi).
    pub input: PathBuf,
    /// Write the notes as JSON here ('-' for standard output).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the notes as a standard MIDI file here.
    #[arg(long)]
    pub midi: Option<PathBuf>,
    /// How strong an onset must be to start a note (0..1).
    #[arg(long, default_value_t = 0.5)]
    pub onset_threshold: f32,
    /// How strong a key must sound to keep its note going (0..1).
    #[arg(long, default_value_t = 0.3)]
    pub frame_threshold: f32,
}

/// A music error as the error it wraps, so that failures are classified by their cause.
pub fn music_error(e: MusicError) -> anyhow::Error {
    match e {
        MusicError::Model(e) => e.into(),
        MusicError::Audio(e) => e.into(),
        other => other.into(),
    }
}

pub fn transcribe(args: &TranscribeArgs, quiet: bool) -> Result<()> {
    for (name, v) in [
        ("--onset-threshold", args.onset_threshold),
        ("--frame-threshold", args.frame_threshold),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(
                crate::failure::UsageError(format!("{name} must be between 0 and 1")).into(),
            );
        }
    }
    let settings = NoteSettings {
        onset_threshold: args.onset_threshold,
        frame_threshold: args.frame_threshold,
        ..NoteSettings::default()
    };
    let (found, _) = played_notes(&args.input, &settings)?;
    let seconds = found.iter().map(|n| n.end).fold(0.0, f64::max);
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&serde_json::json!({
            "input": args.input,
            "notes": found,
        }))?;
        if path.as_os_str() == "-" {
            std::io::stdout().write_all(&json)?;
            println!();
        } else {
            reel_models::install::write_atomic(path, &json)?;
        }
    }
    if let Some(path) = &args.midi {
        reel_models::install::write_atomic(path, &reel_music::midi_bytes(&found))?;
    }
    if args.json.is_none() && args.midi.is_none() {
        // The notes, one a line, on standard output (a closed pipe, as with `| head`, ends
        // the listing quietly).
        let mut out = std::io::stdout().lock();
        for n in &found {
            let line = writeln!(
                out,
                "{:8.3} {:8.3} {:<4} {:3} {:.2}",
                n.start,
                n.end,
                name(n.pitch),
                n.pitch,
                n.velocity
            );
            if line.is_err() {
                break;
            }
        }
    }
    if !quiet {
        eprintln!(
            "{}: {} notes over {:.1} s{}",
            args.input.display(),
            found.len(),
            seconds,
            if args.json.is_none() && args.midi.is_none() {
                " (start and end in seconds, key, MIDI number, strength)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Whether a file is MIDI, by its extension.
pub fn is_midi(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "mid" | "midi"))
}

/// The notes of a MIDI file, or heard in an audio or video file, and how long it lasts.
pub fn played_notes(
    input: &std::path::Path,
    settings: &NoteSettings,
) -> Result<(Vec<Played>, f64)> {
    if is_midi(input) {
        let notes = read_midi(input).map_err(music_error)?;
        let seconds = notes.iter().map(|n| n.end).fold(0.0, f64::max);
        return Ok((notes, seconds));
    }
    let audio = reel_video::read_audio(input, SAMPLE_RATE)?;
    let mut transcriber = Transcriber::new(2).map_err(music_error)?;
    let heard = reel_music::hear(&mut transcriber, &audio, settings, 0.0).map_err(music_error)?;
    Ok((heard, audio.len() as f64 / SAMPLE_RATE as f64))
}

/// Scientific pitch name: 60 is C4.
fn name(pitch: u8) -> String {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    format!("{}{}", NAMES[pitch as usize % 12], pitch as i32 / 12 - 1)
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// A MIDI file.
    pub input: PathBuf,
    /// The WAV file to write (22050 Hz mono).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Start this many seconds into the piece.
    #[arg(long, default_value_t = 0.0)]
    pub start: f64,
    /// Play this many seconds at most.
    #[arg(long)]
    pub seconds: Option<f64>,
}

/// `reel synth`: a MIDI file played on the SoundFont piano, to a WAV file.
pub fn synth(args: &SynthArgs, quiet: bool) -> Result<()> {
    if args.start < 0.0 || args.seconds.is_some_and(|s| s <= 0.0) {
        return Err(crate::failure::UsageError(
            "--start must be 0 or more and --seconds more than 0".into(),
        )
        .into());
    }
    let end = args.seconds.map_or(f64::INFINITY, |s| args.start + s);
    let notes: Vec<Played> = read_midi(&args.input)
        .map_err(music_error)?
        .into_iter()
        .filter(|n| n.start >= args.start && n.start < end)
        .map(|n| Played {
            start: n.start - args.start,
            end: n.end.min(end) - args.start,
            ..n
        })
        .collect();
    let piano = reel_music::Piano::load().map_err(music_error)?;
    let mut audio = piano
        .render_notes(&notes, SAMPLE_RATE)
        .map_err(music_error)?;
    if let Some(s) = args.seconds {
        audio.resize((s * SAMPLE_RATE as f64).round() as usize, 0.0);
    }
    reel_models::install::write_atomic(&args.output, &reel_music::wav_bytes(&audio, SAMPLE_RATE))?;
    if !quiet {
        eprintln!(
            "{}: {} notes, {:.1} s",
            args.output.display(),
            notes.len(),
            audio.len() as f64 / SAMPLE_RATE as f64
        );
    }
    Ok(())
}
