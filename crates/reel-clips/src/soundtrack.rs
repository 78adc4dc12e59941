//! The sound of an edited clip: each piece's audio laid over exactly its frames, pieces that
//! overlap crossfaded at equal power, streamed into a WAV file that the encoder adds to the
//! finished picture. A piece without audio is silence for its length.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use reel_core::io;
use reel_video::{AudioReader, VideoError};

use crate::ClipError;

/// One clip's part of the output.
#[derive(Clone, Debug)]
pub struct Piece {
    pub path: PathBuf,
    pub has_audio: bool,
    /// Where it starts in the output, in seconds.
    pub start: f64,
    /// How long it lasts there (its frames' duration).
    pub duration: f64,
    /// Seconds into the clip's audio where its first frame is shown.
    pub offset: f64,
}

/// A temporary WAV file, removed when dropped.
#[derive(Debug)]
pub struct TempAudio(PathBuf);

impl TempAudio {
    /// A fresh name in the temporary folder.
    fn new() -> TempAudio {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TempAudio(std::env::temp_dir().join(format!(".reel-sound-{}-{n}.wav", std::process::id())))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempAudio {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The sample at `seconds`.
fn sample_at(seconds: f64, sample_rate: u32) -> u64 {
    (seconds.max(0.0) * sample_rate as f64).round() as u64
}

/// Writes the pieces' sound at `sample_rate` Hz in `channels` channels, or None when no piece
/// has audio. Pieces are in order; each may overlap the one before it (a transition).
pub fn write(
    pieces: &[Piece],
    sample_rate: u32,
    channels: u16,
) -> Result<Option<TempAudio>, ClipError> {
    if !pieces.iter().any(|p| p.has_audio) {
        return Ok(None);
    }
    let temp = TempAudio::new();
    let file = File::create(temp.path()).map_err(io(format!("creating {}", temp.0.display())))?;
    let mut wav = Wav::start(
        BufWriter::with_capacity(1 << 20, file),
        sample_rate,
        channels,
    )
    .map_err(io("writing the sound"))?;
    let ch = channels as usize;
    // The end of the piece before, still to be mixed with the start of the next.
    let mut pending: Vec<f32> = Vec::new();
    let mut block = vec![0f32; 4096 * ch];
    for (i, piece) in pieces.iter().enumerate() {
        let first = sample_at(piece.start, sample_rate);
        let end = sample_at(piece.start + piece.duration, sample_rate);
        let length = (end - first) as usize;
        let fade_in = pending.len() / ch;
        let fade_out = pieces.get(i + 1).map_or(0, |next| {
            end.saturating_sub(sample_at(next.start, sample_rate)) as usize
        });
        if fade_in + fade_out > length {
            return Err(ClipError::Settings(format!(
                "{} is too short for its transitions",
                piece.path.display()
            )));
        }
        let mut source = match piece.has_audio {
            true => Some(Source::open(
                &piece.path,
                sample_rate,
                channels,
                piece.offset,
            )?),
            false => None,
        };
        let mut next_pending = Vec::with_capacity(fade_out * ch);
        let mut at = 0usize;
        while at < length {
            let want = (length - at).min(block.len() / ch);
            let got = match &mut source {
                Some(s) => s.read(&mut block[..want * ch])?,
                None => 0,
            };
            // Past the end of a clip's audio: silence.
            block[got * ch..want * ch].fill(0.0);
            for q in 0..want {
                let frame = &mut block[q * ch..(q + 1) * ch];
                let t = at + q;
                if t < fade_in {
                    let angle = std::f32::consts::FRAC_PI_2 * (t as f32 + 0.5) / fade_in as f32;
                    let (rise, fall) = angle.sin_cos();
                    for (c, s) in frame.iter_mut().enumerate() {
                        *s = pending[t * ch + c] * fall + *s * rise;
                    }
                }
                if t >= length - fade_out {
                    next_pending.extend_from_slice(frame);
                } else {
                    wav.samples(frame).map_err(io("writing the sound"))?;
                }
            }
            at += want;
            if reel_core::stop::requested() {
                return Err(ClipError::Cancelled);
            }
        }
        pending = next_pending;
    }
    wav.samples(&pending).map_err(io("writing the sound"))?;
    wav.finish().map_err(io("writing the sound"))?;
    Ok(Some(temp))
}

/// The sound of `input` from `offset` seconds (where its first frame is shown) played at
/// `speed` with its pitch kept (ffmpeg's `atempo`, a
/// waveform-similarity overlap-add), made exactly `seconds` long.
pub fn stretched(
    input: &Path,
    offset: f64,
    speed: f64,
    seconds: f64,
    sample_rate: u32,
    channels: u16,
) -> Result<TempAudio, ClipError> {
    let temp = TempAudio::new();
    // atempo takes 0.5 to 2 at a time, so slower and faster speeds are made in stages.
    let mut stages = Vec::new();
    let mut left = speed;
    while left > 2.0 {
        stages.push(2.0);
        left /= 2.0;
    }
    while left < 0.5 {
        stages.push(0.5);
        left /= 0.5;
    }
    if (left - 1.0).abs() > 1e-9 {
        stages.push(left);
    }
    // From the sound under the first frame.
    let mut filters = Vec::new();
    if offset > 0.0 {
        filters.push(format!("atrim=start={offset:.6},asetpts=PTS-STARTPTS"));
    } else if offset < 0.0 {
        filters.push(format!("adelay={:.3}:all=1", -offset * 1000.0));
    }
    filters.extend(stages.iter().map(|s| format!("atempo={s:.9}")));
    filters.push(format!(
        "apad=whole_dur={seconds:.6},atrim=duration={seconds:.6}"
    ));
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(reel_video::input_arg(input))
        .args(["-map", "0:a:0", "-vn", "-af", &filters.join(",")])
        .args([
            "-ac",
            &channels.to_string(),
            "-ar",
            &sample_rate.to_string(),
        ])
        .args(["-c:a", "pcm_f32le", "-f", "wav"])
        .arg(temp.path())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| VideoError::MissingTool {
            program: "ffmpeg",
            source,
        })?;
    if !out.status.success() {
        return Err(VideoError::Decode {
            path: input.to_path_buf(),
            frames: 0,
            detail: format!(
                "its sound could not be stretched: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
        .into());
    }
    Ok(temp)
}

/// A clip's audio from a time on.
struct Source {
    reader: AudioReader,
    ended: bool,
    /// Silence to give before the sound (where it starts after the picture), in samples.
    lead: usize,
}

impl Source {
    fn open(path: &Path, rate: u32, channels: u16, offset: f64) -> Result<Source, ClipError> {
        let mut source = Source {
            reader: AudioReader::open_channels(path, rate, channels)?,
            ended: false,
            lead: (-offset).max(0.0).mul_add(rate as f64, 0.5) as usize * channels as usize,
        };
        // Exact to the sample, which seeking in the file is not.
        let mut skip = (offset.max(0.0) * rate as f64).round() as usize * channels as usize;
        let mut scratch = vec![0f32; (4096 * channels as usize).min(skip.max(1))];
        while skip > 0 && !source.ended {
            let n = skip.min(scratch.len());
            let got = source.read(&mut scratch[..n])?;
            skip -= n.min(got * channels as usize);
        }
        Ok(source)
    }

    /// Fills `block` (interleaved); returns the sample frames read, fewer at the end.
    fn read(&mut self, block: &mut [f32]) -> Result<usize, ClipError> {
        let channels = self.reader.channels();
        if self.lead > 0 {
            let n = self.lead.min(block.len()) / channels * channels;
            block[..n].fill(0.0);
            self.lead -= n;
            if n > 0 {
                return Ok(n / channels);
            }
        }
        if self.ended {
            return Ok(0);
        }
        let got = match self.reader.read(block) {
            Ok(n) => n,
            // A clip's sound that cannot be read is an error, but a clip whose sound ends
            // before its picture is silence from there on.
            Err(VideoError::NoAudio { .. }) => 0,
            Err(e) => return Err(e.into()),
        };
        if got < block.len() {
            self.ended = true;
        }
        Ok(got / channels)
    }
}

/// A WAV file of 32-bit float samples, its sizes written at the end.
struct Wav<W: Write + Seek> {
    out: W,
    bytes: u64,
}

impl<W: Write + Seek> Wav<W> {
    fn start(mut out: W, rate: u32, channels: u16) -> std::io::Result<Wav<W>> {
        let block = channels as u32 * 4;
        out.write_all(b"RIFF\0\0\0\0WAVEfmt ")?;
        out.write_all(&16u32.to_le_bytes())?;
        out.write_all(&3u16.to_le_bytes())?; // IEEE float
        out.write_all(&channels.to_le_bytes())?;
        out.write_all(&rate.to_le_bytes())?;
        out.write_all(&(rate * block).to_le_bytes())?;
        out.write_all(&(block as u16).to_le_bytes())?;
        out.write_all(&32u16.to_le_bytes())?;
        out.write_all(b"data\0\0\0\0")?;
        Ok(Wav { out, bytes: 0 })
    }

    fn samples(&mut self, samples: &[f32]) -> std::io::Result<()> {
        for s in samples {
            self.out.write_all(&s.to_le_bytes())?;
        }
        self.bytes += samples.len() as u64 * 4;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        let data = u32::try_from(self.bytes).map_err(|_| {
            std::io::Error::other("the sound is longer than a WAV file holds (about 3 hours)")
        })?;
        self.out.seek(SeekFrom::Start(4))?;
        self.out.write_all(&(data + 36).to_le_bytes())?;
        self.out.seek(SeekFrom::Start(40))?;
        self.out.write_all(&data.to_le_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_of_ntsc_frames_lands_on_its_sample() {
        // 30000/1001 fps at 48 kHz is 1601.6 samples a frame: positions come from the time,
        // never from a sum of rounded frame lengths.
        let frames = 107_892u64;
        let seconds = frames as f64 * 1001.0 / 30000.0;
        assert_eq!(sample_at(seconds, 48000), 172_799_827);
        assert_eq!(sample_at(1.0, 48000), 48000);
    }
}
