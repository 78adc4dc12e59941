//! The watermark (and the visible label, when asked for) as a processor: a whole-frame step at
//! the end of every chain, faces or not.

use reel_face::Face;
use reel_image::Image;
use reel_watermark::Marker;

use crate::{FrameProcessor, ProcessError};

pub struct Watermark {
    marker: Marker,
    seconds: f64,
}

impl Watermark {
    pub fn new(marker: Marker) -> Watermark {
        Watermark {
            marker,
            seconds: 0.0,
        }
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
        self.marker.mark(frame, self.seconds);
        Ok(())
    }

    fn frame_time(&mut self, seconds: f64) {
        self.seconds = seconds;
    }
}
