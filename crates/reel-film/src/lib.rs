//! The AI-directed film: a story (scenes, decisions that listen to live piano, per-style
//! animation layers, endings) and the rules that turn the styles heard into decisions that do not
//! flap.

pub mod listen;
pub mod story;

pub use listen::{Reading, StyleTracker};
pub use story::{Listening, Story, StoryError};

/// The piano styles the film tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Style {
    Baroque,
    Classical,
    Ragtime,
    Jazz,
}

impl Style {
    pub const ALL: [Style; 4] = [
        Style::Baroque,
        Style::Classical,
        Style::Ragtime,
        Style::Jazz,
    ];
    pub const NAMES: [&'static str; 4] = ["baroque", "classical", "ragtime", "jazz"];

    pub fn parse(name: &str) -> Option<Style> {
        Style::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Style::ALL[i])
    }

    pub fn name(self) -> &'static str {
        Style::NAMES[self as usize]
    }
}
