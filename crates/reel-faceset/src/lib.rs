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
    #[error("interrupted; nothing was written")]
    Cancelled,
    /// Stopped on request after keeping some faces, which stay in the set.
    #[error("interrupted after keeping {kept} faces in {} (they stay; run again to go on)", set.display())]
    Interrupted { kept: u64, set: std::path::PathBuf },
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
    #[error("{} is not a face set (a folder made by `reel faceset extract`)", .0.display())]
    NotASet(std::path::PathBuf),
}

impl reel_core::HasKind for FacesetError {
    fn kind(&self) -> reel_core::Kind {
        use reel_core::Kind;
        match self {
            FacesetError::Settings(_) => Kind::Usage,
            FacesetError::Cancelled | FacesetError::Interrupted { .. } => Kind::Cancelled,
            FacesetError::Model(e) => e.kind(),
            FacesetError::Video(e) => e.kind(),
            FacesetError::Io(e) => e.kind(),
            FacesetError::Output(e) => e.kind(),
            FacesetError::BadRecord { .. } => Kind::Other,
            FacesetError::NotASet(_) => Kind::Input,
        }
    }
}
