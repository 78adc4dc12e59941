//! Content credentials (C2PA) for everything reel writes. [`identity`] keeps the signing key
//! and certificates (a local root and its end-entity signer, made on first use, or an
//! organisation's own); [`manifest`] says what a job did and signs that into a finished file
//! (the output layer's [`reel_core::output::Seal`]); [`read`] reads a file's credentials back
//! and validates them.

pub mod identity;
pub mod manifest;
pub mod read;

use std::path::PathBuf;

use reel_core::{HasKind, Kind};

pub use identity::Identity;
pub use manifest::{Credentials, Sealer, SourceType};
pub use read::{Report, State};

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("signing identity: {0}")]
    Identity(String),
    #[error("{path}: could not sign its content credentials: {detail}")]
    Sign { path: PathBuf, detail: String },
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
}

impl HasKind for CredentialError {
    fn kind(&self) -> Kind {
        match self {
            CredentialError::Identity(_) => Kind::Usage,
            CredentialError::Sign { .. } | CredentialError::Io(_) => Kind::Output,
            CredentialError::Output(e) => e.kind(),
        }
    }
}

/// The C2PA format name for a file name's extension, where C2PA has a place for a manifest.
pub fn format_for(name: &std::path::Path) -> Option<&'static str> {
    let ext = name.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "webp" => "image/webp",
        "tif" | "tiff" => "image/tiff",
        "avi" => "video/avi",
        _ => return None,
    })
}
