//! Progress bars with frames per second and time left, on stderr, silent with --quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub fn frames(total: Option<u64>, what: &str, quiet: bool) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = if total.is_some() {
        "{msg:>10} [{bar:30}] {pos}/{len} frames  {per_sec}  eta {eta}"
    } else {
        "{msg:>10} {spinner} {pos} frames  {per_sec}"
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Moves the bar to `done` frames of `total` (learnt once the job knows it); false once a stop
/// was requested, which the job takes as its cue to stop.
pub fn advance(bar: &ProgressBar, done: u64, total: Option<u64>) -> bool {
    if let Some(t) = total
        && bar.length() != Some(t)
    {
        bar.set_length(t);
    }
    bar.set_position(done);
    !reel_core::stop::requested()
}
