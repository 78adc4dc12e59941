use reel_core::{HasKind, Kind};

/// Why a film could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FilmError {
    #[error(transparent)]
    Story(#[from] crate::StoryError),
    #[error(transparent)]
    Timeline(#[from] crate::timeline::TimelineError),
    #[error(transparent)]
    Video(#[from] reel_video::VideoError),
    #[error(transparent)]
    Music(#[from] reel_music::MusicError),
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    #[error("{0}")]
    Settings(String),
    /// Pictures of the story that cannot be read.
    #[error("{0}")]
    Picture(String),
    /// Listening (the microphone, the keyboard, the recogniser) failed during a live film.
    #[error("{0}")]
    Listening(String),
    #[error(transparent)]
    Cancelled(#[from] reel_core::Cancelled),
}

impl HasKind for FilmError {
    fn kind(&self) -> Kind {
        match self {
            FilmError::Story(_) | FilmError::Picture(_) => Kind::Input,
            FilmError::Timeline(_) | FilmError::Listening(_) => Kind::Other,
            FilmError::Video(e) => e.kind(),
            FilmError::Music(e) => e.kind(),
            FilmError::Output(e) => e.kind(),
            FilmError::Io(e) => e.kind(),
            FilmError::Settings(_) => Kind::Usage,
            FilmError::Cancelled(_) => Kind::Cancelled,
        }
    }
}
