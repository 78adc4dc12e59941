//! A clip at another frame rate or speed, the frames between its own made from the motion
//! between them (dense optical flow each way), its sound kept in step.

use std::path::Path;

use reel_image::Image;
use reel_video::{Decoder, Encoder, EncoderSettings, Frame, Timestamp};

use crate::flow::{Flow, FlowSearch, FlowSettings, Pyramid};
use crate::interpolate::Interpolator;
use crate::soundtrack;
use crate::{ClipError, Output};

/// How a frame between two source frames is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Motion-compensated, from the optical flow each way.
    Flow,
    /// The two frames mixed by time (a dissolve; no motion).
    Blend,
    /// The nearest source frame, repeated or dropped.
    Nearest,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Flow => "flow",
            Method::Blend => "blend",
            Method::Nearest => "nearest",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Method, String> {
        Ok(match s {
            "flow" => Method::Flow,
            "blend" => Method::Blend,
            "nearest" => Method::Nearest,
            _ => return Err(format!("unknown method {s}; use flow, blend or nearest")),
        })
    }
}

#[derive(Clone, Debug)]
pub struct RetimeSettings {
    /// The output's frame rate (by default the source's).
    pub rate: Option<(i64, i64)>,
    /// Playback speed: 0.5 is slow motion at half speed, 2 twice as fast.
    pub speed: f64,
    pub method: Method,
    pub flow: FlowSettings,
    pub threads: usize,
}

impl Default for RetimeSettings {
    fn default() -> RetimeSettings {
        RetimeSettings {
            rate: None,
            speed: 1.0,
            method: Method::Flow,
            flow: FlowSettings::default(),
            threads: 2,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RetimeReport {
    pub frames: u64,
    /// Frames made between source frames (the rest are source frames as they were).
    pub made: u64,
    pub source_frames: u64,
    pub rate: (i64, i64),
    pub seconds: f64,
    pub audio: bool,
}

/// Which frame is shown next.
enum Pick {
    Held,
    After,
    Made,
}

/// A source frame and when it is shown, in seconds from the first.
struct Held {
    image: Image,
    seconds: f64,
    pyramid: Pyramid,
    /// Whether `pyramid` is this image's.
    built: bool,
}

/// Makes frames between two source frames, keeping their flows while the pair lasts.
pub struct Between {
    settings: FlowSettings,
    threads: usize,
    search: [FlowSearch; 2],
    flows: [Flow; 2],
    interpolator: Interpolator,
}

impl Between {
    pub fn new(settings: FlowSettings, threads: usize) -> Between {
        Between {
            settings,
            threads: threads.max(1),
            search: [FlowSearch::default(), FlowSearch::default()],
            flows: [Flow::default(), Flow::default()],
            interpolator: Interpolator::new(threads),
        }
    }

    /// The flows between two frames' pyramids, each way (on two threads where there are two).
    pub fn measure(&mut self, a: &Pyramid, b: &Pyramid) {
        let settings = self.settings;
        let [sab, sba] = &mut self.search;
        let [fab, fba] = &mut self.flows;
        if self.threads > 1 {
            std::thread::scope(|scope| {
                scope.spawn(|| sab.run(a, b, &settings, fab));
                sba.run(b, a, &settings, fba);
            });
        } else {
            sab.run(a, b, &settings, fab);
            sba.run(b, a, &settings, fba);
        }
    }

    /// The frame at `t` (0 to 1) from `a` to `b`, from the flows last measured.
    pub fn make(&mut self, a: &Image, b: &Image, t: f32, out: &mut Image) {
        let [ab, ba] = &self.flows;
        self.interpolator.between(a, b, ab, ba, t, out);
    }

    /// Frames of two different shots: flow as coarse as `width` (a smooth warp of the whole
    /// layout, where a fine one tears), mixed by time alone.
    pub fn between_shots(width: usize, threads: usize) -> Between {
        let mut between = Between::new(
            FlowSettings {
                width,
                ..FlowSettings::default()
            },
            threads,
        );
        between.interpolator.by_time_only = true;
        between
    }

    pub fn pyramid_levels(&self, width: usize, height: usize) -> usize {
        self.settings.levels(width, height)
    }
}

/// Writes `input` at `settings`' rate and speed into `output`, each frame through `mark`.
/// `progress` hears (frames written, frames expected) and returns false to stop.
pub fn retime(
    input: &Path,
    settings: &RetimeSettings,
    output: &Output,
    mut mark: impl FnMut(&mut Image, f64),
    mut progress: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<RetimeReport, ClipError> {
    let speed = settings.speed;
    if !(speed.is_finite() && (0.01..=100.0).contains(&speed)) {
        return Err(ClipError::Settings(format!(
            "speed {speed}: give a speed from 0.01 to 100 (0.5 is half speed)"
        )));
    }
    if output.codec == reel_video::Codec::Image {
        return Err(ClipError::Settings(format!(
            "{}: a retimed clip is a video; give a video file (.mp4, .mov) or a folder for PNG frames",
            output.path.display()
        )));
    }
    let mut decoder = Decoder::open(input)?;
    let info = decoder.info().clone();
    if info.is_still {
        return Err(ClipError::Settings(format!(
            "{} is a still image; retime takes a video clip",
            input.display()
        )));
    }
    let own = info.rate();
    let rate = settings.rate.unwrap_or(own);
    if rate.0 <= 0 || rate.1 <= 0 {
        return Err(ClipError::Settings("the frame rate must be above 0".into()));
    }
    let out_step = rate.1 as f64 / rate.0 as f64;
    let source_step = own.1 as f64 / own.0.max(1) as f64;
    let expected = info.duration.map(|d| (d / speed / out_step).round() as u64);
    let read = |decoder: &mut Decoder, origin: &mut Option<f64>, frame: &mut Frame| {
        decoder.next_frame(frame).map(|more| {
            more.then(|| {
                let at = frame.seconds();
                at - *origin.get_or_insert(at)
            })
        })
    };
    let mut origin = None;
    let mut frame = Frame::default();
    let Some(first_seconds) = read(&mut decoder, &mut origin, &mut frame)? else {
        return Err(ClipError::Settings(format!(
            "{} holds no frames",
            input.display()
        )));
    };
    let (width, height) = (frame.image.width, frame.image.height);
    if settings.method == Method::Flow && width.min(height) < crate::transition::MIN_FLOW_SIDE {
        return Err(ClipError::Settings(format!(
            "{} is {width}x{height}, too small to follow its motion; use --method blend",
            input.display()
        )));
    }
    let mut held = Held {
        image: std::mem::take(&mut frame.image),
        seconds: first_seconds,
        pyramid: Pyramid::default(),
        built: false,
    };
    let mut next: Option<Held> = match read(&mut decoder, &mut origin, &mut frame)? {
        Some(seconds) => Some(Held {
            image: std::mem::take(&mut frame.image),
            seconds,
            pyramid: Pyramid::default(),
            built: false,
        }),
        None => None,
    };
    let mut source_frames = 1 + u64::from(next.is_some());
    let encoder_settings = EncoderSettings {
        audio_from: None,
        crf: output.crf,
        frame_rate: Some(rate),
        ..EncoderSettings::like_source(output.codec, &info).sealed(output.seal.clone())
    };
    let mut encoder = Encoder::create(&output.path, width, height, &encoder_settings)?;
    let mut between = Between::new(settings.flow, settings.threads);
    let levels = between.pyramid_levels(width, height);
    let mut measured = false;
    let mut made_frame = Image::new(width, height);
    let mut shown = Image::new(width, height);
    let (mut written, mut made) = (0u64, 0u64);
    // Times are compared with a little slack: a frame due at a source frame's time is that frame.
    let slack = 1e-6;
    loop {
        let at = written as f64 * out_step * speed;
        while next.as_ref().is_some_and(|n| n.seconds <= at + slack) {
            let mut arrived = next.take().expect("checked");
            std::mem::swap(&mut held, &mut arrived);
            measured = false;
            // The old frame's buffers are reused for the one after.
            frame.image = arrived.image;
            next = match read(&mut decoder, &mut origin, &mut frame)? {
                Some(seconds) => {
                    source_frames += 1;
                    Some(Held {
                        image: std::mem::take(&mut frame.image),
                        seconds,
                        pyramid: arrived.pyramid,
                        built: false,
                    })
                }
                None => None,
            };
        }
        let pick = match &mut next {
            // The last source frame lasts one frame of the source's rate.
            None if at >= held.seconds + source_step - slack => break,
            None => Pick::Held,
            Some(_) if (at - held.seconds).abs() <= slack => Pick::Held,
            Some(after) => {
                let t = ((at - held.seconds) / (after.seconds - held.seconds)) as f32;
                match settings.method {
                    Method::Nearest if t < 0.5 => Pick::Held,
                    Method::Nearest => Pick::After,
                    Method::Blend => {
                        crate::transition::Transition::Crossfade.blend(
                            &held.image.data,
                            &after.image.data,
                            width,
                            t,
                            &mut made_frame.data,
                        );
                        Pick::Made
                    }
                    Method::Flow => {
                        for h in [&mut held, &mut *after] {
                            if !h.built {
                                h.pyramid.build(&h.image.data, width, height, levels);
                                h.built = true;
                            }
                        }
                        if !measured {
                            between.measure(&held.pyramid, &after.pyramid);
                            measured = true;
                        }
                        between.make(&held.image, &after.image, t, &mut made_frame);
                        Pick::Made
                    }
                }
            }
        };
        // Marked in a frame of its own: a source frame may be shown again.
        match pick {
            Pick::Held => shown.data.copy_from_slice(&held.image.data),
            Pick::After => shown
                .data
                .copy_from_slice(&next.as_ref().expect("picked").image.data),
            Pick::Made => {
                std::mem::swap(&mut shown, &mut made_frame);
                made += 1;
            }
        }
        mark(&mut shown, written as f64 * out_step);
        let time = Timestamp {
            pts: written as i64,
            num: rate.1,
            den: rate.0,
        };
        encoder.write(&shown, Some(time))?;
        written += 1;
        if reel_core::stop::requested() || !progress(written, expected) {
            return Err(ClipError::Cancelled);
        }
    }
    let seconds = written as f64 * out_step;
    let sound = match info.audio_codec {
        Some(_) if !matches!(output.codec, reel_video::Codec::PngSequence) => {
            let channels = info.audio_channels.unwrap_or(2).clamp(1, 8);
            let sample_rate = info.audio_rate.unwrap_or(48_000);
            Some(soundtrack::stretched(
                input,
                info.sound_at_first_frame(),
                speed,
                seconds,
                sample_rate,
                channels,
            )?)
        }
        _ => None,
    };
    encoder.finish_with_audio(sound.as_ref().map(|s| s.path()))?;
    Ok(RetimeReport {
        frames: written,
        made,
        source_frames,
        rate,
        seconds,
        audio: sound.is_some(),
    })
}
