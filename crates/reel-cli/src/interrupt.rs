//! Ctrl-C and SIGTERM ask the job to stop between frames, so that temporary outputs are removed
//! on the way out instead of being left behind; a second one ends the process at once.

pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if reel_core::stop::request() {
            std::process::exit(130);
        }
    });
}
