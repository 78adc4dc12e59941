use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use reel_core::io;
use reel_core::output::{self, Destination, Seal};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use reel_image::Image;

use crate::error::tail;
use crate::process::{StderrTail, spawn};
use crate::{MediaInfo, Timestamp, VideoError, matroska};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    H264,
    H265,
    /// ProRes 422 (HQ when the source is 4:4:4), for VFX hand-off.
    ProRes,
    /// A numbered PNG sequence in a directory.
    PngSequence,
    /// A single image (PNG or JPEG), for stills.
    Image,
}

impl Codec {
    /// The codec an output path asks for: `.mp4`, `.m4v` and `.mkv` are H.264, `.mov` ProRes,
    /// `.png`/`.jpg` a still, a path without an extension a PNG sequence folder; any other
    /// extension is refused rather than written in a container it does not name.
    pub fn for_path(path: &Path) -> Result<Codec, VideoError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        Ok(match ext.as_deref() {
            Some("mov") => Codec::ProRes,
            Some("png" | "jpg" | "jpeg") => Codec::Image,
            Some("mp4" | "m4v" | "mkv") => Codec::H264,
            None => Codec::PngSequence,
            Some(other) => {
                return Err(VideoError::UnsupportedOutput {
                    path: path.to_path_buf(),
                    detail: format!(
                        "reel writes video as .mp4, .m4v, .mkv or .mov, frames into a folder (a path without an extension), or one frame as .png or .jpg, not .{other}"
                    ),
                });
            }
        })
    }

    pub fn parse(name: &str) -> Option<Codec> {
        Some(match name {
            "h264" => Codec::H264,
            "h265" | "hevc" => Codec::H265,
            "prores" => Codec::ProRes,
            "png" => Codec::PngSequence,
            _ => return None,
        })
    }
}

/// How to encode: the format, quality, and where to take the audio from.
#[derive(Clone, Debug)]
pub struct EncoderSettings {
    pub codec: Codec,
    /// Constant rate factor for H.264/H.265 (lower is better; 18 is visually lossless).
    pub crf: u8,
    /// The source whose audio streams are copied into the output.
    pub audio_from: Option<PathBuf>,
    pub source: Option<MediaInfo>,
    /// Cut the output at this many seconds (its audio, when that runs longer than the frames).
    pub length: Option<f64>,
    /// Labels the finished file (each frame file of a sequence) before it takes its name.
    pub seal: Option<Arc<dyn Seal>>,
    /// A constant frame rate (numerator, denominator) for frames made rather than read; by
    /// default each frame keeps the timestamp it is written with.
    pub frame_rate: Option<(i64, i64)>,
}

impl EncoderSettings {
    pub fn like_source(codec: Codec, source: &MediaInfo) -> EncoderSettings {
        EncoderSettings {
            codec,
            crf: 18,
            audio_from: source.audio_codec.is_some().then(|| source.path.clone()),
            source: Some(source.clone()),
            length: None,
            seal: None,
            frame_rate: None,
        }
    }

    /// The same, labelled by `seal`.
    pub fn sealed(mut self, seal: Option<Arc<dyn Seal>>) -> EncoderSettings {
        self.seal = seal;
        self
    }
}

/// Streams frames into ffmpeg; the output appears under its final name only after `finish`.
pub struct Encoder {
    output: PathBuf,
    destination: Destination,
    sequence: bool,
    still: bool,
    temp: PathBuf,
    child: Option<Child>,
    /// The end of ffmpeg's messages.
    stderr: StderrTail,
    stdin: Option<BufWriter<ChildStdin>>,
    width: usize,
    height: usize,
    written: u64,
    last_micros: i64,
    frame_micros: i64,
    scratch: Vec<u8>,
    committed: bool,
    seal: Option<Arc<dyn Seal>>,
    codec: Codec,
    /// The container ffmpeg writes, and its options (for adding sound once the picture is done).
    format: &'static str,
    mux: Vec<String>,
}

/// The YUV the frames are converted to, and the tags saying so: the source's own where it has
/// them (frames decoded through them come back as they were, and every player reads them
/// alike), BT.709 limited range for frames with no video source (stills, generated video);
/// an untagged source is written as ffmpeg read it, untagged, so it plays as the source did.
fn colour_args(cmd: &mut Command, source: Option<&crate::Colour>, full_range: bool) {
    let bt709 = crate::Colour {
        matrix: Some("bt709".into()),
        range: Some("tv".into()),
        primaries: Some("bt709".into()),
        transfer: Some("bt709".into()),
    };
    let colour = source.unwrap_or(&bt709);
    // ffprobe's names for the matrices, as the scale filter spells them.
    let matrix = colour.matrix.as_deref().and_then(|m| match m {
        "bt709" => Some("bt709"),
        "bt470bg" => Some("bt470"),
        "smpte170m" => Some("smpte170m"),
        "bt2020nc" | "bt2020c" => Some("bt2020"),
        "fcc" => Some("fcc"),
        "smpte240m" => Some("smpte240m"),
        _ => None,
    });
    let range = match colour.range.as_deref() {
        Some("pc") if !full_range => Some("tv"),
        r => r.filter(|r| matches!(*r, "tv" | "pc")),
    };
    let mut scale = Vec::new();
    if let Some(m) = matrix {
        scale.push(format!("out_color_matrix={m}"));
    }
    if let Some(r) = range {
        scale.push(format!("out_range={r}"));
    }
    // The tags set on the frames themselves: encoder options alone are lost by some encoders
    // (ProRes) once a filter has run.
    let mut tags = Vec::new();
    for (name, value) in [
        ("colorspace", matrix.and(colour.matrix.as_deref())),
        ("range", range),
        ("color_primaries", colour.primaries.as_deref()),
        ("color_trc", colour.transfer.as_deref()),
    ] {
        if let Some(v) = value {
            tags.push(format!("{name}={v}"));
        }
    }
    let mut chain = Vec::new();
    if !scale.is_empty() {
        chain.push(format!("scale={}", scale.join(":")));
    }
    if !tags.is_empty() {
        chain.push(format!("setparams={}", tags.join(":")));
    }
    if !chain.is_empty() {
        cmd.args(["-vf", &chain.join(",")]);
    }
}

fn chroma(pix_fmt: &str) -> &'static str {
    if pix_fmt.contains("444")
        || pix_fmt.starts_with("rgb")
        || pix_fmt.starts_with("bgr")
        || pix_fmt.starts_with("gbr")
    {
        "444"
    } else if pix_fmt.contains("422") {
        "422"
    } else {
        "420"
    }
}

impl Encoder {
    pub fn create(
        output: &Path,
        width: usize,
        height: usize,
        settings: &EncoderSettings,
    ) -> Result<Encoder, VideoError> {
        if width == 0 || height == 0 {
            return Err(VideoError::Encode {
                path: output.to_path_buf(),
                detail: "empty frame size".into(),
            });
        }
        // A sequence goes into a folder of frames, anything else into one file (an existing
        // folder there is refused, never replaced).
        let destination = if settings.codec == Codec::PngSequence {
            Destination::File(output::check_sequence_folder(output)?)
        } else {
            output::destination(output)?
        };
        let temp = match &destination {
            // Beside the file (or the folder a link leads to), so that the rename stays on
            // one filesystem; a stream's partial goes to the temporary folder.
            Destination::File(file) => output::prepare(file)?,
            Destination::Stream(stream) => output::stream_partial(stream),
        };
        let odd = width % 2 == 1 || height % 2 == 1;
        let source_chroma = settings
            .source
            .as_ref()
            .map(|s| chroma(&s.pix_fmt))
            .unwrap_or("420");
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]);
        cmd.args(["-f", "matroska", "-i", "pipe:0"]);
        let audio = settings
            .audio_from
            .as_ref()
            .filter(|_| !matches!(settings.codec, Codec::PngSequence | Codec::Image));
        if let Some(src) = audio {
            cmd.arg("-i").arg(crate::input_arg(src));
        }
        cmd.args(["-map", "0:v:0"]);
        if audio.is_some() {
            cmd.args(["-map", "1:a?"]);
            let codec = settings
                .source
                .as_ref()
                .and_then(|s| s.audio_codec.clone())
                .unwrap_or_default();
            let copyable = match settings.codec {
                Codec::ProRes => {
                    matches!(codec.as_str(), "aac" | "alac") || codec.starts_with("pcm_")
                }
                _ => matches!(codec.as_str(), "aac" | "mp3" | "ac3" | "eac3" | "alac"),
            };
            match (copyable, settings.codec) {
                (true, _) => cmd.args(["-c:a", "copy"]),
                (false, Codec::ProRes) => cmd.args(["-c:a", "pcm_s16le"]),
                (false, _) => cmd.args(["-c:a", "aac", "-b:a", "192k"]),
            };
        }
        match settings.frame_rate {
            Some((num, den)) => cmd.args(["-fps_mode", "cfr", "-r", &format!("{num}/{den}")]),
            None => cmd.args(["-fps_mode", "passthrough"]),
        };
        if let Some(seconds) = settings.length {
            cmd.args(["-t", &format!("{seconds:.6}")]);
        }
        let crf = settings.crf.to_string();
        if matches!(settings.codec, Codec::H264 | Codec::H265 | Codec::ProRes) {
            // ProRes is limited range only: a full-range source is converted (its colours kept).
            let full_range = settings.codec != Codec::ProRes;
            colour_args(
                &mut cmd,
                settings.source.as_ref().map(|s| &s.colour),
                full_range,
            );
        }
        let mut mux: Vec<String> = Vec::new();
        let (temp_target, format): (PathBuf, &'static str) = match settings.codec {
            Codec::H264 | Codec::H265 => {
                let pix = match (odd, source_chroma) {
                    (true, _) | (_, "444") => "yuv444p",
                    (_, "422") => "yuv422p",
                    _ => "yuv420p",
                };
                let encoder = if settings.codec == Codec::H264 {
                    "libx264"
                } else {
                    "libx265"
                };
                cmd.args([
                    "-c:v", encoder, "-preset", "medium", "-crf", &crf, "-pix_fmt", pix,
                ]);
                if settings.codec == Codec::H265 {
                    cmd.args(["-tag:v", "hvc1", "-x265-params", "log-level=error"]);
                }
                let is_mp4 = !output
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("mkv"));
                if is_mp4 {
                    mux.extend(["-movflags".into(), "+faststart".into()]);
                    if let Some(s) = &settings.source {
                        mux.extend([
                            "-video_track_timescale".into(),
                            timescale(s, settings.frame_rate).to_string(),
                        ]);
                    }
                }
                (temp.clone(), if is_mp4 { "mp4" } else { "matroska" })
            }
            Codec::ProRes => {
                let (profile, pix) = if odd || source_chroma == "444" {
                    ("4", "yuv444p10le")
                } else {
                    ("2", "yuv422p10le")
                };
                cmd.args(["-c:v", "prores_ks", "-profile:v", profile, "-pix_fmt", pix]);
                if let Some(s) = &settings.source {
                    mux.extend([
                        "-video_track_timescale".into(),
                        timescale(s, settings.frame_rate).to_string(),
                    ]);
                }
                (temp.clone(), "mov")
            }
            Codec::PngSequence => {
                fs::create_dir_all(&temp).map_err(io(format!("creating {}", temp.display())))?;
                cmd.args(["-c:v", "png", "-pix_fmt", "rgb24", "-start_number", "0"]);
                (temp.join("frame_%06d.png"), "image2")
            }
            Codec::Image => {
                let ext = output
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("png")
                    .to_ascii_lowercase();
                let codec = if ext == "png" { "png" } else { "mjpeg" };
                let pix = if codec == "png" { "rgb24" } else { "yuvj444p" };
                cmd.args([
                    "-c:v",
                    codec,
                    "-pix_fmt",
                    pix,
                    "-q:v",
                    "2",
                    "-update",
                    "1",
                    "-frames:v",
                    "1",
                ]);
                (temp.clone(), "image2")
            }
        };
        cmd.args(&mux).args(["-f", format]).arg(&temp_target);
        let mut child = spawn(
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
            "ffmpeg",
        )?;
        let stderr = StderrTail::drain(child.stderr.take().expect("stderr is piped"));
        let mut stdin =
            BufWriter::with_capacity(1 << 20, child.stdin.take().expect("stdin is piped"));
        let frame_micros = settings
            .frame_rate
            .or(settings.source.as_ref().map(|s| s.frame_rate))
            .map(|(num, den)| (1_000_000 * den / num.max(1)).max(1))
            .unwrap_or(40_000);
        let mut encoder = Encoder {
            output: output.to_path_buf(),
            destination,
            sequence: settings.codec == Codec::PngSequence,
            still: settings.codec == Codec::Image,
            temp,
            child: Some(child),
            stderr,
            stdin: None,
            width,
            height,
            written: 0,
            last_micros: -1,
            frame_micros,
            scratch: Vec::new(),
            committed: false,
            seal: settings.seal.clone(),
            codec: settings.codec,
            format,
            mux,
        };
        let header = matroska::header(width, height, frame_micros);
        if let Err(e) = stdin.write_all(&header) {
            return Err(encoder.failure(format!("ffmpeg refused the stream ({e})")));
        }
        encoder.stdin = Some(stdin);
        Ok(encoder)
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Adds a frame shown at `time` (or one nominal frame after the previous one when None).
    pub fn write(&mut self, image: &Image, time: Option<Timestamp>) -> Result<(), VideoError> {
        if self.still && self.written == 1 {
            return Err(VideoError::UnsupportedOutput {
                path: self.output.clone(),
                detail: "a still holds one frame and this is a video; give a video file (.mp4, .mov) or a folder for PNG frames".into(),
            });
        }
        if image.width != self.width || image.height != self.height {
            return Err(self.failure(format!(
                "frame is {}x{}, the output is {}x{}",
                image.width, image.height, self.width, self.height
            )));
        }
        let mut micros = time
            .map(|t| t.micros())
            .unwrap_or(self.last_micros + self.frame_micros);
        if micros <= self.last_micros {
            // Timestamps must rise; a repeated one would make ffmpeg drop the frame.
            micros = self.last_micros + 1;
        }
        self.last_micros = micros;
        let stdin = self.stdin.as_mut().expect("encoder is open");
        if let Err(e) = matroska::write_frame(stdin, micros, &image.data, &mut self.scratch) {
            return Err(self.failure(format!("ffmpeg stopped taking frames ({e})")));
        }
        self.written += 1;
        Ok(())
    }

    /// Completes the file and moves it into place.
    pub fn finish(self) -> Result<PathBuf, VideoError> {
        self.finish_with_audio(None)
    }

    /// Completes the file with `audio` (a file's first audio stream, made to the picture's
    /// length) as its sound, and moves it into place. Frame sequences and stills take none.
    pub fn finish_with_audio(mut self, audio: Option<&Path>) -> Result<PathBuf, VideoError> {
        if let Some(mut stdin) = self.stdin.take()
            && let Err(e) = stdin.flush()
        {
            return Err(self.failure(format!("ffmpeg stopped taking frames ({e})")));
        }
        let mut child = self.child.take().expect("encoder is open");
        let status = child.wait().map_err(io("waiting for ffmpeg"))?;
        let log = self.stderr.join();
        if !status.success() {
            return Err(VideoError::Encode {
                path: self.output.clone(),
                detail: tail(&log),
            });
        }
        if let Some(audio) = audio.filter(|_| !self.sequence && !self.still) {
            self.add_audio(audio)?;
        }
        if let Some(seal) = &self.seal {
            // A label that cannot be made leaves nothing behind (the drop removes the partial).
            self.label(seal.clone())?;
        }
        // Marked first: whatever happens to the move, the drop must not remove what it moved.
        self.committed = true;
        let moved = if self.sequence {
            let Destination::File(folder) = &self.destination else {
                unreachable!("a sequence goes to a folder")
            };
            output::commit_folder(&self.temp, folder)
        } else {
            output::commit(&self.temp, &self.destination)
        };
        if moved.is_err() {
            let _ = fs::remove_dir_all(&self.temp);
            let _ = fs::remove_file(&self.temp);
        }
        moved?;
        Ok(self.output.clone())
    }

    /// Puts `audio` beside the finished picture (copied as it is), in the partial's place.
    fn add_audio(&self, audio: &Path) -> Result<(), VideoError> {
        let mut name = self.temp.clone().into_os_string();
        name.push("-sound");
        let muxed = PathBuf::from(name);
        let sound: &[&str] = match self.codec {
            Codec::ProRes => &["-c:a", "pcm_s24le"],
            _ => &["-c:a", "aac", "-b:a", "192k"],
        };
        let out = Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
            .arg(&self.temp)
            .arg("-i")
            .arg(crate::input_arg(audio))
            .args(["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"])
            .args(sound)
            .args(&self.mux)
            .args(["-f", self.format])
            .arg(&muxed)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| VideoError::MissingTool {
                program: "ffmpeg",
                source,
            })?;
        if !out.status.success() {
            let _ = fs::remove_file(&muxed);
            return Err(VideoError::Encode {
                path: self.output.clone(),
                detail: format!(
                    "adding the sound: {}",
                    tail(&String::from_utf8_lossy(&out.stderr))
                ),
            });
        }
        if let Err(e) = fs::rename(&muxed, &self.temp) {
            let _ = fs::remove_file(&muxed);
            return Err(io(format!("writing {}", self.temp.display()))(e).into());
        }
        Ok(())
    }

    /// Seals the finished partial: the file, or every frame of a sequence (each its own).
    fn label(&self, seal: Arc<dyn Seal>) -> Result<(), VideoError> {
        if !self.sequence {
            return Ok(seal.seal(&self.temp, &self.output)?);
        }
        let mut frames: Vec<PathBuf> = fs::read_dir(&self.temp)
            .map_err(io(format!("reading {}", self.temp.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        frames.sort();
        for frame in frames {
            let name = self.output.join(frame.file_name().unwrap_or_default());
            seal.seal(&frame, &name)?;
        }
        Ok(())
    }

    /// Stops ffmpeg and explains why, from its own log where it has one.
    fn failure(&mut self, what: String) -> VideoError {
        drop(self.stdin.take());
        let mut log = String::new();
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
            log = self.stderr.join();
        }
        let detail = if log.trim().is_empty() {
            what
        } else {
            format!("{what}: {}", tail(&log))
        };
        VideoError::Encode {
            path: self.output.clone(),
            detail,
        }
    }
}

/// A track timescale that represents the frame times exactly: a constant rate's own (a whole
/// number of ticks a frame), else the source's.
fn timescale(s: &MediaInfo, rate: Option<(i64, i64)>) -> i64 {
    if let Some((num, _)) = rate.filter(|&(n, d)| n > 0 && d > 0) {
        // At least 10,000 ticks a second, in whole multiples of the rate's numerator.
        return num * (10_000 + num - 1).div_euclid(num).max(1);
    }
    let den = s.time_base.1;
    if (1..=1_000_000).contains(&den) && den % s.time_base.0.max(1) == 0 {
        den
    } else {
        90_000
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        if !self.committed {
            drop(self.stdin.take());
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            let _ = fs::remove_dir_all(&self.temp);
            let _ = fs::remove_file(&self.temp);
        }
    }
}
