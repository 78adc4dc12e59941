//! Frames in memory: an RGB image type, 2-D affine transforms, warps into model input tensors and
//! aligned crops, and simple drawing for previews.

pub mod blur;
pub mod color;
mod draw;
mod geometry;
pub mod png;
pub mod resize;
mod warp;

pub use draw::{CAPTION_GLYPH, Canvas, GLYPH_HEIGHT, caption_width};
pub use geometry::{Affine, Point, for_each_in_triangle};
pub use warp::{Border, TensorSpec, sample, warp_rgb, warp_to_tensor};

/// An 8-bit RGB image, rows top to bottom, pixels interleaved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Image {
    pub fn new(width: usize, height: usize) -> Image {
        Image {
            width,
            height,
            data: vec![0; width * height * 3],
        }
    }

    /// Resizes the buffer for a new frame size, keeping the allocation where possible.
    pub fn reshape(&mut self, width: usize, height: usize) {
        self.width = width;
        self.height = height;
        self.data.resize(width * height * 3, 0);
    }

    #[inline]
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Luma (BT.601) as floats, the usual input for sharpness and texture measures.
    pub fn luma_at(&self, x: usize, y: usize) -> f32 {
        let [r, g, b] = self.pixel(x, y);
        0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32
    }
}
