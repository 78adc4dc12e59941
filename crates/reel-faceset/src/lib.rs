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
    Model(#[from] reel_runtime::ModelError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
    #[error("{path}: {detail}")]
    BadRecord { path: String, detail: String },
}

impl reel_core::HasKind for FacesetError {
    fn kind(&self) -> reel_core::Kind {
        use reel_core::Kind;
        match self {
            FacesetError::Settings(_) => Kind::Usage,
            FacesetError::Cancelled => Kind::Cancelled,
            FacesetError::Model(e) => e.kind(),
            FacesetError::Video(e) => e.kind(),
            FacesetError::Io(e) => e.kind(),
            FacesetError::Output(e) => e.kind(),
            FacesetError::BadRecord { .. } => Kind::Other,
        }
    }
}
