//! Video (and audio) in and out through the `ffmpeg` and `ffprobe` programs.
//!
//! Frames stream through pipes as raw RGB: one frame in memory at a time, whatever the length of
//! the video. Decoding reports each frame's exact presentation time; encoding hands those times
//! back to ffmpeg inside a Matroska stream, so variable frame rate survives, and writes to a
//! temporary file that is renamed over the output only once it is complete.

mod audio;
pub mod capture;
mod conform;
mod decode;
mod encode;
mod error;
mod matroska;
mod probe;
mod process;
mod still;

pub use audio::{AudioReader, read_audio};
pub use conform::{Conform, ConformedReader, Fit, PictureKind};
pub use decode::{Decoder, Frame};
pub use encode::{Codec, Encoder, EncoderSettings};
pub use error::VideoError;
pub use probe::{Colour, MediaInfo, probe, probe_sound};

/// A presentation time as a count of time-base units: seconds = pts * num / den.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub pts: i64,
    pub num: i64,
    pub den: i64,
}

impl Timestamp {
    pub fn seconds(&self) -> f64 {
        self.pts as f64 * self.num as f64 / self.den as f64
    }

    /// The time in whole microseconds, the unit of the Matroska streams reel writes.
    pub fn micros(&self) -> i64 {
        ((self.pts as i128 * self.num as i128 * 1_000_000 + (self.den as i128 / 2))
            / self.den as i128) as i64
    }
}

/// A path as ffmpeg must be given it: one that starts with `-` (which ffmpeg would take for an
/// option) or names no folder before a `:` (which it would take for a protocol) is given as
/// `./path`.
pub fn input_arg(path: &std::path::Path) -> std::ffi::OsString {
    let text = path.as_os_str().to_string_lossy();
    let risky = text.starts_with('-')
        || text
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':'));
    if path.is_relative() && risky {
        std::path::Path::new(".").join(path).into_os_string()
    } else {
        path.as_os_str().to_os_string()
    }
}
