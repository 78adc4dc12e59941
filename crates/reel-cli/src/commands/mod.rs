//! One file a command family: each parses its arguments, makes one library call, and prints.

pub mod bench;
pub mod clips;
pub mod consent;
pub mod edit;
pub mod faces;
pub mod faceset;
pub mod film;
pub mod generate;
pub mod generated_clips;
pub mod music;
pub mod provenance;
pub mod setup;
pub mod studio;
pub mod style;
pub mod train;
