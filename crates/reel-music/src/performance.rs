//! A performance as notes: a MIDI file read, or a recording heard.

use std::path::Path;

use crate::transcribe::SAMPLE_RATE;
use crate::{MusicError, NoteSettings, Played, Transcriber, read_midi};

/// Whether a file is MIDI, by its extension.
pub fn is_midi(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "mid" | "midi"))
}

/// The notes of a MIDI file, or heard in an audio or video file, and how long it lasts.
pub fn played_notes(
    input: &Path,
    settings: &NoteSettings,
) -> Result<(Vec<Played>, f64), MusicError> {
    if is_midi(input) {
        let notes = read_midi(input)?;
        let seconds = notes.iter().map(|n| n.end).fold(0.0, f64::max);
        return Ok((notes, seconds));
    }
    let audio = reel_video::read_audio(input, SAMPLE_RATE)?;
    let mut transcriber = Transcriber::new(2)?;
    let heard = crate::hear(&mut transcriber, &audio, settings, 0.0)?;
    Ok((heard, audio.len() as f64 / SAMPLE_RATE as f64))
}
