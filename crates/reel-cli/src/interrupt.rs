//! Ctrl-C (SIGINT) and SIGTERM ask the job to stop between frames, so that temporary outputs
//! and child processes are removed on the way out instead of being left behind; the exit code
//! then says which signal it was (130, 143). A second signal ends the process at once.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

pub fn install() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if reel_core::stop::request_by_signal(signal) {
                std::process::exit(128 + signal);
            }
        }
    });
}
