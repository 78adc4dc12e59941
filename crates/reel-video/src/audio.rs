//! Audio in: any file ffmpeg reads, as mono 32-bit float samples at a chosen rate, streamed in
//! blocks so that an hour of audio never sits in memory unless the caller keeps it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::VideoError;
use crate::process::{StderrTail, spawn};

/// Reads the first audio stream of a file as mono samples at `rate` Hz.
pub struct AudioReader {
    path: PathBuf,
    channels: usize,
    child: Child,
    stdout: ChildStdout,
    /// The end of ffmpeg's messages.
    stderr: StderrTail,
    bytes: Vec<u8>,
    samples: u64,
    /// The result of the end, once reached.
    ended: Option<Result<(), String>>,
}

impl AudioReader {
    pub fn open(path: &Path, rate: u32) -> Result<AudioReader, VideoError> {
        AudioReader::open_channels(path, rate, 1)
    }

    /// Reads it in `channels` channels (mixed up or down as ffmpeg does), their samples
    /// interleaved.
    pub fn open_channels(path: &Path, rate: u32, channels: u16) -> Result<AudioReader, VideoError> {
        if !path.exists() {
            return Err(VideoError::NotFound(path.to_path_buf()));
        }
        let mut child = spawn(
            Command::new("ffmpeg")
                .args(["-nostdin", "-v", "error", "-i"])
                .arg(crate::input_arg(path))
                .args(["-map", "0:a:0", "-ac", &channels.max(1).to_string()])
                .args(["-ar", &rate.to_string()])
                .args(["-f", "f32le", "-"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            "ffmpeg",
        )?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = StderrTail::drain(child.stderr.take().expect("piped"));
        Ok(AudioReader {
            path: path.to_path_buf(),
            channels: channels.max(1) as usize,
            child,
            stdout,
            stderr,
            bytes: Vec::new(),
            samples: 0,
            ended: None,
        })
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Fills `block` with the next samples (interleaved, a whole number of channels' worth); returns how many (fewer than its length only at the
    /// end, 0 once finished). A file ffmpeg cannot read, or one without audio, is an error.
    pub fn read(&mut self, block: &mut [f32]) -> Result<usize, VideoError> {
        if self.ended.is_some() {
            return self.finish().map(|_| 0);
        }
        self.bytes.resize(block.len() * 4, 0);
        let mut filled = 0;
        while filled < self.bytes.len() {
            let n = self
                .stdout
                .read(&mut self.bytes[filled..])
                .map_err(reel_core::io(format!(
                    "reading audio of {}",
                    self.path.display()
                )))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        let count = filled / 4;
        for (s, b) in block.iter_mut().zip(self.bytes.chunks_exact(4)).take(count) {
            *s = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        self.samples += count as u64;
        if count < block.len() {
            self.finish()?;
        }
        Ok(count)
    }

    fn finish(&mut self) -> Result<(), VideoError> {
        if self.ended.is_none() {
            let status = self
                .child
                .wait()
                .map_err(reel_core::io("waiting for ffmpeg"))?;
            let stderr = self.stderr.join();
            self.ended = Some(if status.success() {
                Ok(())
            } else {
                Err(stderr)
            });
        }
        let Some(Err(stderr)) = &self.ended else {
            return Ok(());
        };
        let detail = crate::error::tail(stderr);
        Err(if stderr.contains("matches no streams") {
            VideoError::NoAudio {
                path: self.path.clone(),
            }
        } else if self.samples == 0 {
            VideoError::Unreadable {
                path: self.path.clone(),
                detail,
            }
        } else {
            VideoError::Decode {
                path: self.path.clone(),
                frames: self.samples,
                detail,
            }
        })
    }
}

impl Drop for AudioReader {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The whole of a file's audio, mono at `rate` Hz.
pub fn read_audio(path: &Path, rate: u32) -> Result<Vec<f32>, VideoError> {
    let mut reader = AudioReader::open(path, rate)?;
    let mut all = Vec::new();
    let mut block = vec![0f32; rate as usize];
    loop {
        let n = reader.read(&mut block)?;
        all.extend_from_slice(&block[..n]);
        if n < block.len() {
            return Ok(all);
        }
    }
}
