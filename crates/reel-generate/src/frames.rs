//! Frames between the pipelines and the video layer: generated chunks as 8-bit images, the
//! stills a clip is conditioned on, sizes the models take.

use std::path::Path;

use reel_diffusion::DiffusionError;
use reel_diffusion::pipelines::wan::{Request, Stage, WanVideo};
use reel_image::Image;
use reel_image::resize::{Filter, resize};
use reel_video::{Decoder, Frame, Timestamp, probe};

use crate::GenerateError;

/// Where a job is, for a progress display; the callback returns false to stop it.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// Generation `index` (from 0) of `of` begins.
    Pass { index: usize, of: usize },
    /// Where the current generation is.
    Stage(Stage),
    /// Frames of the output written, of the expected total.
    Written { done: u64, total: Option<u64> },
}

/// A generating job's events as the fraction of it done (0 to 1, never going back), for a
/// queue's progress: each generation's denoising steps and decoding, and the frames written.
#[derive(Debug, Clone, Default)]
pub struct Fraction {
    steps: usize,
    pass: (usize, usize),
    step: usize,
    decoded: f64,
    written: f64,
    done: f64,
}

impl Fraction {
    /// Takes in `event`; the fraction done after it.
    pub fn on(&mut self, event: &Event) -> f64 {
        match *event {
            Event::Pass { index, of } => {
                self.pass = (index, of.max(1));
                self.step = 0;
                self.decoded = 0.0;
            }
            Event::Stage(Stage::Step(report)) => {
                self.step = report.step;
                self.steps = report.steps.max(1);
            }
            Event::Stage(Stage::Decoded { done, total }) => {
                self.decoded = done as f64 / total.max(1) as f64
            }
            Event::Stage(_) => {}
            Event::Written { done, total } => {
                if let Some(total) = total {
                    self.written = done as f64 / total.max(1) as f64;
                }
            }
        }
        // Denoising is most of a generation's time, decoding the rest; writing (a join, or a
        // window's frames) is quick beside both.
        let within =
            0.85 * (self.step as f64 / self.steps.max(1) as f64).min(1.0) + 0.15 * self.decoded;
        let generated = (self.pass.0 as f64 + within) / self.pass.1.max(1) as f64;
        self.done = self
            .done
            .max((0.95 * generated.min(1.0) + 0.05 * self.written).min(1.0));
        self.done
    }
}

/// Generates `request`, handing each frame to `each` as an 8-bit image of the request's size.
pub fn render(
    pipeline: &WanVideo,
    request: &Request,
    progress: &mut dyn FnMut(Event) -> bool,
    mut each: impl FnMut(Image) -> Result<(), GenerateError>,
) -> Result<(), GenerateError> {
    let (width, height) = (request.width, request.height);
    // The sink's own error, kept whole while the pipeline is told only to stop.
    let mut failed: Option<GenerateError> = None;
    let result = pipeline.generate(
        request,
        |stage| {
            if reel_core::stop::requested() || !progress(Event::Stage(stage)) {
                return Err(DiffusionError::Cancelled);
            }
            Ok(())
        },
        |chunk| {
            // The chunk's frames as interleaved RGB, copied off the device once.
            let rgb: Vec<f32> = chunk.permute((0, 2, 3, 1))?.flatten_all()?.to_vec1()?;
            for frame in rgb.chunks_exact(3 * width * height) {
                let mut image = Image::new(width, height);
                to_bytes(frame, &mut image);
                if let Err(e) = each(image) {
                    failed = Some(e);
                    return Err(DiffusionError::Cancelled);
                }
            }
            Ok(())
        },
    );
    match (failed, result) {
        (Some(e), _) => Err(e),
        (None, Err(DiffusionError::Cancelled)) => Err(GenerateError::Cancelled),
        (None, r) => r.map_err(GenerateError::from),
    }
}

/// A frame's interleaved RGB values in [-1, 1] as 8-bit RGB.
pub fn to_bytes(rgb: &[f32], image: &mut Image) {
    for (dst, v) in image.data.iter_mut().zip(rgb) {
        *dst = ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8;
    }
}

/// `image` at `width`×`height` (Lanczos; as it is where it already has that size), stretched
/// where the shapes differ: frames go to the generation size this way and come back the same
/// way, so that what is made lies exactly over the clip.
pub fn to_size(image: Image, width: usize, height: usize) -> Image {
    if (image.width, image.height) == (width, height) {
        image
    } else {
        resize(&image, width, height, Filter::Lanczos3)
    }
}

/// The size with `width`×`height`'s shape and about 832×480's pixels, in multiples of
/// `multiple` (as diffusers' image-to-video examples choose it).
pub fn size_like(width: usize, height: usize, multiple: usize) -> (usize, usize) {
    let area = 832.0 * 480.0;
    let aspect = height as f64 / width.max(1) as f64;
    let round = |v: f64| ((v / multiple as f64).round() as usize).max(1) * multiple;
    (round((area / aspect).sqrt()), round((area * aspect).sqrt()))
}

/// The first frame of the still (or clip) at `path`, upright.
pub fn first_frame(path: &Path) -> Result<Image, GenerateError> {
    let mut decoder = Decoder::open(path)?;
    let mut frame = Frame::default();
    if !decoder.next_frame(&mut frame)? {
        return Err(GenerateError::Settings(format!(
            "{} holds no picture",
            path.display()
        )));
    }
    Ok(frame.image)
}

/// A clip read through once: its frame count, each frame's time, and its last frame.
pub struct Scan {
    pub frames: usize,
    pub times: Vec<Option<Timestamp>>,
    pub last: Image,
}

/// Reads `clip` through (decoding is quick beside generation), refusing a still.
pub fn scan(clip: &Path) -> Result<Scan, GenerateError> {
    let info = probe(clip)?;
    if info.is_still {
        return Err(GenerateError::Settings(format!(
            "{} is a still image; this takes a video clip",
            clip.display()
        )));
    }
    let mut decoder = Decoder::open(clip)?;
    let mut frame = Frame::default();
    let mut times = Vec::new();
    while decoder.next_frame(&mut frame)? {
        times.push(frame.time);
    }
    if times.is_empty() {
        return Err(GenerateError::Settings(format!(
            "{} holds no frames",
            clip.display()
        )));
    }
    Ok(Scan {
        frames: times.len(),
        times,
        last: frame.image,
    })
}
