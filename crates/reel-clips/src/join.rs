//! Clips one after another, conformed to one size and rate, with a transition at each join.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use reel_image::Image;
use reel_video::{
    Codec, Conform, ConformedReader, Encoder, EncoderSettings, Fit, MediaInfo, PictureKind,
    Timestamp, probe,
};

use crate::soundtrack::{self, Piece};
use crate::transition::Mixer;
use crate::{ClipError, Output, Transition, rate_text};

/// What a join makes.
#[derive(Clone, Debug)]
pub struct JoinSettings {
    pub transition: Transition,
    /// The length of each transition (ignored for cuts).
    pub seconds: f64,
    /// The output's size (by default the first clip's).
    pub size: Option<(usize, usize)>,
    /// The output's frame rate as a fraction (by default the first clip's).
    pub rate: Option<(i64, i64)>,
    /// How a clip of another shape is fitted.
    pub fit: Fit,
}

/// One clip as it was used.
#[derive(Clone, Debug)]
pub struct ClipReport {
    pub path: PathBuf,
    /// Its frames at the output's rate.
    pub frames: u64,
    /// How it was conformed, where it had to be.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct JoinReport {
    pub frames: u64,
    pub width: usize,
    pub height: usize,
    pub rate: (i64, i64),
    /// Frames each transition shares between its two clips.
    pub transition_frames: u64,
    pub clips: Vec<ClipReport>,
    pub audio: bool,
}

impl JoinReport {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 * self.rate.1 as f64 / self.rate.0 as f64
    }
}

fn kind_of(path: &Path, info: &MediaInfo) -> Result<PictureKind, ClipError> {
    if path.to_string_lossy().contains('%') {
        return Ok(PictureKind::Sequence);
    }
    if info.is_still {
        return Err(ClipError::Settings(format!(
            "{} is a still image, and a join takes video clips",
            path.display()
        )));
    }
    Ok(PictureKind::Video)
}

/// How `info` is fitted into the output, in words, where it is not as it comes.
fn conform_notes(
    info: &MediaInfo,
    width: usize,
    height: usize,
    rate: (i64, i64),
    fit: Fit,
) -> Vec<String> {
    let mut notes = Vec::new();
    if (info.width, info.height) != (width, height) {
        let same_shape = info.width * height == info.height * width;
        notes.push(match (same_shape, fit) {
            (true, _) => format!(
                "scaled from {}x{} to {width}x{height}",
                info.width, info.height
            ),
            (false, Fit::Pad) => format!(
                "{}x{} is another shape: scaled into {width}x{height} with black bars",
                info.width, info.height
            ),
            (false, Fit::Crop) => format!(
                "{}x{} is another shape: scaled to fill {width}x{height} and cropped, centred",
                info.width, info.height
            ),
        });
    }
    let own = info.rate();
    if own.0 * rate.1 != rate.0 * own.1 {
        notes.push(format!(
            "{} fps resampled to {} fps (frames repeated or dropped)",
            rate_text(own),
            rate_text(rate)
        ));
    }
    notes
}

/// Streams the frames it is given into the encoder, marked, counting them.
struct Writer<'a> {
    encoder: Encoder,
    mark: &'a mut dyn FnMut(&mut Image, f64),
    progress: &'a mut dyn FnMut(u64, Option<u64>) -> bool,
    expected: Option<u64>,
    width: usize,
    height: usize,
    rate: (i64, i64),
    written: u64,
}

impl Writer<'_> {
    /// Writes one frame and gives its buffer back.
    fn emit(&mut self, data: Vec<u8>) -> Result<Vec<u8>, ClipError> {
        let mut image = Image {
            width: self.width,
            height: self.height,
            data,
        };
        let seconds = self.written as f64 * self.rate.1 as f64 / self.rate.0 as f64;
        (self.mark)(&mut image, seconds);
        // Each frame's own time, never a sum of rounded frame lengths (which drifts).
        let time = Timestamp {
            pts: self.written as i64,
            num: self.rate.1,
            den: self.rate.0,
        };
        self.encoder.write(&image, Some(time))?;
        self.written += 1;
        if reel_core::stop::requested() || !(self.progress)(self.written, self.expected) {
            return Err(ClipError::Cancelled);
        }
        Ok(image.data)
    }
}

/// Joins `clips` into `output`, in order, with `settings.transition` between each two. Every
/// frame passes through `mark` (with its time in seconds) before it is written; `progress`
/// hears (frames written, frames expected) and returns false to stop (nothing is written).
pub fn join(
    clips: &[PathBuf],
    settings: &JoinSettings,
    output: &Output,
    mut mark: impl FnMut(&mut Image, f64),
    mut progress: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<JoinReport, ClipError> {
    if clips.len() < 2 {
        return Err(ClipError::Settings("a join needs two clips or more".into()));
    }
    if output.codec == Codec::Image {
        return Err(ClipError::Settings(format!(
            "{}: a join is a video; give a video file (.mp4, .mov) or a folder for PNG frames",
            output.path.display()
        )));
    }
    let infos = clips
        .iter()
        .map(|c| probe(c).map_err(ClipError::from))
        .collect::<Result<Vec<_>, _>>()?;
    let kinds = clips
        .iter()
        .zip(&infos)
        .map(|(c, i)| kind_of(c, i))
        .collect::<Result<Vec<_>, _>>()?;
    let first = &infos[0];
    let (width, height) = settings.size.unwrap_or((first.width, first.height));
    let rate = settings.rate.unwrap_or(first.rate());
    if width == 0 || height == 0 || rate.0 <= 0 || rate.1 <= 0 {
        return Err(ClipError::Settings(
            "the output needs a size and a frame rate".into(),
        ));
    }
    let shared = match settings.transition {
        Transition::Cut => 0,
        _ => {
            if !(settings.seconds.is_finite()
                && settings.seconds > 0.0
                && settings.seconds <= 3600.0)
            {
                return Err(ClipError::Settings(format!(
                    "a {} needs a length above 0 seconds and at most an hour (a join without one is --transition cut)",
                    settings.transition.name()
                )));
            }
            let frames = (settings.seconds * rate.0 as f64 / rate.1 as f64).round() as usize;
            frames.max(1)
        }
    };
    // Clips too short for their transitions, refused before anything is written where their
    // declared length says so (and, where it does not, when they end).
    let needs = |i: usize| shared * (usize::from(i > 0) + usize::from(i + 1 < clips.len()));
    let estimate = |info: &MediaInfo| {
        info.duration
            .map(|d| (d * rate.0 as f64 / rate.1 as f64).round() as u64)
    };
    for (i, info) in infos.iter().enumerate() {
        if let Some(frames) = estimate(info)
            && (frames as usize) < needs(i)
        {
            return Err(too_short(&clips[i], frames, needs(i), rate));
        }
    }
    let expected = infos
        .iter()
        .map(estimate)
        .sum::<Option<u64>>()
        .map(|n| n.saturating_sub((shared * (clips.len() - 1)) as u64));
    let encoder_settings = EncoderSettings {
        codec: output.codec,
        crf: output.crf,
        audio_from: None,
        source: Some(first.clone()),
        length: None,
        seal: output.seal.clone(),
        frame_rate: Some(rate),
    };
    let mut writer = Writer {
        encoder: Encoder::create(&output.path, width, height, &encoder_settings)?,
        mark: &mut mark,
        progress: &mut progress,
        expected,
        width,
        height,
        rate,
        written: 0,
    };
    let conform = Conform {
        width,
        height,
        rate,
        fit: settings.fit,
        alpha: false,
        looped: false,
    };
    let mut mixer = Mixer::new(settings.transition, 2)?;
    let mut pool: Vec<Vec<u8>> = Vec::new();
    // The end of the clip before, waiting for the start of this one.
    let mut incoming: VecDeque<Vec<u8>> = VecDeque::new();
    let mut reports = Vec::with_capacity(clips.len());
    for (i, clip) in clips.iter().enumerate() {
        let last = i + 1 == clips.len();
        let mut reader = ConformedReader::open(clip, kinds[i], &conform)?;
        let mut outgoing: VecDeque<Vec<u8>> = VecDeque::with_capacity(shared + 1);
        let mut k = 0usize;
        loop {
            let mut frame = pool.pop().unwrap_or_default();
            if !reader.next_frame(&mut frame)? {
                pool.push(frame);
                break;
            }
            if let Some(from) = incoming.pop_front().filter(|_| k < shared) {
                let picture = |data: Vec<u8>| Image {
                    width,
                    height,
                    data,
                };
                let (from, to) = (picture(from), picture(frame));
                let mut blended = picture(pool.pop().unwrap_or_default());
                let progress = (k + 1) as f32 / (shared + 1) as f32;
                mixer.mix(&from, &to, progress, &mut blended)?;
                pool.push(from.data);
                pool.push(to.data);
                pool.push(writer.emit(blended.data)?);
            } else if !last {
                outgoing.push_back(frame);
                if outgoing.len() > shared {
                    let ready = outgoing.pop_front().expect("longer than shared");
                    pool.push(writer.emit(ready)?);
                }
            } else {
                pool.push(writer.emit(frame)?);
            }
            k += 1;
        }
        if k < needs(i).max(1) {
            return Err(too_short(clip, k as u64, needs(i).max(1), rate));
        }
        reports.push(ClipReport {
            path: clip.clone(),
            frames: k as u64,
            notes: conform_notes(&infos[i], width, height, rate, settings.fit),
        });
        incoming = outgoing;
    }
    // The sound, laid over the frames as they came out.
    let mut pieces = Vec::with_capacity(clips.len());
    let mut start = 0u64;
    let seconds = |frames: u64| frames as f64 * rate.1 as f64 / rate.0 as f64;
    for (report, info) in reports.iter().zip(&infos) {
        pieces.push(Piece {
            path: report.path.clone(),
            has_audio: info.audio_codec.is_some(),
            start: seconds(start),
            duration: seconds(report.frames),
            offset: info.sound_at_first_frame(),
        });
        start += report.frames - shared as u64;
    }
    let (sample_rate, channels) =
        infos
            .iter()
            .find(|i| i.audio_codec.is_some())
            .map_or((48_000, 2), |i| {
                (
                    i.audio_rate.unwrap_or(48_000),
                    i.audio_channels.unwrap_or(2).clamp(1, 8),
                )
            });
    let sound = match output.codec {
        Codec::PngSequence => None,
        _ => soundtrack::write(&pieces, sample_rate, channels)?,
    };
    let frames = writer.written;
    writer
        .encoder
        .finish_with_audio(sound.as_ref().map(|s| s.path()))?;
    Ok(JoinReport {
        frames,
        width,
        height,
        rate,
        transition_frames: shared as u64,
        clips: reports,
        audio: sound.is_some(),
    })
}

fn too_short(clip: &Path, frames: u64, needed: usize, rate: (i64, i64)) -> ClipError {
    ClipError::Settings(format!(
        "{} is {frames} frames at {} fps, and its transitions need {needed}; shorten them (--seconds)",
        clip.display(),
        rate_text(rate)
    ))
}
