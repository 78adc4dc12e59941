//! Kinds of failure. Every reel error answers [`HasKind::kind`], so that a front end (the command
//! line's exit codes, the studio's HTTP statuses) can tell them apart without knowing the error
//! types of every crate.

/// What went wrong, as a user would act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A setting out of range, or arguments that do not fit together.
    Usage,
    /// An input is missing or cannot be read.
    Input,
    /// Models, ONNX Runtime or a program reel runs are not installed.
    Setup,
    /// An output cannot be written.
    Output,
    /// The work was stopped on request.
    Cancelled,
    /// Anything else.
    Other,
}

/// An error that knows its kind.
pub trait HasKind {
    fn kind(&self) -> Kind;
}

/// A failed file operation, with what reel was doing.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct IoError {
    pub context: String,
    pub source: std::io::Error,
}

/// Wraps an `std::io::Error` with what was being done: `.map_err(io("reading x"))`.
pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> IoError {
    let context = context.into();
    move |source| IoError { context, source }
}

impl HasKind for IoError {
    /// Output, unless the file reel was after is simply not there.
    fn kind(&self) -> Kind {
        match self.source.kind() {
            std::io::ErrorKind::NotFound => Kind::Input,
            _ => Kind::Output,
        }
    }
}

impl HasKind for std::io::Error {
    fn kind(&self) -> Kind {
        Kind::Output
    }
}

impl HasKind for serde_json::Error {
    fn kind(&self) -> Kind {
        Kind::Other
    }
}
