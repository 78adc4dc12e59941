//! The AI-directed film: a story (scenes, decisions that listen to live piano, per-style
//! animation layers, endings), the rules that turn the styles heard into decisions that do not
//! flap ([`listen`], [`timeline`]), and the film itself: drawn frame by frame ([`compose`]),
//! rendered from a recorded performance ([`render`]) or played live ([`live`]).

pub mod compose;
mod error;
pub mod listen;
pub mod live;
pub mod render;
pub mod story;
pub mod timeline;

pub use error::FilmError;
pub use listen::{Listening, Reading, StyleTracker};
pub use story::{Story, StoryError};
pub use timeline::{Timeline, plan};

pub use reel_music::Style;
