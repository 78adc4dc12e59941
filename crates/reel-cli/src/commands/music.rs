//! `reel transcribe`: the notes a piano (or any pitched instrument) plays in a recording, or
//! those of a MIDI file, in the form the style recogniser reads.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use reel_music::transcribe::SAMPLE_RATE;
use reel_music::{NoteSettings, Played, played_notes, read_midi};

use crate::failure::{Failure, Result};

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

pub fn transcribe(args: &TranscribeArgs, quiet: bool) -> Result {
    for (name, v) in [
        ("--onset-threshold", args.onset_threshold),
        ("--frame-threshold", args.frame_threshold),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(Failure::usage(format!("{name} must be between 0 and 1")));
        }
    }
    let outputs: Vec<&std::path::Path> = [args.json.as_deref(), args.midi.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    reel_core::output::check_distinct(&[&args.input], &outputs)?;
    let settings = NoteSettings {
        onset_threshold: args.onset_threshold,
        frame_threshold: args.frame_threshold,
        ..NoteSettings::default()
    };
    let (found, _) = played_notes(&args.input, &settings)?;
    let seconds = found.iter().map(|n| n.end).fold(0.0, f64::max);
    if let Some(path) = &args.json {
        let mut json = serde_json::to_vec_pretty(&serde_json::json!({
            "input": args.input,
            "notes": found,
        }))
        .expect("notes serialise");
        json.push(b'\n');
        reel_core::output::write_atomic(path, &json)?;
    }
    if let Some(path) = &args.midi {
        reel_core::output::write_atomic(path, &reel_music::midi_bytes(&found))?;
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
    #[command(flatten)]
    pub sign: crate::provenance::SignArgs,
}

/// `reel synth`: a MIDI file played on the SoundFont piano, to a WAV file.
pub fn synth(args: &SynthArgs, quiet: bool) -> Result {
    let start_ok = args.start.is_finite() && args.start >= 0.0;
    if !start_ok || args.seconds.is_some_and(|s| s.is_nan() || s <= 0.0) {
        return Err(Failure::usage(
            "--start must be 0 or more and --seconds more than 0",
        ));
    }
    reel_core::output::check_distinct(&[&args.input], &[&args.output])?;
    let wav = args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    if !wav && args.output.to_str() != Some("-") {
        return Err(Failure::usage(format!(
            "{}: reel synth writes WAV; give the output a .wav name",
            args.output.display()
        )));
    }
    let end = args.seconds.map_or(f64::INFINITY, |s| args.start + s);
    let notes: Vec<Played> = read_midi(&args.input)?
        .into_iter()
        .filter(|n| n.start >= args.start && n.start < end)
        .map(|n| Played {
            start: n.start - args.start,
            end: n.end.min(end) - args.start,
            ..n
        })
        .collect();
    let piano = reel_music::Piano::load()?;
    let mut audio = piano.render_notes(&notes, SAMPLE_RATE)?;
    // At most --seconds: the buffer is sized by the piece, then cut.
    if let Some(s) = args.seconds.filter(|s| s.is_finite()) {
        let most = (s * SAMPLE_RATE as f64).round();
        if most < audio.len() as f64 {
            audio.truncate(most as usize);
        }
    }
    // Made, not recorded: the MIDI file is its ingredient.
    let provenance = crate::provenance::Provenance::new(
        &args.sign.signing(),
        "c2pa.created",
        reel_credentials::SourceType::AlgorithmicMedia,
        serde_json::json!({
            "instrument": "the SoundFont piano",
            "start": args.start,
            "seconds": args.seconds,
        }),
        &[args.input.as_path()],
        None,
    )?;
    let seal = provenance.seal().expect("a provenance always seals");
    reel_core::output::write_sealed(
        &args.output,
        &reel_music::wav_bytes(&audio, SAMPLE_RATE),
        seal.as_ref(),
        "wav",
    )?;
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
