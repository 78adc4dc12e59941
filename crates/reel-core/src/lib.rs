//! What every reel crate shares, at the bottom of the graph: the kinds of failure that decide an
//! exit code ([`Kind`]), one I/O error with its context ([`IoError`]), the output layer that every
//! file reel writes goes through ([`output`]), streaming JSON ([`sink`]), stopping on request
//! ([`stop`]), and where reel keeps its caches and the user's data ([`dirs`]).

pub mod dirs;
mod kind;
pub mod output;
pub mod sink;
pub mod stop;

pub use kind::{HasKind, IoError, Kind, io};
pub use stop::Cancelled;
