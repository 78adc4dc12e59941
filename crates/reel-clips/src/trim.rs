//! A clip cut to a range of its frames, their timing and the sound under them kept.

use std::path::Path;

use reel_image::Image;
use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame, Timestamp};

use crate::soundtrack::{self, Piece};
use crate::{ClipError, Output};

/// A point in a clip: seconds from its first frame, or a frame's index.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Point {
    Seconds(f64),
    Frame(u64),
}

impl std::str::FromStr for Point {
    type Err = String;

    /// `12.5` (seconds), `1:02.5` or `0:01:02.5` (minutes and hours), `150f` (a frame).
    fn from_str(text: &str) -> Result<Point, String> {
        let bad = || format!("{text}: give seconds (12.5), a time (1:02.5) or a frame (150f)");
        if let Some(frame) = text.strip_suffix('f') {
            return frame.parse().map(Point::Frame).map_err(|_| bad());
        }
        let mut seconds = 0.0;
        for part in text.split(':') {
            let value: f64 = part.parse().map_err(|_| bad())?;
            if !(value.is_finite() && value >= 0.0) {
                return Err(bad());
            }
            seconds = seconds * 60.0 + value;
        }
        Ok(Point::Seconds(seconds))
    }
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Point::Seconds(s) => write!(f, "{s} s"),
            Point::Frame(n) => write!(f, "frame {n}"),
        }
    }
}

impl Point {
    /// Whether a frame (its index, and seconds from the clip's first frame) is at or after
    /// this point.
    fn reached(self, index: u64, seconds: f64) -> bool {
        match self {
            // Half a microsecond of slack: a time typed as shown lands on its frame.
            Point::Seconds(s) => seconds >= s - 5e-7,
            Point::Frame(f) => index >= f,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TrimReport {
    /// The first frame kept, and how many.
    pub first: u64,
    pub frames: u64,
    /// Seconds from the clip's first frame to the first frame kept, and the length kept.
    pub start: f64,
    pub seconds: f64,
    pub audio: bool,
}

/// Writes the frames of `input` from `from` (inclusive; the start by default) to `to`
/// (exclusive; the end by default) into `output`, each through `mark`, with the sound under
/// them. `progress` hears (frames read, frames in the clip) and returns false to stop.
pub fn trim(
    input: &Path,
    from: Option<Point>,
    to: Option<Point>,
    output: &Output,
    mut mark: impl FnMut(&mut Image, f64),
    mut progress: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<TrimReport, ClipError> {
    let mut decoder = Decoder::open(input)?;
    let info = decoder.info().clone();
    if info.is_still {
        return Err(ClipError::Settings(format!(
            "{} is a still image; trim takes a video clip",
            input.display()
        )));
    }
    let settings = EncoderSettings {
        audio_from: None,
        crf: output.crf,
        ..EncoderSettings::like_source(output.codec, &info).sealed(output.seal.clone())
    };
    let mut encoder: Option<Encoder> = None;
    let mut frame = Frame::default();
    let mut origin: Option<Timestamp> = None;
    let mut first: Option<(u64, Timestamp)> = None;
    let mut kept = 0u64;
    let mut end: Option<f64> = None;
    let mut last_seconds = 0.0;
    let own = info.rate();
    let frame_seconds = own.1 as f64 / own.0.max(1) as f64;
    while decoder.next_frame(&mut frame)? {
        if reel_core::stop::requested() || !progress(frame.index + 1, info.declared_frames) {
            return Err(ClipError::Cancelled);
        }
        let time = frame.time.unwrap_or(Timestamp {
            pts: frame.index as i64,
            num: info.frame_rate.1,
            den: info.frame_rate.0,
        });
        let zero = *origin.get_or_insert(time);
        let seconds = time.seconds() - zero.seconds();
        if to.is_some_and(|p| p.reached(frame.index, seconds)) {
            end = Some(seconds);
            break;
        }
        if !from.is_none_or(|p| p.reached(frame.index, seconds)) {
            continue;
        }
        let (_, start) = *first.get_or_insert((frame.index, time));
        if encoder.is_none() {
            encoder = Some(Encoder::create(
                &output.path,
                frame.image.width,
                frame.image.height,
                &settings,
            )?);
        }
        // Shown from the start of the output, at the source's own times.
        let shown = Timestamp {
            pts: time.pts - start.pts,
            ..time
        };
        mark(&mut frame.image, shown.seconds());
        encoder
            .as_mut()
            .expect("made above")
            .write(&frame.image, Some(shown))?;
        kept += 1;
        last_seconds = seconds;
        if output.codec == Codec::Image {
            break;
        }
    }
    let (Some(encoder), Some((first_index, start))) = (encoder, first) else {
        return Err(ClipError::Settings(format!(
            "{}: no frame lies in the range asked for ({} frames in the clip)",
            input.display(),
            decoder.decoded()
        )));
    };
    let start_seconds = start.seconds() - origin.expect("set with first").seconds();
    // The kept frames last until the next frame (or, at the clip's end, one frame more).
    let seconds = end.unwrap_or(last_seconds + frame_seconds) - start_seconds;
    let sound = match (output.codec, &info.audio_codec) {
        (Codec::H264 | Codec::H265 | Codec::ProRes, Some(_)) => soundtrack::write(
            &[Piece {
                path: input.to_path_buf(),
                has_audio: true,
                start: 0.0,
                duration: seconds,
                offset: start.seconds() - info.audio_start.unwrap_or(0.0),
            }],
            info.audio_rate.unwrap_or(48_000),
            info.audio_channels.unwrap_or(2).clamp(1, 8),
        )?,
        _ => None,
    };
    encoder.finish_with_audio(sound.as_ref().map(|s| s.path()))?;
    Ok(TrimReport {
        first: first_index,
        frames: kept,
        start: start_seconds,
        seconds,
        audio: sound.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse() {
        assert_eq!("12.5".parse::<Point>(), Ok(Point::Seconds(12.5)));
        assert_eq!("1:02.5".parse::<Point>(), Ok(Point::Seconds(62.5)));
        assert_eq!("1:00:00".parse::<Point>(), Ok(Point::Seconds(3600.0)));
        assert_eq!("150f".parse::<Point>(), Ok(Point::Frame(150)));
        assert!("-3".parse::<Point>().is_err());
        assert!("ten".parse::<Point>().is_err());
        assert!("1.5f".parse::<Point>().is_err());
    }
}
