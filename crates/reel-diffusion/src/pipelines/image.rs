//! The still that image to video starts from, prepared as diffusers' Wan pipeline prepares it:
//! for the VAE, the frame at the video's size in [-1, 1] (PIL's Lanczos); for the CLIP image
//! encoder, the image processor's resize of the short side, centre crop and normalisation.
//! Where the still's shape differs from the video's, reel first crops it to the video's shape,
//! centred, rather than stretching it (diffusers stretches).

use std::path::Path;

use candle_core::{Device, Tensor};
use reel_image::Image;
use reel_image::resize::{Filter, crop, resize};
use serde::Deserialize;

use crate::error::{DiffusionError, Result};

/// The largest centred window of `img` with the shape of `width`×`height`.
pub fn crop_to_shape(img: &Image, width: usize, height: usize) -> Image {
    // Compare the aspect ratios in integers: img.w/img.h against width/height.
    let (iw, ih) = (img.width, img.height);
    if iw * height == ih * width {
        return img.clone();
    }
    if iw * height > ih * width {
        let w = (ih * width / height).max(1);
        crop(img, (iw - w) / 2, 0, w, ih)
    } else {
        let h = (iw * height / width).max(1);
        crop(img, 0, (ih - h) / 2, iw, h)
    }
}

/// `img` as the VAE's first frame: (3, height, width) in [-1, 1], resized as diffusers'
/// `VideoProcessor` resizes (Lanczos) after [`crop_to_shape`].
pub fn vae_frame(img: &Image, width: usize, height: usize, device: &Device) -> Result<Tensor> {
    let framed = crop_to_shape(img, width, height);
    let sized = if (framed.width, framed.height) == (width, height) {
        framed
    } else {
        resize(&framed, width, height, Filter::Lanczos3)
    };
    planes(&sized, |_, v| v / 127.5 - 1.0, device)
}

/// (3, h, w) planes of `img`, each value mapped by `f(channel, value in 0..=255)`.
fn planes(img: &Image, f: impl Fn(usize, f32) -> f32, device: &Device) -> Result<Tensor> {
    let n = img.width * img.height;
    let mut values = vec![0f32; 3 * n];
    for (i, px) in img.data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            values[c * n + i] = f(c, px[c] as f32);
        }
    }
    Ok(Tensor::from_vec(
        values,
        (3, img.height, img.width),
        device,
    )?)
}

/// `image_processor/preprocessor_config.json` (transformers' `CLIPImageProcessor`).
#[derive(Debug, Clone, Deserialize)]
pub struct ClipImageProcessor {
    #[serde(default = "yes")]
    do_resize: bool,
    #[serde(default)]
    size: Option<Size>,
    #[serde(default = "bicubic")]
    resample: u32,
    #[serde(default = "yes")]
    do_center_crop: bool,
    #[serde(default)]
    crop_size: Option<Size>,
    #[serde(default = "yes")]
    do_rescale: bool,
    #[serde(default = "rescale")]
    rescale_factor: f32,
    #[serde(default = "yes")]
    do_normalize: bool,
    #[serde(default = "clip_mean")]
    image_mean: Vec<f32>,
    #[serde(default = "clip_std")]
    image_std: Vec<f32>,
}

/// A size as the processors write it: a number, `{shortest_edge}`, or `{height, width}`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Size {
    Square(usize),
    Shortest { shortest_edge: usize },
    Exact { height: usize, width: usize },
}

fn yes() -> bool {
    true
}
fn bicubic() -> u32 {
    3
}
fn rescale() -> f32 {
    1.0 / 255.0
}
fn clip_mean() -> Vec<f32> {
    vec![0.481_454_66, 0.457_827_5, 0.408_210_73]
}
fn clip_std() -> Vec<f32> {
    vec![0.268_629_54, 0.261_302_6, 0.275_777_1]
}

impl ClipImageProcessor {
    /// The processor of `folder`, or CLIP's defaults at `image_size` when the folder has none.
    pub fn read(folder: &Path, image_size: usize) -> Result<Self> {
        let path = folder.join("preprocessor_config.json");
        if !path.is_file() {
            return Ok(ClipImageProcessor {
                do_resize: true,
                size: Some(Size::Shortest {
                    shortest_edge: image_size,
                }),
                resample: bicubic(),
                do_center_crop: true,
                crop_size: Some(Size::Square(image_size)),
                do_rescale: true,
                rescale_factor: rescale(),
                do_normalize: true,
                image_mean: clip_mean(),
                image_std: clip_std(),
            });
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| DiffusionError::model(&path, format!("unreadable: {e}")))?;
        let mut processor: ClipImageProcessor = serde_json::from_str(&text)
            .map_err(|e| DiffusionError::model(&path, format!("not an image processor: {e}")))?;
        // The class's defaults where the file is silent: the encoder's size.
        processor.size.get_or_insert(Size::Shortest {
            shortest_edge: image_size,
        });
        processor.crop_size.get_or_insert(Size::Square(image_size));
        if processor.image_mean.len() != 3 || processor.image_std.len() != 3 {
            return Err(DiffusionError::model(
                &path,
                "image_mean and image_std need three values",
            ));
        }
        Ok(processor)
    }

    fn filter(&self) -> Result<Filter> {
        match self.resample {
            3 => Ok(Filter::Bicubic),
            1 => Ok(Filter::Lanczos3),
            other => Err(DiffusionError::model(
                "image_processor/preprocessor_config.json",
                format!("resample {other}: reel resamples with bicubic (3) or Lanczos (1)"),
            )),
        }
    }

    /// `img` as the image encoder's input (1, 3, size, size).
    pub fn prepare(&self, img: &Image, device: &Device) -> Result<Tensor> {
        let mut img = img.clone();
        if self.do_resize {
            let (w, h) = match self.size {
                // The short side to `s`, the long one scaled and truncated (transformers').
                // A bare number is the short side too (CLIP's `default_to_square=False`).
                Some(Size::Shortest { shortest_edge: s }) | Some(Size::Square(s))
                    if img.width <= img.height =>
                {
                    (s, img.height * s / img.width)
                }
                Some(Size::Shortest { shortest_edge: s }) | Some(Size::Square(s)) => {
                    (img.width * s / img.height, s)
                }
                Some(Size::Exact { height, width }) => (width, height),
                None => (img.width, img.height),
            };
            if (w, h) != (img.width, img.height) {
                img = resize(&img, w, h, self.filter()?);
            }
        }
        if self.do_center_crop {
            let (w, h) = match self.crop_size {
                Some(Size::Square(s)) | Some(Size::Shortest { shortest_edge: s }) => (s, s),
                Some(Size::Exact { height, width }) => (width, height),
                None => (img.width, img.height),
            };
            // Smaller than the crop: padded with black around, as transformers pads.
            if w > img.width || h > img.height {
                let (pw, ph) = (w.max(img.width), h.max(img.height));
                let mut padded = Image::new(pw, ph);
                let (left, top) = ((pw - img.width) / 2, (ph - img.height) / 2);
                for y in 0..img.height {
                    let dst = ((top + y) * pw + left) * 3;
                    padded.data[dst..dst + img.width * 3]
                        .copy_from_slice(&img.data[y * img.width * 3..(y + 1) * img.width * 3]);
                }
                img = padded;
            }
            img = crop(&img, (img.width - w) / 2, (img.height - h) / 2, w, h);
        }
        let scale = if self.do_rescale {
            self.rescale_factor
        } else {
            1.0
        };
        let (mean, std) = if self.do_normalize {
            (self.image_mean.clone(), self.image_std.clone())
        } else {
            (vec![0.0; 3], vec![1.0; 3])
        };
        Ok(planes(&img, |c, v| (v * scale - mean[c]) / std[c], device)?.unsqueeze(0)?)
    }
}
