//! Text to video and image to video (or a still, or a seamless loop): one generation written
//! as it is decoded, every frame marked.

use reel_clips::Output;
use reel_diffusion::pipelines::wan::{Request, WanVideo};
use reel_image::Image;
use reel_video::{Encoder, EncoderSettings, Timestamp};

use crate::GenerateError;
use crate::frames::{Event, render};

#[derive(Debug, Clone, Copy)]
pub struct VideoSettings {
    pub fps: u32,
    /// The request's last frame is its first image: the clip ends where it began, and the
    /// closing frame (the first again) is left out so that the clip repeats without a held frame.
    pub looped: bool,
}

#[derive(Debug, Clone)]
pub struct VideoReport {
    pub frames: u64,
    pub width: usize,
    pub height: usize,
}

/// The task as the credentials name it.
pub fn video_task(image: bool, looped: bool) -> &'static str {
    match (image, looped) {
        (true, true) => "image to looping video",
        (true, false) => "image to video",
        (false, _) => "text to video",
    }
}

/// The frame count the model makes for `frames`: the 4k+1 just above its multiple of four
/// (81 stays 81, 80 becomes 81, 4 becomes 5; 1 makes an image), or an error.
pub fn model_frames(frames: usize) -> Result<usize, GenerateError> {
    if frames == 0 {
        return Err(GenerateError::Settings("frames must be at least 1".into()));
    }
    Ok(frames / 4 * 4 + 1)
}

/// Generates `request` (its frames, image and last image set) into `output`; every frame
/// passes through `mark`.
pub fn video(
    pipeline: &WanVideo,
    request: &Request,
    settings: &VideoSettings,
    output: &Output,
    mark: &mut dyn FnMut(&mut Image, f64),
    progress: &mut dyn FnMut(Event) -> bool,
) -> Result<VideoReport, GenerateError> {
    if settings.fps == 0 {
        return Err(GenerateError::Settings("fps must be at least 1".into()));
    }
    if settings.looped && (request.frames < 5 || request.image.is_none()) {
        return Err(GenerateError::Settings(
            "a loop needs an image and 5 frames or more".into(),
        ));
    }
    pipeline.check(request)?;
    let kept = request.frames - usize::from(settings.looped);
    let (width, height) = (request.width, request.height);
    let encoder_settings = EncoderSettings {
        codec: output.codec,
        crf: output.crf,
        audio_from: None,
        source: None,
        length: None,
        seal: output.seal.clone(),
        frame_rate: Some((settings.fps as i64, 1)),
    };
    let mut encoder = Encoder::create(&output.path, width, height, &encoder_settings)?;
    if !progress(Event::Pass { index: 0, of: 1 }) {
        return Err(GenerateError::Cancelled);
    }
    let mut written = 0u64;
    render(pipeline, request, progress, |mut image| {
        if written as usize == kept {
            return Ok(());
        }
        let time = Timestamp {
            pts: written as i64,
            num: 1,
            den: settings.fps as i64,
        };
        mark(&mut image, time.seconds());
        encoder.write(&image, Some(time))?;
        written += 1;
        Ok(())
    })?;
    encoder.finish()?;
    Ok(VideoReport {
        frames: written,
        width,
        height,
    })
}
