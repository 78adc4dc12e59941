//! Sound as it is heard: the microphone (PulseAudio or ALSA, through ffmpeg) or a recording
//! played in real time, delivered as mono float samples while it lasts.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::VideoError;
use crate::error::tail;
use crate::process::{StderrTail, spawn};

/// Where the sound comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A recording, played at its own pace as if it were live.
    RealTime(PathBuf),
    /// A capture device as ffmpeg names it: `pulse:default`, `alsa:hw:1,0` (a bare name is
    /// PulseAudio's).
    Device(String),
    /// PulseAudio's default source where PulseAudio runs, else ALSA's default.
    DefaultMicrophone,
}

/// What the capture delivers.
pub enum Heard<'a> {
    Samples(&'a [f32]),
    /// The sound ended: by itself, or with ffmpeg's reason for failing.
    Ended(Result<(), String>),
}

/// A running capture; stopped when dropped.
pub struct Capture {
    child: Arc<Mutex<Child>>,
    pump: Option<std::thread::JoinHandle<()>>,
}

impl Capture {
    /// Starts listening at `rate` Hz; `heard` gets the samples as they come, on a thread of
    /// the capture's own, and then the end.
    pub fn start(
        source: &Source,
        rate: u32,
        mut heard: impl FnMut(Heard) + Send + 'static,
    ) -> Result<Capture, VideoError> {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
        match source {
            Source::RealTime(file) => {
                if !file.exists() {
                    return Err(VideoError::NotFound(file.clone()));
                }
                cmd.arg("-re").arg("-i").arg(crate::input_arg(file));
            }
            Source::Device(device) => {
                let (format, name) = device.split_once(':').unwrap_or(("pulse", device));
                cmd.args(["-f", format, "-i", name]);
            }
            Source::DefaultMicrophone => {
                let pulse = std::env::var_os("PULSE_SERVER").is_some()
                    || std::env::var_os("XDG_RUNTIME_DIR")
                        .is_some_and(|d| Path::new(&d).join("pulse/native").exists());
                let format = if pulse { "pulse" } else { "alsa" };
                cmd.args(["-f", format, "-i", "default"]);
            }
        }
        cmd.args([
            "-vn",
            "-ac",
            "1",
            "-ar",
            &rate.to_string(),
            "-f",
            "f32le",
            "pipe:1",
        ]);
        let mut child = spawn(
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            "ffmpeg",
        )?;
        let mut stdout = child.stdout.take().expect("stdout is piped");
        // ffmpeg's messages, drained as they come so that it never blocks on them.
        let mut messages = StderrTail::drain(child.stderr.take().expect("stderr is piped"));
        let child = Arc::new(Mutex::new(child));
        let waited = child.clone();
        let pump = std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 14];
            let mut carry = Vec::new();
            let mut samples = Vec::new();
            loop {
                let n = match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                carry.extend_from_slice(&buf[..n]);
                let whole = carry.len() / 4 * 4;
                samples.clear();
                samples.extend(
                    carry[..whole]
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                );
                carry.drain(..whole);
                heard(Heard::Samples(&samples));
            }
            let status = waited.lock().expect("no panics holding it").wait();
            let log = messages.join();
            heard(Heard::Ended(match status {
                Ok(s) if s.success() => Ok(()),
                _ => Err(format!("listening failed: {}", tail(&log))),
            }));
        });
        Ok(Capture {
            child,
            pump: Some(pump),
        })
    }

    /// Stops ffmpeg; the end is still delivered.
    pub fn stop(&self) {
        let _ = self.child.lock().expect("no panics holding it").kill();
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
        if let Some(p) = self.pump.take() {
            let _ = p.join();
        }
    }
}
