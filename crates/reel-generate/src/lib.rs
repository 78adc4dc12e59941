//! Generated video with a Wan model folder opened once (`engine`): text or an image to video
//! (or a seamless loop), and clips from real footage: a clip restyled (video to video in
//! overlapping windows), extended forward or backward (image to video from its last or first frame), or
//! two clips bridged by a generated passage (first-and-last-frame conditioning), with the Wan
//! pipelines of `reel-diffusion`, read from and written to video by `reel-video` and joined by
//! `reel-clips`; and part of a still animated (a clicked region moves, the rest held).
//!
//! New frames take the clip's size and frame rate: the clip's frames are resized to the size
//! generated at (by default the clip's shape in the model's multiples) and what is made is
//! resized back, so a join needs no conforming and shows no seam of scale.

mod animate;
mod bridge;
pub mod engine;
mod error;
mod extend;
pub mod frames;
pub mod region;
mod restyle;
mod scratch;
mod video;
pub mod windows;

pub use animate::{AnimateReport, AnimateSettings, animate};
pub use bridge::{BridgeReport, BridgeSettings, bridge};
pub use engine::{Engine, EngineSettings};
pub use error::GenerateError;
pub use extend::{Direction, ExtendReport, ExtendSettings, extend, frames_for_seconds};
pub use frames::{Event, Fraction, render, size_like};
pub use restyle::{RestyleReport, RestyleSettings, restyle};
pub use video::{VideoReport, VideoSettings, model_frames, video, video_task};
