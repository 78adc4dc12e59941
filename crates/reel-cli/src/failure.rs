//! Failures as the user sees them: a message and the kind that sets the exit code.

use std::fmt::Display;

use reel_core::{HasKind, Kind};

/// A command's failure: what went wrong, and its kind.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
}

pub type Result<T = ()> = std::result::Result<T, Failure>;

impl<E: HasKind + std::error::Error> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl Failure {
    pub fn new(kind: Kind, message: impl Display) -> Failure {
        Failure {
            kind,
            message: message.to_string(),
        }
    }

    /// A setting out of range, or arguments that do not fit together.
    pub fn usage(message: impl Display) -> Failure {
        Failure::new(Kind::Usage, message)
    }

    pub fn from_bench(e: reel_bench::BenchError) -> Failure {
        Failure::new(e.kind, e.message)
    }

    /// The exit code, as the README lists them.
    pub fn code(&self) -> u8 {
        match self.kind {
            Kind::Other => 1,
            Kind::Usage => 2,
            Kind::Input => 3,
            Kind::Setup => 4,
            Kind::Output => 5,
            Kind::Cancelled => 128 + reel_core::stop::signal().unwrap_or(2) as u8,
        }
    }

    pub fn hint(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Setup => Some(
                "run `bash scripts/setup.sh` (or `reel setup`, and `reel style train` for the film)",
            ),
            _ => None,
        }
    }
}
