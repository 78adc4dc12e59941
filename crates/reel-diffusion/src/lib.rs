//! Generated video, laid out as diffusers lays it out, so that a reader who knows diffusers
//! finds each part where they expect it:
//!
//! - [`models`]: one network a file, weights read by their diffusers names (the umT5 text
//!   encoder, the Wan transformer, the Wan VAEs, the image encoder);
//! - [`schedulers`]: the noise schedules and their steps (UniPC multistep, flow-matching Euler);
//! - [`pipelines`]: text to video, image to video, and the clip operations built on them.
//!
//! The compute runs on candle, on `reel-runtime`'s device (the CPU, or CUDA with the `cuda`
//! feature), the same device layer the swap training uses.

pub mod error;
pub mod models;
pub mod ops;
pub mod pipelines;
pub mod schedulers;
pub mod weights;

pub use error::{DiffusionError, Result};
