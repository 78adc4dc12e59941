use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::VideoError;
use crate::error::tail;

/// What ffprobe tells about a media file.
#[derive(Clone, Debug)]
pub struct MediaInfo {
    pub path: PathBuf,
    pub width: usize,
    pub height: usize,
    pub video_codec: String,
    pub pix_fmt: String,
    /// The nominal frame rate as a fraction (ffprobe's r_frame_rate).
    pub frame_rate: (i64, i64),
    /// The mean frame rate over the stream (ffprobe's avg_frame_rate), where it says.
    pub average_rate: Option<(i64, i64)>,
    /// When the video stream and the audio stream start, in seconds.
    pub video_start: f64,
    pub audio_start: Option<f64>,
    /// The video stream's time base.
    pub time_base: (i64, i64),
    /// The frame count the container declares, when it declares one.
    pub declared_frames: Option<u64>,
    pub duration: Option<f64>,
    pub audio_codec: Option<String>,
    /// The first audio stream's sample rate and channel count.
    pub audio_rate: Option<u32>,
    pub audio_channels: Option<u16>,
    /// A still image (one frame, no timing of its own).
    pub is_still: bool,
    /// How the video's YUV stands for colour, as its stream is tagged.
    pub colour: Colour,
}

impl MediaInfo {
    /// The rate its frames come at: the nominal one, unless that is far above the mean (a
    /// variable-rate recording whose nominal rate is its time base's, 90000 or 120), then the
    /// mean.
    pub fn rate(&self) -> (i64, i64) {
        let fps = |(n, d): (i64, i64)| n as f64 / d.max(1) as f64;
        match self.average_rate {
            Some(mean) if fps(self.frame_rate) > 1.5 * fps(mean) => mean,
            _ => self.frame_rate,
        }
    }

    /// Seconds into the decoded sound at which the first frame is shown (negative where the
    /// sound starts after the picture).
    pub fn sound_at_first_frame(&self) -> f64 {
        self.audio_start.map_or(0.0, |a| self.video_start - a)
    }
}

/// A video stream's colour tags as ffprobe names them (`bt709`, `tv`, ...); None where the
/// stream does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Colour {
    /// The YUV matrix (`color_space`).
    pub matrix: Option<String>,
    /// `tv` (limited) or `pc` (full).
    pub range: Option<String>,
    pub primaries: Option<String>,
    pub transfer: Option<String>,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<usize>,
    height: Option<usize>,
    pix_fmt: Option<String>,
    r_frame_rate: Option<String>,
    avg_frame_rate: Option<String>,
    start_time: Option<String>,
    time_base: Option<String>,
    nb_frames: Option<String>,
    duration: Option<String>,
    color_space: Option<String>,
    color_range: Option<String>,
    color_primaries: Option<String>,
    color_transfer: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u16>,
}

#[derive(Deserialize)]
struct Format {
    format_name: Option<String>,
    duration: Option<String>,
}

fn fraction(s: Option<&str>) -> Option<(i64, i64)> {
    let (n, d) = s?.split_once('/')?;
    let (n, d) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0 && d > 0).then_some((n, d))
}

/// Runs ffprobe over a file's streams and container.
fn streams(path: &Path) -> Result<Probe, VideoError> {
    if !path.exists() && !path.to_string_lossy().contains('%') {
        return Err(VideoError::NotFound(path.to_path_buf()));
    }
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(crate::input_arg(path))
        .output()
        .map_err(|source| VideoError::MissingTool {
            program: "ffprobe",
            source,
        })?;
    if !out.status.success() {
        return Err(VideoError::Unreadable {
            path: path.to_path_buf(),
            detail: tail(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    serde_json::from_slice(&out.stdout).map_err(|e| VideoError::Unreadable {
        path: path.to_path_buf(),
        detail: format!("ffprobe output: {e}"),
    })
}

/// A sound file's length in seconds, sample rate and channels; None where it has no sound.
pub fn probe_sound(path: &Path) -> Result<Option<(Option<f64>, u32, u16)>, VideoError> {
    let parsed = streams(path)?;
    let Some(audio) = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"))
    else {
        return Ok(None);
    };
    let duration = audio
        .duration
        .as_deref()
        .or(parsed.format.as_ref().and_then(|f| f.duration.as_deref()))
        .and_then(|d| d.parse::<f64>().ok());
    let rate = audio
        .sample_rate
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    Ok(Some((duration, rate, audio.channels.unwrap_or(0))))
}

/// Reads a file's streams with ffprobe.
pub fn probe(path: &Path) -> Result<MediaInfo, VideoError> {
    let parsed = streams(path)?;
    let video = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && s.width.unwrap_or(0) > 0)
        .ok_or_else(|| VideoError::NoVideo {
            path: path.to_path_buf(),
        })?;
    let audio = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"));
    let format_name = parsed
        .format
        .as_ref()
        .and_then(|f| f.format_name.clone())
        .unwrap_or_default();
    let is_still = format_name.contains("_pipe")
        || format_name == "image2" && !path.to_string_lossy().contains('%');
    let duration = video
        .duration
        .as_deref()
        .or(parsed.format.as_ref().and_then(|f| f.duration.as_deref()))
        .and_then(|d| d.parse::<f64>().ok());
    Ok(MediaInfo {
        path: path.to_path_buf(),
        width: video.width.unwrap_or(0),
        height: video.height.unwrap_or(0),
        video_codec: video.codec_name.clone().unwrap_or_default(),
        pix_fmt: video.pix_fmt.clone().unwrap_or_default(),
        frame_rate: fraction(video.r_frame_rate.as_deref()).unwrap_or((25, 1)),
        average_rate: fraction(video.avg_frame_rate.as_deref()),
        video_start: video
            .start_time
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
        audio_start: audio.and_then(|a| a.start_time.as_deref()?.parse().ok()),
        time_base: fraction(video.time_base.as_deref()).unwrap_or((1, 25)),
        declared_frames: video.nb_frames.as_deref().and_then(|n| n.parse().ok()),
        duration,
        audio_codec: audio.and_then(|a| a.codec_name.clone()),
        audio_rate: audio
            .and_then(|a| a.sample_rate.as_deref())
            .and_then(|r| r.parse().ok()),
        audio_channels: audio.and_then(|a| a.channels),
        is_still,
        colour: {
            let known =
                |v: &Option<String>| v.clone().filter(|v| v != "unknown" && v != "reserved");
            Colour {
                matrix: known(&video.color_space),
                // A full-range "J" pixel format says so without a tag.
                range: known(&video.color_range).or_else(|| {
                    video
                        .pix_fmt
                        .as_deref()
                        .is_some_and(|p| p.starts_with("yuvj"))
                        .then(|| "pc".to_string())
                }),
                primaries: known(&video.color_primaries),
                transfer: known(&video.color_transfer),
            }
        },
    })
}
