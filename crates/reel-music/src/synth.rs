//! Notes to audio with a SoundFont piano (rustysynth, pure Rust): the way symbolic pieces become
//! recordings for the transcriber, in tests and for the style recogniser's training data. Every
//! part is played on the piano (General MIDI program 0), whatever instrument a file names.

use std::path::Path;
use std::sync::Arc;

use reel_assets::catalogue::{PIANO_SOUNDFONT, models_dir};
use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};

use crate::MusicError;
use crate::notes::Played;

/// Samples rendered at a time at most.
const BLOCK: usize = 4096;
/// Silence kept after the last note, for its release.
const TAIL_SECONDS: f64 = 1.0;

pub struct Piano {
    font: Arc<SoundFont>,
}

fn failure(path: &Path, detail: impl std::fmt::Display) -> MusicError {
    MusicError::Midi {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

impl Piano {
    /// The General MIDI SoundFont `reel setup` installed (TimGM6mb).
    pub fn load() -> Result<Piano, MusicError> {
        let path = models_dir().join(PIANO_SOUNDFONT.file);
        let bytes = reel_assets::install::read_verified(&path, PIANO_SOUNDFONT.sha256)?;
        Piano::from_bytes(&path, &bytes)
    }

    /// Any SoundFont 2 file: its program 0 is the piano.
    pub fn from_file(path: &Path) -> Result<Piano, MusicError> {
        let bytes = std::fs::read(path).map_err(|e| failure(path, e))?;
        Piano::from_bytes(path, &bytes)
    }

    fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Piano, MusicError> {
        let font = SoundFont::new(&mut &bytes[..]).map_err(|e| failure(path, e))?;
        Ok(Piano {
            font: Arc::new(font),
        })
    }

    /// A MIDI file played on the piano: mono samples at `rate` Hz.
    pub fn render(&self, midi: &Path, rate: u32) -> Result<Vec<f32>, MusicError> {
        let notes = crate::midi::read_midi(midi)?;
        self.render_notes(&notes, rate)
            .map_err(|e| failure(midi, e))
    }

    /// Notes played on the piano: mono samples at `rate` Hz, from time 0 to a second after the
    /// last note ends.
    pub fn render_notes(&self, notes: &[Played], rate: u32) -> Result<Vec<f32>, MusicError> {
        let settings = SynthesizerSettings::new(rate as i32);
        let mut synth = Synthesizer::new(&self.font, &settings)
            .map_err(|e| failure(Path::new("soundfont"), e))?;
        // (sample, key, velocity: 0 for a release), releases before presses at one sample.
        let at = |t: f64| (t.max(0.0) * rate as f64).round() as usize;
        let mut events: Vec<(usize, u8, i32)> = Vec::with_capacity(notes.len() * 2);
        for n in notes {
            let velocity = (n.velocity.clamp(0.0, 1.0) * 127.0).round().max(1.0) as i32;
            events.push((at(n.start), n.pitch.min(127), velocity));
            events.push((at(n.end.max(n.start + 0.01)), n.pitch.min(127), 0));
        }
        events.sort_by_key(|&(s, key, v)| (s, v > 0, key));
        let end = notes.iter().map(|n| n.end).fold(0.0, f64::max) + TAIL_SECONDS;
        let total = at(end);
        let mut out = Vec::with_capacity(total);
        let (mut left, mut right) = (vec![0f32; BLOCK], vec![0f32; BLOCK]);
        let mut next = 0;
        // Presses of each key still sounding: a release silences the key only when no later
        // press of it is still held (a repeated note struck before the last one's release).
        let mut held = [0u32; 128];
        let mut blocks = 0u32;
        while out.len() < total {
            blocks = blocks.wrapping_add(1);
            if blocks.is_multiple_of(256) {
                reel_core::stop::check()?;
            }
            while next < events.len() && events[next].0 <= out.len() {
                let (_, key, velocity) = events[next];
                let k = key as usize;
                if velocity > 0 {
                    held[k] += 1;
                    synth.note_on(0, key as i32, velocity);
                } else {
                    held[k] = held[k].saturating_sub(1);
                    if held[k] == 0 {
                        synth.note_off(0, key as i32);
                    }
                }
                next += 1;
            }
            let until = events.get(next).map_or(total, |e| e.0.min(total));
            let n = BLOCK.min(until.max(out.len() + 1) - out.len());
            synth.render(&mut left[..n], &mut right[..n]);
            out.extend(
                left[..n]
                    .iter()
                    .zip(&right[..n])
                    .map(|(l, r)| 0.5 * (l + r)),
            );
        }
        out.truncate(total);
        Ok(out)
    }
}

/// Mono samples as a 16-bit PCM WAV file.
pub fn wav_bytes(samples: &[f32], rate: u32) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    out
}
