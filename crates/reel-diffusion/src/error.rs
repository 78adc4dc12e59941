//! What can go wrong loading or running a generation model.

use std::path::PathBuf;

use reel_core::{HasKind, Kind};

#[derive(Debug, thiserror::Error)]
pub enum DiffusionError {
    /// The folder is not a model of the kind asked for, or a part of it is missing or does not
    /// fit its config.
    #[error("{}: {detail}", path.display())]
    Model { path: PathBuf, detail: String },
    /// The request does not fit the model (a size, a frame count, a tensor's shape).
    #[error("{0}")]
    Usage(String),
    /// Where the frames go failed (the encoder, the disk).
    #[error("{0}")]
    Output(String),
    /// Stopped on request.
    #[error("stopped")]
    Cancelled,
    /// The compute failed (out of memory, a device error).
    #[error("compute: {0}")]
    Compute(#[from] candle_core::Error),
}

impl DiffusionError {
    pub(crate) fn model(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        DiffusionError::Model {
            path: path.into(),
            detail: detail.into(),
        }
    }
}

impl HasKind for DiffusionError {
    fn kind(&self) -> Kind {
        match self {
            DiffusionError::Model { .. } => Kind::Input,
            DiffusionError::Usage(_) => Kind::Usage,
            DiffusionError::Output(_) => Kind::Output,
            DiffusionError::Cancelled => Kind::Cancelled,
            DiffusionError::Compute(_) => Kind::Other,
        }
    }
}

pub type Result<T> = std::result::Result<T, DiffusionError>;
