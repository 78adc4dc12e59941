//! Whole generations: prompt (and image) encoding, the denoising loop with guidance, decoding
//! to frames.

pub mod denoise;
pub mod image;
pub mod memory;
pub mod noise;
pub mod prompt;
pub mod wan;
