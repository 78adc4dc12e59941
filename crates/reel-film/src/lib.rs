//! The AI-directed film: a story (scenes, decisions that listen to live piano, per-style
//! animation layers, endings) and the rules that turn the styles heard into decisions that do not
//! flap.

pub mod listen;
pub mod story;
pub mod timeline;

pub use listen::{Reading, StyleTracker};
pub use story::{Listening, Story, StoryError};
pub use timeline::{Timeline, plan};

pub use reel_music::Style;
