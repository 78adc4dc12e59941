//! The networks, one a file, each reading its weights by the names diffusers gives them.

pub mod clip_vision;
pub mod layers;
pub mod umt5;
pub mod wan_transformer;
pub mod wan_vae;
