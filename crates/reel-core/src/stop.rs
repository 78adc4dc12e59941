//! Stopping on request (Ctrl-C, SIGTERM, a cancelled job): a process-wide flag that long work
//! checks between frames, so that it ends cleanly, removing its partial outputs.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

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

/// Asks running work to stop because of signal `signal` (SIGINT 2, SIGTERM 15), which sets the
/// exit code (128 + signal); true when it had been asked already.
pub fn request_by_signal(signal: i32) -> bool {
    let _ = SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    request()
}

/// The signal that asked work to stop, if one did.
pub fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Whether work has been asked to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Fails with [`Cancelled`] once a stop was requested.
pub fn check() -> Result<(), Cancelled> {
    if requested() { Err(Cancelled) } else { Ok(()) }
}
