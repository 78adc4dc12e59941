//! Part of a still brought to life: the model generates a clip from the still and the prompt
//! with the latents outside the region held to the still's at every step, and each frame is
//! composited over the still with a mask feathered inward, so every pixel outside the region is
//! the still's own.

use reel_clips::Output;
use reel_diffusion::pipelines::image::crop_to_shape;
use reel_diffusion::pipelines::wan::{Region, Request, Task, WanVideo};
use reel_image::Image;
use reel_image::resize::{Filter, crop, resize};
use reel_video::{Encoder, EncoderSettings, Timestamp};

use crate::GenerateError;
use crate::frames::{Event, render, to_size};
use crate::region::{Mask, feather};

#[derive(Debug, Clone, Copy)]
pub struct AnimateSettings {
    /// 4k+1.
    pub frames: usize,
    pub fps: u32,
    /// How far inside the region's edge the generated picture fades in, in the still's pixels.
    pub feather: f32,
}

#[derive(Debug, Clone)]
pub struct AnimateReport {
    pub frames: u64,
    pub width: usize,
    pub height: usize,
    /// The share of the picture that moves.
    pub coverage: f64,
}

/// Where the video's shape sits in the still: the centred window the pipeline crops it to.
fn window(still: &Image, width: usize, height: usize) -> (usize, usize, usize, usize) {
    let framed = crop_to_shape(still, width, height);
    let (w, h) = (framed.width, framed.height);
    ((still.width - w) / 2, (still.height - h) / 2, w, h)
}

/// Animates the region `mask` marks on `still` into `output` at the still's own size, under `base`'s
/// prompt and settings (its size is the size generated at). Every frame passes through `mark`.
pub fn animate(
    pipeline: &WanVideo,
    base: &Request,
    (still, mask): (&Image, &Mask),
    settings: &AnimateSettings,
    output: &Output,
    mark: &mut dyn FnMut(&mut Image, f64),
    progress: &mut dyn FnMut(Event) -> bool,
) -> Result<AnimateReport, GenerateError> {
    if (mask.width, mask.height) != (still.width, still.height) {
        return Err(GenerateError::Settings(format!(
            "the mask is {}x{} and the image {}x{}",
            mask.width, mask.height, still.width, still.height
        )));
    }
    if settings.fps == 0 {
        return Err(GenerateError::Settings("--fps must be at least 1".into()));
    }
    let (width, height) = (base.width, base.height);
    // The still and its mask as the model sees them: the video's window, at its size.
    let (x0, y0, cw, ch) = window(still, width, height);
    let small = |img: &Image| to_size(crop(img, x0, y0, cw, ch), width, height);
    let mask_image = Image {
        width: mask.width,
        height: mask.height,
        data: mask.data.iter().flat_map(|&v| [v; 3]).collect(),
    };
    let held = small(still);
    let request = Request {
        frames: settings.frames,
        image: (pipeline.task() != Task::TextToVideo).then(|| held.clone()),
        region: Some(Region {
            still: held,
            // Any pixel touched by the region moves (resizing blurs its edge outward).
            moving: small(&mask_image)
                .data
                .chunks_exact(3)
                .map(|p| p[0])
                .collect(),
        }),
        ..base.clone()
    };
    pipeline.check(&request)?;

    let weights = feather(mask, settings.feather);
    let encoder_settings = EncoderSettings {
        codec: output.codec,
        crf: output.crf,
        audio_from: None,
        source: None,
        length: None,
        seal: output.seal.clone(),
        frame_rate: Some((settings.fps as i64, 1)),
    };
    let mut encoder = Encoder::create(&output.path, still.width, still.height, &encoder_settings)?;
    if !progress(Event::Pass { index: 0, of: 1 }) {
        return Err(GenerateError::Cancelled);
    }
    let mut written = 0u64;
    let mut frame = still.clone();
    render(pipeline, &request, progress, |made| {
        let made = resize(&made, cw, ch, Filter::Lanczos3);
        composite(still, &made, (x0, y0), &weights, &mut frame);
        let time = Timestamp {
            pts: written as i64,
            num: 1,
            den: settings.fps as i64,
        };
        mark(&mut frame, time.seconds());
        encoder.write(&frame, Some(time))?;
        written += 1;
        Ok(())
    })?;
    encoder.finish()?;
    Ok(AnimateReport {
        frames: written,
        width: still.width,
        height: still.height,
        coverage: mask.coverage(),
    })
}

/// `out` = the still, with `made` (placed at `at`) mixed in by `weights`; where a weight is 0
/// the still's bytes are copied as they are.
fn composite(still: &Image, made: &Image, at: (usize, usize), weights: &[f32], out: &mut Image) {
    out.data.copy_from_slice(&still.data);
    let w = still.width;
    for y in 0..made.height {
        for x in 0..made.width {
            let i = (y + at.1) * w + x + at.0;
            let f = weights[i];
            if f == 0.0 {
                continue;
            }
            let src = &made.data[(y * made.width + x) * 3..][..3];
            let dst = &mut out.data[i * 3..][..3];
            for (d, (&m, &s)) in dst
                .iter_mut()
                .zip(src.iter().zip(&still.data[i * 3..][..3]))
            {
                *d = (s as f32 + (m as f32 - s as f32) * f).round() as u8;
            }
        }
    }
}
