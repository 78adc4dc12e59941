//! Pretrained models for reel: where they come from, how they are installed and checked, and how
//! they run.
//!
//! MediaPipe ships its face models as TFLite files; reel converts them to ONNX in memory at load
//! time ([`convert`]) and runs them with ONNX Runtime ([`runtime`]).

pub mod catalogue;
pub mod convert;
pub mod dlib;
pub mod install;
pub mod onnx;
pub mod runtime;
pub mod tflite;

pub use catalogue::{Asset, ModelId, models_dir, samples_dir};
pub use runtime::{Net, Output};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "model file {path} is missing; install the models with `reel setup` (or point REEL_MODELS at a directory that has them)"
    )]
    Missing { path: String },
    #[error(
        "{path} does not match its pinned SHA-256 (expected {expected}, found {found}); run `reel setup` again"
    )]
    Checksum {
        path: String,
        expected: String,
        found: String,
    },
    #[error("model format: {0}")]
    Format(String),
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    #[error("set-up: {0}")]
    Install(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl ModelError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ModelError {
        let context = context.into();
        move |source| ModelError::Io { context, source }
    }
}
