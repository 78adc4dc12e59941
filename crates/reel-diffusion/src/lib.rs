//! Generated video, laid out as diffusers lays it out, so that a reader who knows diffusers
//! finds each part where they expect it:
//!
//! - [`models`]: one network a file, weights read by their diffusers names (the umT5 text
//!   encoder, the Wan transformer, the Wan VAEs, the image encoder);
//! - [`schedulers`]: the noise schedules and their steps (UniPC multistep, flow-matching Euler);
//! - [`pipelines`]: text to video, image to video, and the clip operations built on them.
//!
//! The compute runs on `reel-runtime`'s device layer, which the swap training shares. Nothing
//! is built here yet: this crate fixes where the engine goes.

pub mod models;
pub mod pipelines;
pub mod schedulers;
