//! The piano-style recogniser's training material and its learning: pieces gathered from
//! registry packages (MIDI, MusicXML scores, generated jazz, noise), rendered on two pianos with
//! human timing and room, transcribed as the recogniser hears them ([`corpus`]), and the
//! classifier trained and evaluated on pieces held out ([`learn`]). Nothing here runs when the
//! film listens; it makes the recogniser that does.

pub mod corpus;
pub mod figuration;
pub mod jazz;
pub mod learn;
pub mod sampler;
