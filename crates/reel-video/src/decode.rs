use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use reel_image::Image;

use crate::error::tail;
use crate::process::spawn;
use crate::{MediaInfo, Timestamp, VideoError, probe};

/// One decoded frame: its pixels, its index in display order and its presentation time.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    pub image: Image,
    pub index: u64,
    pub time: Option<Timestamp>,
}

impl Frame {
    /// Seconds from the start: the presentation time, or for a frame without one (a still, an
    /// image sequence) its index at 25 frames a second.
    pub fn seconds(&self) -> f64 {
        self.time.map_or(self.index as f64 / 25.0, |t| t.seconds())
    }
}

/// What ffmpeg's `showinfo` filter says of each frame, in order.
struct FrameNote {
    width: usize,
    height: usize,
    pts: i64,
    time_base: (i64, i64),
}

/// Streams the frames of a video, image sequence or still, one at a time, as RGB.
pub struct Decoder {
    info: MediaInfo,
    source: Source,
    decoded: u64,
    first_index: u64,
    done: bool,
}

enum Source {
    Ffmpeg(FfmpegFrames),
    /// A still decoded in-process (see `still`), given once.
    Still(Option<Image>),
}

/// ffmpeg decoding to raw RGB on its standard output, `showinfo` describing each frame on its
/// standard error.
struct FfmpegFrames {
    child: Child,
    stdout: ChildStdout,
    notes: Receiver<FrameNote>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<JoinHandle<()>>,
}

impl Decoder {
    pub fn open(path: &Path) -> Result<Decoder, VideoError> {
        Decoder::start(path, None)
    }

    /// Decodes only the frame with this index (counting from 0 in display order).
    pub fn open_frame(path: &Path, index: u64) -> Result<Decoder, VideoError> {
        Decoder::start(path, Some(index))
    }

    fn start(path: &Path, only: Option<u64>) -> Result<Decoder, VideoError> {
        let mut info = probe(path)?;
        if info.is_still
            && let Some(decoded) = crate::still::decode(path)
        {
            let image = decoded?;
            // The orientation applied: the picture's size as shown, not as stored.
            (info.width, info.height) = (image.width, image.height);
            return Ok(Decoder {
                info,
                source: Source::Still(only.is_none_or(|n| n == 0).then_some(image)),
                decoded: 0,
                first_index: only.unwrap_or(0),
                done: false,
            });
        }
        let filter = match only {
            Some(n) => format!("select=eq(n\\,{n}),showinfo=checksum=0"),
            None => "showinfo=checksum=0".to_string(),
        };
        let mut child = spawn(
            Command::new("ffmpeg")
                .args(["-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"])
                .arg("-i")
                .arg(crate::input_arg(path))
                .args([
                    "-map",
                    "0:v:0",
                    "-an",
                    "-sn",
                    "-dn",
                    "-fps_mode",
                    "passthrough",
                ])
                .args([
                    "-vf", &filter, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            "ffmpeg",
        )?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, notes) = sync_channel(64);
        let log = Arc::clone(&stderr);
        let stderr_thread = std::thread::spawn(move || {
            let mut time_base = (1, 1);
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                if line.contains("Parsed_showinfo") {
                    if let Some(tb) = line.split("config in time_base:").nth(1) {
                        if let Some((n, d)) =
                            tb.split(',').next().and_then(|s| s.trim().split_once('/'))
                        {
                            time_base = (n.parse().unwrap_or(1), d.parse().unwrap_or(1));
                        }
                    } else if let Some(note) = parse_note(&line, time_base)
                        && tx.send(note).is_err()
                    {
                        break;
                    }
                } else if let Ok(mut log) = log.lock() {
                    // Keep only the end of a long log: it holds the reason for any failure.
                    if log.len() > 64 * 1024 {
                        log.drain(..32 * 1024);
                    }
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        Ok(Decoder {
            info,
            source: Source::Ffmpeg(FfmpegFrames {
                child,
                stdout,
                notes,
                stderr,
                stderr_thread: Some(stderr_thread),
            }),
            decoded: 0,
            first_index: only.unwrap_or(0),
            done: false,
        })
    }

    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    pub fn path(&self) -> &PathBuf {
        &self.info.path
    }

    /// Frames decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Decodes the next frame into `frame`, reusing its buffer. Returns false at the end.
    pub fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        if self.done {
            return Ok(false);
        }
        let ffmpeg = match &mut self.source {
            Source::Ffmpeg(ffmpeg) => ffmpeg,
            Source::Still(still) => {
                let Some(image) = still.take() else {
                    self.done = true;
                    return Ok(false);
                };
                frame.image = image;
                frame.index = self.first_index;
                frame.time = None;
                self.decoded += 1;
                return Ok(true);
            }
        };
        let Ok(note) = ffmpeg.notes.recv() else {
            return self.finish().map(|_| false);
        };
        frame.image.reshape(note.width, note.height);
        if let Err(e) = ffmpeg.stdout.read_exact(&mut frame.image.data) {
            self.finish()?;
            return Err(VideoError::Decode {
                path: self.info.path.clone(),
                frames: self.decoded,
                detail: format!("frame data ended early ({e})"),
            });
        }
        frame.index = self.first_index + self.decoded;
        frame.time = (!self.info.is_still).then_some(Timestamp {
            pts: note.pts,
            num: note.time_base.0,
            den: note.time_base.1,
        });
        self.decoded += 1;
        Ok(true)
    }

    fn finish(&mut self) -> Result<(), VideoError> {
        self.done = true;
        let Source::Ffmpeg(ffmpeg) = &mut self.source else {
            return Ok(());
        };
        let status = ffmpeg
            .child
            .wait()
            .map_err(reel_core::io("waiting for ffmpeg"))?;
        if let Some(t) = ffmpeg.stderr_thread.take() {
            let _ = t.join();
        }
        let log = ffmpeg.stderr.lock().map(|l| l.clone()).unwrap_or_default();
        // ffmpeg decodes what it can of a cut file and exits 0: its log says the data ended.
        // Only the demuxer's and decoder's own lines (the header names the file and its tags,
        // which may say anything).
        let damaged = crate::error::damage(&log);
        if let Some(line) = damaged.filter(|_| status.success()) {
            return Err(VideoError::Decode {
                path: self.info.path.clone(),
                frames: self.decoded,
                detail: format!(
                    "the file is damaged or cut short ({} of {} frames readable): {}",
                    self.decoded,
                    self.info
                        .declared_frames
                        .map_or_else(|| "?".to_string(), |n| n.to_string()),
                    line.trim()
                ),
            });
        }
        if !status.success() {
            let detail = tail(&log);
            return Err(if self.decoded == 0 {
                VideoError::Unreadable {
                    path: self.info.path.clone(),
                    detail,
                }
            } else {
                VideoError::Decode {
                    path: self.info.path.clone(),
                    frames: self.decoded,
                    detail,
                }
            });
        }
        Ok(())
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        if let Source::Ffmpeg(ffmpeg) = &mut self.source
            && !self.done
        {
            let _ = ffmpeg.child.kill();
            let _ = ffmpeg.child.wait();
        }
    }
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split_whitespace().next()
}

fn parse_note(line: &str, time_base: (i64, i64)) -> Option<FrameNote> {
    let pts = field(line, " pts:")?.parse().unwrap_or(0);
    let (w, h) = field(line, " s:")?.split_once('x')?;
    Some(FrameNote {
        width: w.parse().ok()?,
        height: h.parse().ok()?,
        pts,
        time_base,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn showinfo_lines_parse() {
        let line = "[Parsed_showinfo_0 @ 0x1] n:  12 pts:  12012 pts_time:0.4004 pos: 79 fmt:yuv420p sar:0/1 s:640x480 i:P iskey:1 type:I";
        let n = parse_note(line, (1, 29970)).unwrap();
        assert_eq!((n.width, n.height, n.pts), (640, 480, 12012));
        assert!(parse_note("[Parsed_showinfo_0 @ 0x1] side data", (1, 1)).is_none());
    }
}
