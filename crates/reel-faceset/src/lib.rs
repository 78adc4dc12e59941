//! Face sets: the aligned faces of one person gathered from footage, the material a per-subject
//! swap model learns from, with what they cover (poses, lighting) and how alike two people are.

pub mod cast;
pub mod extract;
pub mod record;
pub mod stats;
pub mod tone;

pub use record::FaceRecord;

#[derive(Debug, thiserror::Error)]
pub enum FacesetError {
    #[error("{0}")]
    Settings(String),
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Model(#[from] reel_models::ModelError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{path}: {detail}")]
    BadRecord { path: String, detail: String },
}

impl FacesetError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> FacesetError {
        let context = context.into();
        move |source| FacesetError::Io { context, source }
    }
}
