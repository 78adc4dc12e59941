//! `reel swap --model`: every frame, each chosen face is aligned, encoded, drawn as person A by
//! the trained model, steadied against the last frame's drawing, colour-matched to the frame,
//! given the plate's grain, and pasted back through the model's own mask, eroded and feathered
//! and kept inside the target's face.

use std::path::Path;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use reel_face::mask::{Mask, grown};
use reel_face::mesh::outline;
use reel_face::{Alignment, Face};
use reel_image::{Image, Point};
use reel_process::blend::{Blend, paste};
use reel_process::color::{ColorMatch, transfer};
use reel_process::grain;
use reel_process::steady::Steady;
use reel_process::{FrameProcessor, ProcessError, face_size};

use crate::SwapError;
use crate::model::SwapModel;
use crate::train::{ModelInfo, load};

pub struct ModelSwap {
    model: SwapModel,
    info: ModelInfo,
    device: Device,
    crop: Image,
    input: Vec<f32>,
    color: ColorMatch,
    blend: Blend,
    steady: Steady,
    /// How much of the plate's grain the drawn face is given (0 to 1).
    grain: f32,
    frames: u64,
    /// The plate where the face goes, and the grain measure's residuals, kept between frames.
    plate: Vec<[f32; 3]>,
    residuals: Vec<f32>,
    _weights: VarMap,
}

/// How much of the plate's grain the drawn face is given unless set.
pub const GRAIN: f32 = 1.0;

/// How much of the drawn face's small frame-to-frame changes is held back unless set.
pub const STEADY: f32 = 0.5;

impl ModelSwap {
    pub fn load(dir: &Path) -> Result<ModelSwap, SwapError> {
        let device = reel_runtime::device::device();
        let (model, info, weights) = load(dir, &device)?;
        info.check_swappable(dir)?;
        Ok(ModelSwap {
            model,
            info,
            device,
            crop: Image::default(),
            input: Vec::new(),
            color: ColorMatch::Reinhard,
            blend: Blend::MultiBand,
            steady: Steady::new(STEADY),
            grain: GRAIN,
            frames: 0,
            plate: Vec::new(),
            residuals: Vec::new(),
            _weights: weights,
        })
    }

    /// How the drawn face's colour is matched to the frame (Reinhard unless set).
    pub fn with_color(mut self, color: ColorMatch) -> ModelSwap {
        self.color = color;
        self
    }

    /// How the drawn face is joined to the frame (multi-band unless set).
    pub fn with_blend(mut self, blend: Blend) -> ModelSwap {
        self.blend = blend;
        self
    }

    /// How much of the drawn face's shimmer from frame to frame is held back (0 to 1).
    pub fn with_steady(mut self, strength: f32) -> ModelSwap {
        self.steady = Steady::new(strength);
        self
    }

    /// How much of the plate's grain the drawn face is given, 0 (none) to 1 (as much as the
    /// plate has where the face goes).
    pub fn with_grain(mut self, amount: f32) -> ModelSwap {
        self.grain = amount.clamp(0.0, 1.0);
        self
    }

    /// The model's face for a crop: RGB and mask, each R x R, in [0, 1].
    fn draw(&mut self) -> candle_core::Result<(Vec<f32>, Vec<f32>)> {
        let r = self.model.config.resolution;
        let plane = r * r;
        self.input.resize(plane * 3, 0.0);
        for (i, px) in self.crop.data.chunks_exact(3).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                self.input[c * plane + i] = v as f32 / 255.0;
            }
        }
        let x = Tensor::from_slice(&self.input, (1, 3, r, r), &self.device)?;
        let (face, mask) = self.model.swap(&x)?;
        Ok((
            face.flatten_all()?.to_vec1()?,
            mask.flatten_all()?.to_vec1()?,
        ))
    }
}

fn sample(
    data: &[f32],
    r: usize,
    plane_stride: usize,
    channels: usize,
    x: f32,
    y: f32,
) -> [f32; 3] {
    let (x0, y0) = ((x as usize).min(r - 2), (y as usize).min(r - 2));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate().take(channels) {
        let at = |xx: usize, yy: usize| data[c * plane_stride + yy * r + xx];
        let top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
        let bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
        *o = top + (bottom - top) * fy;
    }
    out
}

impl FrameProcessor for ModelSwap {
    fn name(&self) -> &'static str {
        "swap"
    }

    fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError> {
        let r = self.model.config.resolution;
        let plane = r * r;
        self.steady.next_frame();
        self.frames += 1;
        for face in faces {
            let Some(align) = Alignment::new(&face.landmarks, r, self.info.face_margin) else {
                continue;
            };
            align.crop(frame, &mut self.crop);
            let (mut rgb, mut mask) = self
                .draw()
                .map_err(|e| ProcessError::Settings(format!("swap model: {e}")))?;
            // Face and mask steadied as one drawing (the mask's id apart from the face's).
            self.steady.apply(face.id, &mut rgb);
            self.steady.apply(face.id | 1 << 31, &mut mask);
            // Colour: the drawn face takes the frame's colour where the model's mask is solid.
            let mut pixels: Vec<[f32; 3]> = (0..plane)
                .map(|i| {
                    [
                        rgb[i] * 255.0,
                        rgb[plane + i] * 255.0,
                        rgb[2 * plane + i] * 255.0,
                    ]
                })
                .collect();
            let solid: Vec<usize> = (0..plane).filter(|&i| mask[i] > 0.7).collect();
            let reference: Vec<[f32; 3]> = solid
                .iter()
                .map(|&i| [0, 1, 2].map(|k| self.crop.data[i * 3 + k] as f32))
                .collect();
            transfer(self.color, &mut pixels, &solid, &reference);
            let mut drawn = vec![0.0f32; plane * 3];
            for (i, v) in pixels.iter().enumerate() {
                for k in 0..3 {
                    drawn[k * plane + i] = v[k];
                }
            }
            // Where to paste: the model's mask, eroded (0.5 -> 0 .. 0.9 -> 1), inside the target's
            // face oval feathered inwards.
            let s = face_size(face);
            let b = face.bbox;
            let pad = 0.1 * s;
            let x0 = (b[0] - pad).max(0.0) as usize;
            let y0 = (b[1] - pad).max(0.0) as usize;
            let x1 = ((b[0] + b[2] + pad) as usize).min(frame.width);
            let y1 = ((b[1] + b[3] + pad) as usize).min(frame.height);
            let mut oval = Mask::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0));
            let radius = (0.03 * s).round().max(1.0);
            let pts: Vec<Point> = outline::FACE_OVAL
                .iter()
                .map(|&i| face.landmarks[i].point())
                .collect();
            oval.fill_polygon(&grown(&pts, -2.0 * radius), 1.0);
            oval.feather(radius as usize);
            let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
            let mut face_px = vec![[0.0f32; 3]; w * h];
            let mut alpha = vec![0.0f32; w * h];
            for y in y0..y1 {
                for x in x0..x1 {
                    let o = oval.at(x, y);
                    let c = align.to_crop.apply(Point::new(x as f32, y as f32));
                    if o <= 0.0
                        || c.x < 0.0
                        || c.y < 0.0
                        || c.x > (r - 1) as f32
                        || c.y > (r - 1) as f32
                    {
                        continue;
                    }
                    let i = (y - y0) * w + (x - x0);
                    let m = sample(&mask, r, plane, 1, c.x, c.y)[0];
                    alpha[i] = o * ((m - 0.5) / 0.4).clamp(0.0, 1.0);
                    face_px[i] = sample(&drawn, r, plane, 3, c.x, c.y);
                }
            }
            if self.grain > 0.0 {
                // The plate's grain where the face goes, made up in the drawn face.
                self.plate.clear();
                self.plate.extend((0..w * h).map(|i| {
                    let at = ((y0 + i / w) * frame.width + x0 + i % w) * 3;
                    [0, 1, 2].map(|k| frame.data[at + k] as f32)
                }));
                let scratch = &mut self.residuals;
                let missing = grain::missing(
                    grain::level(&self.plate, w, h, &alpha, scratch),
                    grain::level(&face_px, w, h, &alpha, scratch),
                    self.grain,
                );
                let seed = self.frames << 20 ^ u64::from(face.id);
                grain::add(&mut face_px, &alpha, missing, seed);
            }
            paste(frame, (x0, y0, w, h), &face_px, &alpha, self.blend);
        }
        Ok(())
    }
}
