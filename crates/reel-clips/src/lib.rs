//! Working with clips without a generative model: trimming, concatenating, joining with
//! transitions (a face-aware morph among them), retiming by optical flow.
//!
//! Every operation is frame-exact: it knows which source frame becomes which output frame,
//! and lays the sound under the frames from the same times, so picture and sound stay in
//! step across every join.

mod error;
pub mod flow;
pub mod interpolate;
pub mod join;
pub mod morph;
pub mod retime;
pub mod settings;
pub mod soundtrack;
pub mod transition;
pub mod trim;

use std::path::PathBuf;
use std::sync::Arc;

pub use error::ClipError;
pub use join::{JoinReport, JoinSettings, join};
pub use retime::{Method, RetimeReport, RetimeSettings, retime};
pub use transition::Transition;
pub use trim::{Point, TrimReport, trim};

use reel_core::output::Seal;
use reel_video::Codec;

/// Where and how an operation writes its result.
#[derive(Clone)]
pub struct Output {
    pub path: PathBuf,
    pub codec: Codec,
    /// H.264/H.265 quality.
    pub crf: u8,
    /// Labels the finished file before it takes its name.
    pub seal: Option<Arc<dyn Seal>>,
}

/// A frame rate as people write it: `25`, `29.97`.
pub fn rate_text(rate: (i64, i64)) -> String {
    let fps = rate.0 as f64 / rate.1.max(1) as f64;
    if (fps - fps.round()).abs() < 1e-9 {
        format!("{}", fps.round())
    } else {
        format!("{fps:.3}").trim_end_matches('0').to_string()
    }
}
