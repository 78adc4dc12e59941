//! Per-subject face swap models, the way production face replacement is done: one encoder shared
//! by two people and a decoder for each (DeepFaceLab's DF design). Trained on two face sets, the
//! model encodes a frame of person B and decodes it as person A, keeping B's pose, expression and
//! lighting.

pub mod conv;
pub mod data;
pub mod model;
pub mod swapper;
pub mod train;

pub use model::{ModelConfig, SwapModel};

#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("{0}")]
    Settings(String),
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Faceset(#[from] reel_faceset::FacesetError),
    #[error(transparent)]
    Model(#[from] reel_models::ModelError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl SwapError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SwapError {
        let context = context.into();
        move |source| SwapError::Io { context, source }
    }
}

/// The device models run on: CUDA when built with the `cuda` feature and a GPU is present.
pub fn device() -> candle_core::Device {
    #[cfg(feature = "cuda")]
    if let Ok(d) = candle_core::Device::new_cuda(0) {
        return d;
    }
    candle_core::Device::Cpu
}
