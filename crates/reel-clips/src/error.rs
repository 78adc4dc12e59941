use reel_core::{HasKind, Kind};
use reel_video::VideoError;

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error(transparent)]
    Video(#[from] VideoError),
    /// Settings that cannot make the asked-for output (a transition longer than a clip).
    #[error("{0}")]
    Settings(String),
    #[error("stopped; nothing was written")]
    Cancelled,
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    /// The face models a morph needs.
    #[error(transparent)]
    Model(#[from] reel_runtime::ModelError),
}

impl HasKind for ClipError {
    fn kind(&self) -> Kind {
        match self {
            ClipError::Video(e) => e.kind(),
            ClipError::Settings(_) => Kind::Usage,
            ClipError::Cancelled => Kind::Cancelled,
            ClipError::Io(_) => Kind::Output,
            ClipError::Model(e) => e.kind(),
        }
    }
}
