//! Whole generations: prompt encoding, the denoising loop with guidance, decoding to frames.

pub mod denoise;
pub mod prompt;
