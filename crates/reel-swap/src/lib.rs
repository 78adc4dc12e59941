//! Per-subject face swap models, the way production face replacement is done: one encoder shared
//! by two people and a decoder for each (DeepFaceLab's DF design). Trained on two face sets, the
//! model encodes a frame of person B and decodes it as person A, keeping B's pose, expression and
//! lighting.

pub mod adam;
pub mod conv;
pub mod data;
pub mod gan;
pub mod model;
pub mod model_swap;
pub mod register;
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
    Model(#[from] reel_runtime::ModelError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
}

impl reel_core::HasKind for SwapError {
    fn kind(&self) -> reel_core::Kind {
        use reel_core::Kind;
        match self {
            SwapError::Settings(_) => Kind::Usage,
            SwapError::Candle(_) => Kind::Other,
            SwapError::Io(e) => e.kind(),
            SwapError::Faceset(e) => e.kind(),
            SwapError::Model(e) => e.kind(),
            SwapError::Video(e) => e.kind(),
            SwapError::Output(e) => e.kind(),
        }
    }
}
