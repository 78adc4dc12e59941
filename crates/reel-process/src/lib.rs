//! Frame processors: each takes a frame and its analysed faces and edits the frame in place. The
//! beauty fix, retouch de-aging and the face swap all implement [`FrameProcessor`]; a [`Chain`]
//! runs several in one pass, and [`pipeline`] streams a video through a chain, audio kept.

pub mod beauty;
pub mod blend;
pub mod color;
pub mod deage;
pub mod pipeline;
pub mod reshape;
pub mod retouch;
pub mod select;
pub mod swap;

use reel_face::Face;
use reel_image::Image;

pub use beauty::{Beauty, BeautySettings};
pub use deage::{Deage, DeageSettings};
pub use select::FaceSelection;
pub use swap::PhotoSwap;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{0}")]
    Settings(String),
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Model(#[from] reel_models::ModelError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
}

/// One step of frame editing.
pub trait FrameProcessor: Send {
    fn name(&self) -> &'static str;
    /// Edits `frame` for the faces chosen in it (already analysed, landmarks smoothed).
    fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError>;
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

    pub fn then(mut self, step: impl FrameProcessor + 'static) -> Chain {
        self.steps.push(Box::new(step));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.name()).collect()
    }

    pub fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError> {
        if faces.is_empty() {
            return Ok(());
        }
        for step in &mut self.steps {
            step.process(frame, faces)?;
        }
        Ok(())
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
