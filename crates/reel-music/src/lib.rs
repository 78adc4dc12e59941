//! Listening to music: audio to piano notes with Spotify's basic-pitch network (run by ONNX
//! Runtime), and the notes decoded from its activations the way basic-pitch decodes them.
//! The piano-style recogniser of the AI-directed film builds on these notes.

pub mod notes;
pub mod transcribe;

pub use notes::{Note, NoteSettings, notes};
pub use transcribe::{Activations, Transcriber};

#[derive(Debug, thiserror::Error)]
pub enum MusicError {
    #[error(transparent)]
    Model(#[from] reel_models::ModelError),
    #[error(transparent)]
    Audio(#[from] reel_video::VideoError),
}
