use reel_clips::ClipError;
use reel_core::{HasKind, Kind};
use reel_diffusion::DiffusionError;
use reel_video::VideoError;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Diffusion(#[from] DiffusionError),
    #[error(transparent)]
    Video(#[from] VideoError),
    #[error(transparent)]
    Clip(#[from] ClipError),
    /// Settings or clips that cannot make the asked-for output (`--seconds 0`, a still where
    /// a clip is needed).
    #[error("{0}")]
    Settings(String),
    #[error("stopped; nothing was written")]
    Cancelled,
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    /// The face and person models a click on a person needs.
    #[error(transparent)]
    Model(#[from] reel_runtime::ModelError),
}

impl HasKind for GenerateError {
    fn kind(&self) -> Kind {
        match self {
            GenerateError::Diffusion(e) => e.kind(),
            GenerateError::Video(e) => e.kind(),
            GenerateError::Clip(ClipError::Cancelled) | GenerateError::Cancelled => Kind::Cancelled,
            GenerateError::Clip(e) => e.kind(),
            GenerateError::Settings(_) => Kind::Usage,
            GenerateError::Io(_) => Kind::Output,
            GenerateError::Model(e) => e.kind(),
        }
    }
}

impl From<candle_core::Error> for GenerateError {
    fn from(e: candle_core::Error) -> GenerateError {
        GenerateError::Diffusion(DiffusionError::Compute(e))
    }
}
