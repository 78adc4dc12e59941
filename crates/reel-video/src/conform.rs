//! Pictures conformed to one frame size and rate: a video, a numbered image sequence or a still,
//! scaled to fit (letterboxed, aspect kept) and resampled to a fixed frame rate by ffmpeg, with
//! or without alpha, optionally looping for ever. This is how the film's scenes and animation
//! layers, made at any size and rate, become frames of one output.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::VideoError;
use crate::process::{StderrTail, spawn};

/// What kind of picture a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PictureKind {
    Video,
    /// A printf-style pattern of numbered images.
    Sequence,
    Still,
}

/// How a picture of another shape is fitted into the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fit {
    /// Whole, with bars (black, or transparent with alpha) where the shapes differ.
    #[default]
    Pad,
    /// Filling the frame, cropped at its centre.
    Crop,
}

/// The frames a picture is conformed to.
#[derive(Clone, Copy, Debug)]
pub struct Conform {
    pub width: usize,
    pub height: usize,
    /// Frames a second, as a fraction.
    pub rate: (i64, i64),
    pub fit: Fit,
    /// RGBA frames (transparent where padded) instead of RGB.
    pub alpha: bool,
    /// Starts the picture again at its end.
    pub looped: bool,
}

impl Conform {
    /// `width` x `height` RGB at `fps`, padded, played once.
    pub fn new(width: usize, height: usize, fps: u32) -> Conform {
        Conform {
            width,
            height,
            rate: (fps as i64, 1),
            fit: Fit::Pad,
            alpha: false,
            looped: false,
        }
    }
}

/// Frames of one picture at a fixed size and rate, RGB or RGBA.
pub struct ConformedReader {
    path: PathBuf,
    child: Child,
    stdout: ChildStdout,
    stderr: StderrTail,
    frame_bytes: usize,
    read: u64,
    /// A still's one frame, decoded once and given for ever.
    still: Option<Vec<u8>>,
}

impl ConformedReader {
    /// Starts reading `path` conformed to `to`. A still gives the same frame for ever.
    pub fn open(
        path: &Path,
        kind: PictureKind,
        to: &Conform,
    ) -> Result<ConformedReader, VideoError> {
        let Conform {
            width,
            height,
            alpha,
            looped,
            ..
        } = *to;
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]);
        let rate = format!("{}/{}", to.rate.0.max(1), to.rate.1.max(1));
        match kind {
            // One frame, decoded once: a still ffmpeg cannot decode then fails at once instead
            // of looping on nothing.
            PictureKind::Still => {
                cmd.args(["-framerate", &rate]);
            }
            PictureKind::Sequence => {
                if looped {
                    cmd.args(["-stream_loop", "-1"]);
                }
                cmd.args(["-framerate", &rate, "-f", "image2"]);
            }
            PictureKind::Video => {
                if looped {
                    cmd.args(["-stream_loop", "-1"]);
                }
            }
        }
        cmd.arg("-i").arg(crate::input_arg(path));
        let (format, pad) = if alpha {
            ("rgba", "black@0")
        } else {
            ("rgb24", "black")
        };
        let fit = match to.fit {
            Fit::Pad => format!(
                "scale={width}:{height}:force_original_aspect_ratio=decrease,format={format},pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color={pad}"
            ),
            Fit::Crop => format!(
                "scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},format={format}"
            ),
        };
        let filter = format!("fps={rate},{fit},setsar=1");
        cmd.args(["-an", "-vf", &filter]);
        if kind == PictureKind::Still {
            cmd.args(["-frames:v", "1"]);
        }
        cmd.args(["-f", "rawvideo", "-pix_fmt", format, "pipe:1"]);
        let mut child = spawn(
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            "ffmpeg",
        )?;
        let stderr = StderrTail::drain(child.stderr.take().expect("stderr is piped"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut reader = ConformedReader {
            path: path.to_path_buf(),
            child,
            stdout,
            stderr,
            frame_bytes: width * height * if alpha { 4 } else { 3 },
            read: 0,
            still: None,
        };
        if kind == PictureKind::Still {
            let mut frame = Vec::new();
            if !reader.next_frame(&mut frame)? {
                return Err(reader.failure("no picture".into()));
            }
            reader.still = Some(frame);
        }
        Ok(reader)
    }

    /// Fills `frame` with the next frame; false when the picture has ended.
    pub fn next_frame(&mut self, frame: &mut Vec<u8>) -> Result<bool, VideoError> {
        if let Some(still) = &self.still {
            frame.clear();
            frame.extend_from_slice(still);
            return Ok(true);
        }
        frame.resize(self.frame_bytes, 0);
        let mut filled = 0;
        while filled < self.frame_bytes {
            match self.stdout.read(&mut frame[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.failure(e.to_string())),
            }
        }
        if filled == 0 {
            let status = self.child.wait().map_err(|e| self.failure(e.to_string()))?;
            let log = self.stderr.join();
            if !status.success() || self.read == 0 {
                return Err(self.failure(if log.is_empty() {
                    "no frames".into()
                } else {
                    log
                }));
            }
            if let Some(line) = crate::error::damage(&log) {
                let detail = format!("the file is damaged or cut short: {}", line.trim());
                return Err(self.failure(detail));
            }
            return Ok(false);
        }
        if filled < self.frame_bytes {
            return Err(self.failure("the last frame was cut short".into()));
        }
        self.read += 1;
        Ok(true)
    }

    fn failure(&mut self, detail: String) -> VideoError {
        VideoError::Decode {
            path: self.path.clone(),
            frames: self.read,
            detail,
        }
    }
}

impl Drop for ConformedReader {
    fn drop(&mut self) {
        // A looping or still picture never ends by itself.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
