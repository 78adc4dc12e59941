//! The watermark as a processor: a whole-frame step at the end of every chain, faces or not.

use reel_face::Face;
use reel_image::Image;
use reel_watermark::Embedder;

use crate::{FrameProcessor, ProcessError};

pub struct Watermark(Embedder);

impl Watermark {
    pub fn new(payload: u64) -> Watermark {
        Watermark(Embedder::new(payload))
    }
}

impl FrameProcessor for Watermark {
    fn name(&self) -> &'static str {
        "watermark"
    }

    fn needs_faces(&self) -> bool {
        false
    }

    fn process(&mut self, frame: &mut Image, _faces: &[&Face]) -> Result<(), ProcessError> {
        self.0.mark(frame);
        Ok(())
    }
}
