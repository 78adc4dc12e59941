//! MIDI to audio with a SoundFont piano (rustysynth, pure Rust): the way symbolic pieces become
//! recordings for the transcriber, in tests and for training data.

use std::path::Path;
use std::sync::Arc;

use reel_models::catalogue::{PIANO_SOUNDFONT, models_dir};
use rustysynth::{MidiFile, MidiFileSequencer, SoundFont, Synthesizer, SynthesizerSettings};

use crate::MusicError;

/// Samples rendered at a time.
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
        let bytes = reel_models::install::read_verified(&path, PIANO_SOUNDFONT.sha256)?;
        let font = SoundFont::new(&mut bytes.as_slice()).map_err(|e| failure(&path, e))?;
        Ok(Piano {
            font: Arc::new(font),
        })
    }

    /// A MIDI file played through the SoundFont: mono samples at `rate` Hz.
    pub fn render(&self, midi: &Path, rate: u32) -> Result<Vec<f32>, MusicError> {
        let bytes = std::fs::read(midi).map_err(|e| failure(midi, e))?;
        let file = MidiFile::new(&mut bytes.as_slice())
            .map_err(|e| failure(midi, format!("not a standard MIDI file ({e})")))?;
        let length = file.get_length() + TAIL_SECONDS;
        let settings = SynthesizerSettings::new(rate as i32);
        let synth = Synthesizer::new(&self.font, &settings).map_err(|e| failure(midi, e))?;
        let mut sequencer = MidiFileSequencer::new(synth);
        sequencer.play(&Arc::new(file), false);
        let total = (length * rate as f64).ceil() as usize;
        let mut out = Vec::with_capacity(total);
        let (mut left, mut right) = (vec![0f32; BLOCK], vec![0f32; BLOCK]);
        while out.len() < total {
            let n = BLOCK.min(total - out.len());
            sequencer.render(&mut left[..n], &mut right[..n]);
            out.extend(
                left[..n]
                    .iter()
                    .zip(&right[..n])
                    .map(|(l, r)| 0.5 * (l + r)),
            );
        }
        Ok(out)
    }
}
