//! Frame processors: each takes a frame and its analysed faces and edits the frame in place. The
//! beauty fix, retouch de-aging and the photo swap all implement [`FrameProcessor`]; a [`Chain`]
//! runs several in one pass, and [`pipeline`] streams a video through a chain, audio kept. The
//! [`registry`] builds processors by name from their settings, the same way for the command line,
//! the studio and story files. [`analyze`] is the face-analysis job (faces JSON and preview).

pub mod analyze;
pub mod beauty;
pub mod blend;
pub mod color;
pub mod deage;
pub mod grain;
pub mod marking;
pub mod photo_swap;
pub mod pipeline;
pub mod registry;
pub mod reshape;
pub mod retouch;
pub mod select;
pub mod steady;
pub mod watermark;

use reel_face::{Face, Mask};
use reel_image::Image;

pub use beauty::{Beauty, BeautySettings};
pub use deage::{Deage, DeageSettings};
pub use photo_swap::PhotoSwap;
pub use registry::{Options, Registry};
pub use select::FaceSelection;
pub use watermark::Watermark;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{0}")]
    Settings(String),
    #[error("interrupted; nothing was written")]
    Cancelled,
    #[error(transparent)]
    Model(#[from] reel_runtime::ModelError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
    /// A processor from another crate (the model swap) failed in its own way.
    #[error("{message}")]
    Other {
        message: String,
        kind: reel_core::Kind,
    },
}

impl reel_core::HasKind for ProcessError {
    fn kind(&self) -> reel_core::Kind {
        use reel_core::Kind;
        match self {
            ProcessError::Settings(_) => Kind::Usage,
            ProcessError::Cancelled => Kind::Cancelled,
            ProcessError::Model(e) => e.kind(),
            ProcessError::Video(e) => e.kind(),
            ProcessError::Output(e) => e.kind(),
            ProcessError::Other { kind, .. } => *kind,
        }
    }
}

/// One step of frame editing: FaceFusion's processor contract, in Rust.
pub trait FrameProcessor: Send {
    fn name(&self) -> &'static str;
    /// Whether the processor works on faces (and so has nothing to do on a frame without any),
    /// or on the whole frame (a watermark, a grade, a generated layer), faces or not.
    fn needs_faces(&self) -> bool {
        true
    }
    /// Edits `frame` for the faces chosen in it (already analysed, landmarks smoothed); a
    /// whole-frame processor is called on every frame, with whatever faces it has.
    fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError>;
    /// Told the time of the frame it is about to process, in seconds from the video's start
    /// (a still is at 0), for steps that differ over time.
    fn frame_time(&mut self, _seconds: f64) {}
}

/// Processors applied one after the other to every frame.
#[derive(Default)]
pub struct Chain {
    steps: Vec<Box<dyn FrameProcessor>>,
}

impl Chain {
    pub fn new() -> Chain {
        Chain::default()
    }

    pub fn then(self, step: impl FrameProcessor + 'static) -> Chain {
        self.then_boxed(Box::new(step))
    }

    pub fn then_boxed(mut self, step: Box<dyn FrameProcessor>) -> Chain {
        self.steps.push(step);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.name()).collect()
    }

    /// Tells every step the time of the frame to come.
    pub fn at_time(&mut self, seconds: f64) {
        for step in &mut self.steps {
            step.frame_time(seconds);
        }
    }

    /// Runs every step on the frame: face processors where the frame has faces, whole-frame
    /// processors always.
    /// What is in front of a face (a hand held to it) is put back as it was after every face
    /// step, so no face processor paints over it.
    pub fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError> {
        let mut kept: Vec<(&Mask, Vec<u8>)> = faces
            .iter()
            .filter_map(|f| f.occlusion.as_ref())
            .map(|m| (m, region(frame, m)))
            .collect();
        for step in &mut self.steps {
            if faces.is_empty() && step.needs_faces() {
                continue;
            }
            step.process(frame, faces)?;
            if step.needs_faces() {
                for (mask, pixels) in &kept {
                    put_back(frame, mask, pixels);
                }
            } else {
                // A whole-frame step (a grade) belongs to the hand too: keep what it made.
                for (mask, pixels) in kept.iter_mut() {
                    *pixels = region(frame, mask);
                }
            }
        }
        Ok(())
    }
}

/// The frame's pixels under a mask's rectangle (clipped to the frame), row by row.
fn region(frame: &Image, mask: &Mask) -> Vec<u8> {
    if mask.x0 >= frame.width {
        return Vec::new();
    }
    let x1 = (mask.x0 + mask.width).min(frame.width);
    let y1 = (mask.y0 + mask.height).min(frame.height);
    let mut out = Vec::with_capacity(x1.saturating_sub(mask.x0) * y1.saturating_sub(mask.y0) * 3);
    for y in mask.y0..y1 {
        out.extend_from_slice(
            &frame.data[(y * frame.width + mask.x0) * 3..(y * frame.width + x1) * 3],
        );
    }
    out
}

/// Blends the kept pixels back in by the mask's coverage (exactly where it is 1).
fn put_back(frame: &mut Image, mask: &Mask, kept: &[u8]) {
    if mask.x0 >= frame.width {
        return;
    }
    let x1 = (mask.x0 + mask.width).min(frame.width);
    let y1 = (mask.y0 + mask.height).min(frame.height);
    let row_len = x1.saturating_sub(mask.x0);
    for (r, y) in (mask.y0..y1).enumerate() {
        let coverage = &mask.data[r * mask.width..r * mask.width + row_len];
        let old = &kept[r * row_len * 3..(r + 1) * row_len * 3];
        let row = &mut frame.data[(y * frame.width + mask.x0) * 3..(y * frame.width + x1) * 3];
        for ((px, was), &m) in row
            .chunks_exact_mut(3)
            .zip(old.chunks_exact(3))
            .zip(coverage)
        {
            if m >= 1.0 {
                px.copy_from_slice(was);
            } else if m > 0.0 {
                for (v, &o) in px.iter_mut().zip(was) {
                    *v = (f32::from(o) * m + f32::from(*v) * (1.0 - m)).round() as u8;
                }
            }
        }
    }
}

/// A face's size in pixels: the longer side of its landmark box.
pub fn face_size(face: &Face) -> f32 {
    face.bbox[2].max(face.bbox[3])
}

/// Checks that a setting lies in [lo, hi].
pub fn check_range(name: &str, value: f32, lo: f32, hi: f32) -> Result<(), ProcessError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ProcessError::Settings(format!(
            "{name} must be between {lo} and {hi}, not {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole-frame step: turns the frame negative.
    struct Negative;

    impl FrameProcessor for Negative {
        fn name(&self) -> &'static str {
            "negative"
        }
        fn needs_faces(&self) -> bool {
            false
        }
        fn process(&mut self, frame: &mut Image, _: &[&Face]) -> Result<(), ProcessError> {
            frame.data.iter_mut().for_each(|v| *v = 255 - *v);
            Ok(())
        }
    }

    #[test]
    fn whole_frame_steps_run_on_faceless_frames_and_face_steps_do_not() {
        let beauty = Beauty::new(BeautySettings::default()).unwrap();
        let mut chain = Chain::new().then(beauty).then(Negative);
        let mut frame = Image::new(8, 8);
        frame.data.fill(10);
        chain.process(&mut frame, &[]).unwrap();
        assert!(frame.data.iter().all(|&v| v == 245));
        assert!(chain.steps[0].needs_faces());
    }
}
