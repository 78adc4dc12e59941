//! Where reel's networks run. The pretrained models (converted in memory by `reel-convert`) run
//! in ONNX Runtime sessions ([`Net`]), from the shared library `reel setup` installed; the
//! networks reel trains itself run on a compute [`device`] (the CPU, or an NVIDIA GPU when built
//! with the `cuda` feature). The `cuda` feature lives here and nowhere else.

pub mod device;
pub mod kernels;
mod session;

pub use reel_convert::dlib::InputSpec;
pub use session::{Net, Output, face_recognition};

use reel_core::{HasKind, Kind};

/// A model that could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Asset(#[from] reel_assets::AssetError),
    #[error(transparent)]
    Format(#[from] reel_convert::ConvertError),
    /// ONNX Runtime's library is missing or would not load.
    #[error("ONNX Runtime: {0}")]
    Library(String),
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
}

impl HasKind for ModelError {
    fn kind(&self) -> Kind {
        match self {
            ModelError::Asset(e) => e.kind(),
            ModelError::Format(e) => e.kind(),
            ModelError::Library(_) => Kind::Setup,
            ModelError::Runtime(_) => Kind::Other,
        }
    }
}
