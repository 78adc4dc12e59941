use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{0} does not exist")]
    NotFound(PathBuf),
    #[error(
        "`{program}` could not be started ({source}); install ffmpeg (Debian: apt-get install ffmpeg)"
    )]
    MissingTool {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("{path} is not a video or image reel can read: {detail}")]
    Unreadable { path: PathBuf, detail: String },
    #[error("{path} has no video stream")]
    NoVideo { path: PathBuf },
    #[error("{path} has no audio stream")]
    NoAudio { path: PathBuf },
    #[error("decoding {path} failed after {frames} frames: {detail}")]
    Decode {
        path: PathBuf,
        frames: u64,
        detail: String,
    },
    #[error("encoding {path} failed: {detail}")]
    Encode { path: PathBuf, detail: String },
    #[error("{path}: {detail}")]
    UnsupportedOutput { path: PathBuf, detail: String },
    #[error(transparent)]
    Io(#[from] reel_core::IoError),
    #[error(transparent)]
    Output(#[from] reel_core::output::OutputError),
}

impl reel_core::HasKind for VideoError {
    fn kind(&self) -> reel_core::Kind {
        use reel_core::Kind;
        match self {
            VideoError::NotFound(_)
            | VideoError::Unreadable { .. }
            | VideoError::NoVideo { .. }
            | VideoError::NoAudio { .. }
            | VideoError::Decode { .. } => Kind::Input,
            VideoError::MissingTool { .. } => Kind::Setup,
            VideoError::Encode { .. } | VideoError::Io(_) => Kind::Output,
            VideoError::Output(e) => e.kind(),
            VideoError::UnsupportedOutput { .. } => Kind::Usage,
        }
    }
}

/// The last lines ffmpeg wrote to stderr, which hold its reason for failing.
pub(crate) fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("Parsed_showinfo"))
        .collect();
    let start = lines.len().saturating_sub(3);
    let text = lines[start..].join(" | ");
    if text.is_empty() {
        "ffmpeg gave no reason".into()
    } else {
        text
    }
}

/// The line of ffmpeg's log saying that the input is damaged or cut short, if one does: ffmpeg
/// decodes what it can of such a file and exits 0. Only the demuxer's and decoder's own lines
/// count (the header names the file and its tags, which may say anything).
pub(crate) fn damage(log: &str) -> Option<&str> {
    log.lines().find(|l| {
        let l = l.trim_end();
        (l.starts_with('[') && l.ends_with(": partial file"))
            || (l.starts_with("Error while decoding")
                && l.ends_with("Invalid data found when processing input"))
    })
}
