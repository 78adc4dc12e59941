//! Stopping on request (Ctrl-C, SIGTERM, a cancelled job): a process-wide flag that long work
//! checks between frames, so that it ends cleanly, removing its partial outputs.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The work was stopped before it finished; nothing was written.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("interrupted; nothing was written")]
pub struct Cancelled;

impl crate::HasKind for Cancelled {
    fn kind(&self) -> crate::Kind {
        crate::Kind::Cancelled
    }
}

/// Asks running work to stop; true when it had been asked already.
pub fn request() -> bool {
    REQUESTED.swap(true, Ordering::SeqCst)
}

/// Whether work has been asked to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Fails with [`Cancelled`] once a stop was requested.
pub fn check() -> Result<(), Cancelled> {
    if requested() { Err(Cancelled) } else { Ok(()) }
}
