//! Exit codes that tell scripts what went wrong.

use reel_models::ModelError;
use reel_video::VideoError;

/// The kind of failure, each with its own exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 1: anything not listed below.
    Other,
    /// 2: a setting out of range or arguments that do not fit together.
    Usage,
    /// 3: the input is missing or cannot be read.
    Input,
    /// 4: models, ONNX Runtime or ffmpeg are not installed.
    Setup,
    /// 5: the output cannot be written.
    Output,
    /// 130: stopped by Ctrl-C (outputs not written).
    Interrupted,
}

/// An error in what the user asked for (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl Failure {
    pub fn classify(e: &anyhow::Error) -> Failure {
        for cause in e.chain() {
            if cause
                .downcast_ref::<crate::interrupt::Interrupted>()
                .is_some()
            {
                return Failure::Interrupted;
            }
            if cause.downcast_ref::<UsageError>().is_some() {
                return Failure::Usage;
            }
            if let Some(v) = cause.downcast_ref::<VideoError>() {
                return match v {
                    VideoError::NotFound(_)
                    | VideoError::Unreadable { .. }
                    | VideoError::NoVideo { .. }
                    | VideoError::NoAudio { .. }
                    | VideoError::Decode { .. } => Failure::Input,
                    VideoError::MissingTool { .. } => Failure::Setup,
                    VideoError::Encode { .. } | VideoError::Io { .. } => Failure::Output,
                };
            }
            match cause.downcast_ref::<reel_music::MusicError>() {
                Some(reel_music::MusicError::Midi { .. }) => return Failure::Input,
                Some(reel_music::MusicError::Recogniser { .. }) => return Failure::Setup,
                _ => {}
            }
            if cause.downcast_ref::<reel_film::StoryError>().is_some() {
                return Failure::Input;
            }
            if let Some(reel_faceset::FacesetError::Io { .. }) =
                cause.downcast_ref::<reel_faceset::FacesetError>()
            {
                return Failure::Output;
            }
            if let Some(m) = cause.downcast_ref::<ModelError>() {
                return match m {
                    ModelError::Missing { .. }
                    | ModelError::Checksum { .. }
                    | ModelError::Install(_) => Failure::Setup,
                    _ => Failure::Other,
                };
            }
        }
        Failure::Other
    }

    pub fn code(self) -> u8 {
        match self {
            Failure::Other => 1,
            Failure::Usage => 2,
            Failure::Input => 3,
            Failure::Setup => 4,
            Failure::Output => 5,
            Failure::Interrupted => 130,
        }
    }

    pub fn hint(self) -> Option<&'static str> {
        match self {
            Failure::Setup => Some(
                "run `bash scripts/setup.sh` (or `reel setup`, and `reel style train` for the film)",
            ),
            _ => None,
        }
    }
}
