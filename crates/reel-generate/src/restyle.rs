//! Video to video over a whole clip: the clip in overlapping windows of the model's length,
//! each encoded, noised to the strength and denoised under the prompt, the windows crossfaded
//! where they overlap; the clip's frame count, timing and sound kept.

use std::collections::VecDeque;
use std::path::Path;

use reel_clips::Output;
use reel_diffusion::pipelines::wan::{Request, SourceVideo, WanVideo};
use reel_image::Image;
use reel_video::{Decoder, Encoder, EncoderSettings, Frame, Timestamp, probe};

use crate::GenerateError;
use crate::frames::{Event, render, scan, to_size};
use crate::windows::{newer_weight, plan};

#[derive(Debug, Clone, Copy)]
pub struct RestyleSettings {
    /// The share of the schedule that is run: low keeps more of the clip.
    pub strength: f64,
    /// Frames a generation takes at most (4k+1).
    pub window: usize,
    /// Frames each window shares with the one before (mixed from one to the other).
    pub overlap: usize,
}

#[derive(Debug, Clone)]
pub struct RestyleReport {
    pub frames: u64,
    pub windows: usize,
    pub width: usize,
    pub height: usize,
    pub audio: bool,
}

/// Restyles `clip` into `output` under `base`'s prompt and settings (its size is the size
/// generated at; the output keeps the clip's). Every frame passes through `mark` (with its time
/// in seconds) before it is written.
pub fn restyle(
    pipeline: &WanVideo,
    base: &Request,
    clip: &Path,
    settings: &RestyleSettings,
    output: &Output,
    mark: &mut dyn FnMut(&mut Image, f64),
    progress: &mut dyn FnMut(Event) -> bool,
) -> Result<RestyleReport, GenerateError> {
    if settings.window % 4 != 1 {
        return Err(GenerateError::Settings(format!(
            "a window of {} frames: the model makes 4k+1 (for example 33 or 81)",
            settings.window
        )));
    }
    let info = probe(clip)?;
    let scanned = scan(clip)?;
    let n = scanned.frames;
    let windows = plan(n, settings.window, settings.overlap);
    let length = windows[0].len();
    // Every check the pipeline makes, before a model loads or a file is made.
    let mut request = Request {
        frames: length,
        video: Some(SourceVideo {
            frames: vec![Image::new(1, 1); length],
            strength: settings.strength,
        }),
        ..base.clone()
    };
    pipeline.check(&request)?;

    let (width, height) = (scanned.last.width, scanned.last.height);
    let encoder_settings = EncoderSettings {
        crf: output.crf,
        ..EncoderSettings::like_source(output.codec, &info).sealed(output.seal.clone())
    };
    let mut encoder = Encoder::create(&output.path, width, height, &encoder_settings)?;
    let rate = info.rate();
    let time_of = |i: usize| {
        scanned.times[i].unwrap_or(Timestamp {
            pts: i as i64 * rate.1,
            num: 1,
            den: rate.0,
        })
    };

    let mut decoder = Decoder::open(clip)?;
    let mut frame = Frame::default();
    // Source frames from `source_start`, and restyled ones from `made_start` not yet written.
    let mut source: VecDeque<Image> = VecDeque::new();
    let mut source_start = 0;
    let mut made: VecDeque<Image> = VecDeque::new();
    let mut made_start = 0;
    for (j, window) in windows.iter().enumerate() {
        while source_start + source.len() < window.end {
            if !decoder.next_frame(&mut frame)? {
                return Err(GenerateError::Settings(format!(
                    "{} ended early on a second reading ({} of {n} frames)",
                    clip.display(),
                    source_start + source.len()
                )));
            }
            source.push_back(std::mem::take(&mut frame.image));
        }
        while source_start < window.start {
            source.pop_front();
            source_start += 1;
        }
        if let Some(video) = &mut request.video {
            // Stretched to the generation size (of nearly the clip's shape), so that the
            // output, stretched back, lies exactly over the clip.
            video.frames = source
                .iter()
                .take(window.len())
                .map(|f| to_size(f.clone(), request.width, request.height))
                .collect();
        }
        if !progress(Event::Pass {
            index: j,
            of: windows.len(),
        }) {
            return Err(GenerateError::Cancelled);
        }
        let mut i = window.start;
        let overlap = window.start..made_start + made.len();
        render(pipeline, &request, progress, |image| {
            let image = to_size(image, width, height);
            match made.get_mut(i.wrapping_sub(made_start)) {
                Some(older) if overlap.contains(&i) => {
                    mix(older, &image, newer_weight(i, overlap.clone()))
                }
                _ => made.push_back(image),
            }
            i += 1;
            Ok(())
        })?;
        // Frames no later window reaches are final.
        let until = windows.get(j + 1).map_or(n, |w| w.start);
        while made_start < until {
            let mut image = made.pop_front().expect("made covers the window");
            let time = time_of(made_start);
            mark(&mut image, time.seconds());
            encoder.write(&image, Some(time))?;
            made_start += 1;
            if !progress(Event::Written {
                done: made_start as u64,
                total: Some(n as u64),
            }) {
                return Err(GenerateError::Cancelled);
            }
        }
    }
    encoder.finish()?;
    Ok(RestyleReport {
        frames: n as u64,
        windows: windows.len(),
        width,
        height,
        audio: info.audio_codec.is_some() && encoder_settings.audio_from.is_some(),
    })
}

/// `older` moved towards `newer` by `weight`.
fn mix(older: &mut Image, newer: &Image, weight: f32) {
    for (a, &b) in older.data.iter_mut().zip(&newer.data) {
        *a = (*a as f32 + (b as f32 - *a as f32) * weight).round() as u8;
    }
}
