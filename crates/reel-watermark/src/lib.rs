//! reel's invisible watermark. A 64-bit payload (with a CRC-32 and a convolutional code) rides on
//! a tile of 32 x 32 pseudo-random chips repeated over the whole frame and added to its luma at
//! one even strength. Reading it back needs no original: the tile's repetition
//! gives away its scale, a fixed synchronisation share its position, so the mark survives
//! re-encoding, downscaling, cropping and brightness changes; a video's frames are summed.
//!
//! The visible label that may go with it (`--label`) is drawn here too, under the mark.
//!
//! A payload is only reported when its CRC holds, which noise passes once in 2^32 tries; a
//! search tries at most 3 periods x 8 phases x 16 decoded paths (384), so an unmarked file is
//! called marked less than once in 10^7.

pub mod code;
mod detect;
mod disclosure;
mod embed;
pub mod pattern;

pub use detect::{Detection, Detector};
pub use disclosure::{Disclosure, LABELLED_SECONDS, Marker};
pub use embed::{DEFAULT_STRENGTH, Embedder, period};

/// Searches one image (a still, or a single frame).
pub fn detect_image(image: &reel_image::Image) -> Detection {
    let mut detector = Detector::new();
    detector.add(image);
    detector.detect()
}
