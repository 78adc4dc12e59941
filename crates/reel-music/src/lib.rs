//! Listening to music: audio to piano notes with Spotify's basic-pitch network (run by ONNX
//! Runtime), and the notes decoded from its activations the way basic-pitch decodes them.
//! MIDI files are read to the same notes. The piano-style recogniser of the AI-directed film
//! builds on them ([`style`]); a MIDI keyboard is read as it is played ([`keyboard`]). The
//! recogniser's training lives in `reel-corpus`.

pub mod classifier;
pub mod features;
pub mod keyboard;
pub mod midi;
pub mod musicxml;
pub mod notes;
pub mod performance;
pub mod style;
pub mod synth;
pub mod transcribe;

pub use midi::{midi_bytes, read_midi};
pub use notes::{Note, NoteSettings, Played, notes};
pub use performance::{is_midi, played_notes};
pub use style::{Reading, Recogniser, Style};
pub use synth::{Piano, wav_bytes};
pub use transcribe::{Activations, Transcriber};

/// The notes played in `audio` (22050 Hz mono), sorted by start then key, their times moved
/// on by `offset` seconds (where the audio starts in a longer performance).
pub fn hear(
    transcriber: &mut Transcriber,
    audio: &[f32],
    settings: &NoteSettings,
    offset: f64,
) -> Result<Vec<Played>, MusicError> {
    let activations = transcriber.activations(audio)?;
    let mut heard = notes(&activations, settings);
    heard.sort_by_key(|n| (n.start_frame, n.pitch));
    Ok(heard
        .into_iter()
        .map(|n| {
            let p = Played::from(n);
            Played {
                start: p.start + offset,
                end: p.end + offset,
                ..p
            }
        })
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum MusicError {
    #[error(transparent)]
    Model(#[from] reel_runtime::ModelError),
    #[error(transparent)]
    Audio(#[from] reel_video::VideoError),
    #[error("style recogniser {path}: {detail}")]
    Recogniser {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("training data: {0}")]
    Corpus(String),
    #[error("{path}: {detail}")]
    Midi {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
    #[error(transparent)]
    Cancelled(#[from] reel_core::Cancelled),
}

impl reel_core::HasKind for MusicError {
    fn kind(&self) -> reel_core::Kind {
        use reel_core::Kind;
        match self {
            MusicError::Model(e) => e.kind(),
            MusicError::Audio(e) => e.kind(),
            MusicError::Recogniser { .. } => Kind::Setup,
            MusicError::Corpus(_) => Kind::Other,
            MusicError::Midi { .. } => Kind::Input,
            MusicError::Output(e) => e.kind(),
            MusicError::Cancelled(_) => Kind::Cancelled,
        }
    }
}

impl From<reel_assets::AssetError> for MusicError {
    fn from(e: reel_assets::AssetError) -> MusicError {
        MusicError::Model(e.into())
    }
}
