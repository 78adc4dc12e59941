//! The watermark on its own: marking a file made elsewhere (`reel mark`), and reading the mark
//! back from any file (`reel verify`).

use std::path::Path;
use std::sync::Arc;

use reel_core::output::Seal;
use reel_video::{Codec, Decoder, Frame};
use reel_watermark::{Detection, Detector, Marker};

use crate::ProcessError;
use crate::pipeline::{self, Report};

/// Frames read when looking for the mark: the mark is the same on every frame, so a few
/// seconds settle it, and a long file is not read to its end.
pub const FRAMES_READ: usize = 120;

/// Marks every frame of `input` into `output` (audio and timing kept, signed by `seal`).
pub fn mark_file(
    input: &Path,
    output: &Path,
    codec: Codec,
    crf: u8,
    seal: Option<Arc<dyn Seal>>,
    mut marker: Marker,
    progress: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<Report, ProcessError> {
    let mark = |frame: &mut Frame| {
        if reel_core::stop::requested() {
            return Err(ProcessError::Cancelled);
        }
        let seconds = frame.seconds();
        marker.mark(&mut frame.image, seconds);
        Ok(true)
    };
    pipeline::stream(input, output, codec, crf, seal, mark, progress)
}

/// Looks for the mark in the first [`FRAMES_READ`] frames of `input`.
pub fn read_watermark(input: &Path) -> Result<Detection, ProcessError> {
    let mut decoder = Decoder::open(input)?;
    let mut frame = Frame::default();
    let mut detector = Detector::new();
    while detector.frames() < FRAMES_READ && decoder.next_frame(&mut frame)? {
        if !detector.add(&frame.image) {
            break;
        }
        if reel_core::stop::requested() {
            return Err(ProcessError::Cancelled);
        }
    }
    Ok(detector.detect())
}
