//! Whole generations: prompt encoding, the denoising loop with guidance, decoding to frames.

pub mod denoise;
pub mod memory;
pub mod noise;
pub mod prompt;
pub mod text_to_video;
