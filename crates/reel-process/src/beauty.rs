//! The beauty fix: clearer, more even skin with its texture kept.

use reel_face::Face;
use reel_face::mask::{Mask, Region, draw_face_region};
use reel_face::mesh::outline;
use reel_image::{Affine, Image, Point};

use crate::retouch::{Controls, Retoucher, band_sigmas};
use crate::{FrameProcessor, ProcessError, check_range, face_size};

/// Beauty settings, each in [0, 1]; `strength` scales all the others.
#[derive(Clone, Copy, Debug)]
pub struct BeautySettings {
    pub strength: f32,
    /// Removal of wrinkles, fine lines and unevenness (the detail band).
    pub smooth: f32,
    /// Evening of colour (redness, blotches) and of uneven shading.
    pub even_tone: f32,
    /// Extra removal of dark spots.
    pub blemishes: f32,
    /// Lifting of shadows and softening under the eyes.
    pub under_eye: f32,
}

impl Default for BeautySettings {
    fn default() -> Self {
        BeautySettings {
            strength: 0.7,
            smooth: 0.8,
            even_tone: 0.5,
            blemishes: 0.8,
            under_eye: 0.5,
        }
    }
}

impl BeautySettings {
    pub fn check(&self) -> Result<(), ProcessError> {
        check_range("--strength", self.strength, 0.0, 1.0)?;
        check_range("--smooth", self.smooth, 0.0, 1.0)?;
        check_range("--even-tone", self.even_tone, 0.0, 1.0)?;
        check_range("--blemishes", self.blemishes, 0.0, 1.0)?;
        check_range("--under-eye", self.under_eye, 0.0, 1.0)
    }
}

/// The rectangle a face's retouch works in: its landmark box with room for the blurs, and
/// `below` face sizes more at the bottom (for the neck), clipped to the frame.
pub fn work_rect(face: &Face, frame: &Image, below: f32) -> (usize, usize, usize, usize) {
    let s = face_size(face);
    let pad = 0.08 * s + 3.0 * band_sigmas(s).1;
    let [x, y, w, h] = face.bbox;
    let x0 = (x - pad).floor().clamp(0.0, frame.width as f32) as usize;
    let y0 = (y - pad).floor().clamp(0.0, frame.height as f32) as usize;
    let x1 = (x + w + pad).ceil().clamp(0.0, frame.width as f32) as usize;
    let y1 = (y + h + pad + below * s)
        .ceil()
        .clamp(0.0, frame.height as f32) as usize;
    (x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
}

/// The regions under both eyes, feathered, over a rectangle.
pub fn under_eye_mask(face: &Face, rect: (usize, usize, usize, usize)) -> Mask {
    let mut m = Mask::new(rect.0, rect.1, rect.2, rect.3);
    let pts =
        |idx: &[usize]| -> Vec<Point> { idx.iter().map(|&i| face.landmarks[i].point()).collect() };
    m.fill_polygon(&pts(outline::RIGHT_UNDER_EYE), 1.0);
    m.fill_polygon(&pts(outline::LEFT_UNDER_EYE), 1.0);
    m.feather((0.025 * face_size(face)).round() as usize);
    m
}

pub struct Beauty {
    settings: BeautySettings,
    retoucher: Retoucher,
    smooth: Vec<f32>,
    tone: Vec<f32>,
    lift: Vec<f32>,
}

impl Beauty {
    pub fn new(settings: BeautySettings) -> Result<Beauty, ProcessError> {
        settings.check()?;
        Ok(Beauty {
            settings,
            retoucher: Retoucher::default(),
            smooth: Vec::new(),
            tone: Vec::new(),
            lift: Vec::new(),
        })
    }
}

impl FrameProcessor for Beauty {
    fn name(&self) -> &'static str {
        "beauty"
    }

    fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError> {
        let s = self.settings;
        for face in faces {
            let rect = work_rect(face, frame, 0.0);
            let mut skin = Mask::new(rect.0, rect.1, rect.2, rect.3);
            draw_face_region(
                &mut skin,
                &face.landmarks,
                Region::Skin,
                &Affine::IDENTITY,
                0.03,
            );
            let under = under_eye_mask(face, rect);
            let n = rect.2 * rect.3;
            self.smooth.clear();
            self.tone.clear();
            self.lift.clear();
            for &u in &under.data {
                let u = u * s.under_eye;
                self.smooth
                    .push((s.strength * (s.smooth + 0.4 * u)).min(1.0));
                self.tone.push(s.strength * s.even_tone);
                self.lift.push(s.strength * u);
            }
            debug_assert_eq!(self.smooth.len(), n);
            self.retoucher.apply(
                frame,
                &Controls {
                    x0: rect.0,
                    y0: rect.1,
                    width: rect.2,
                    height: rect.3,
                    mask: &skin.data,
                    smooth: &self.smooth,
                    tone: &self.tone,
                    lift: &self.lift,
                    blemish: s.strength * s.blemishes,
                    face_size: face_size(face),
                },
            );
        }
        Ok(())
    }
}
