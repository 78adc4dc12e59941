//! reel's jobs for every front end. `command` checks a job asked for by name (options named as
//! on the command line, refused with the command line's messages) and runs it through the same
//! library calls and processor registry as the command line; `generation` the commands that
//! generate, with the model folder the front end was started with; `preview` renders one frame of an editing command at once, before and after; `film` plays the film's story from a recorded or live performance; `training` learns a face-swap model from clips of two people, telling its loss as it goes; `consent` is the check every swap makes first; `provenance` is what every job
//! puts on what it writes (watermark payload, signed credentials) and what a file says of
//! itself; `store` keeps media and jobs in SQLite under reel's data directory; `queue` runs the
//! stored jobs one at a time (or by a set number of workers), cancellable and retriable.

pub mod command;
pub mod consent;
pub mod film;
pub mod generation;
pub mod preview;
pub mod provenance;
pub mod queue;
pub mod store;
pub mod training;

use std::path::PathBuf;

use reel_core::{HasKind, Kind};

pub use queue::Queue;
pub use store::{Job, Media, MediaKind, State, Store};

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Settings(String),
    #[error("job store {path}: {detail}")]
    Database { path: PathBuf, detail: String },
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
    #[error(transparent)]
    Process(#[from] reel_process::ProcessError),
    #[error(transparent)]
    Clip(#[from] reel_clips::ClipError),
    #[error(transparent)]
    Credentials(#[from] reel_credentials::CredentialError),
    #[error(transparent)]
    Consent(#[from] reel_consent::ConsentError),
    #[error(transparent)]
    Generate(#[from] reel_generate::GenerateError),
    #[error(transparent)]
    Swap(#[from] reel_swap::SwapError),
    #[error(transparent)]
    Faceset(#[from] reel_faceset::FacesetError),
    #[error(transparent)]
    Film(#[from] reel_film::FilmError),
}

impl HasKind for JobError {
    fn kind(&self) -> Kind {
        match self {
            JobError::Settings(_) => Kind::Usage,
            JobError::Database { .. } => Kind::Output,
            JobError::Cancelled => Kind::Cancelled,
            JobError::Io(e) => e.kind(),
            JobError::Video(e) => e.kind(),
            JobError::Process(e) => e.kind(),
            JobError::Clip(e) => e.kind(),
            JobError::Credentials(e) => e.kind(),
            JobError::Consent(e) => e.kind(),
            JobError::Generate(e) => e.kind(),
            JobError::Swap(e) => e.kind(),
            JobError::Faceset(e) => e.kind(),
            JobError::Film(e) => e.kind(),
        }
    }
}
