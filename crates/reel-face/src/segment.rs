//! Person segmentation with MediaPipe's selfie segmentation model.

use reel_assets::ModelId;
use reel_image::{Affine, Border, Image, TensorSpec, warp_to_tensor};
use reel_runtime::{ModelError, Net, Output};

const INPUT: usize = 256;

pub struct PersonSegmenter {
    net: Net,
    input: Vec<f32>,
    outputs: Vec<Output>,
}

impl PersonSegmenter {
    pub fn new(threads: usize) -> Result<PersonSegmenter, ModelError> {
        Ok(PersonSegmenter {
            net: Net::load(ModelId::SelfieSegmentation, threads)?,
            input: Vec::new(),
            outputs: Vec::new(),
        })
    }

    /// Person probability for every pixel of the frame, in [0, 255], row-major.
    pub fn segment(&mut self, image: &Image, mask: &mut Vec<u8>) -> Result<(), ModelError> {
        // The whole frame, stretched to the square input.
        let to_image = Affine {
            m: [
                image.width as f32 / INPUT as f32,
                0.0,
                0.0,
                0.0,
                image.height as f32 / INPUT as f32,
                0.0,
            ],
        };
        let spec = TensorSpec {
            width: INPUT,
            height: INPUT,
            scale: 1.0 / 255.0,
            offset: 0.0,
            border: Border::Zero,
        };
        warp_to_tensor(image, &to_image, &spec, &mut self.input);
        self.net.run(&self.input, &mut self.outputs)?;
        let prob = &self
            .outputs
            .first()
            .ok_or_else(|| ModelError::Format("segmentation gave no output".into()))?
            .values;
        if prob.len() != INPUT * INPUT {
            return Err(ModelError::Format(
                "unexpected segmentation output size".into(),
            ));
        }
        // Bilinear upsampling with half-pixel centres.
        let (w, h) = (image.width, image.height);
        mask.resize(w * h, 0);
        let sx = INPUT as f32 / w as f32;
        let sy = INPUT as f32 / h as f32;
        for y in 0..h {
            let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (INPUT - 1) as f32);
            let y0 = fy as usize;
            let y1 = (y0 + 1).min(INPUT - 1);
            let ty = fy - y0 as f32;
            for x in 0..w {
                let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (INPUT - 1) as f32);
                let x0 = fx as usize;
                let x1 = (x0 + 1).min(INPUT - 1);
                let tx = fx - x0 as f32;
                let top = prob[y0 * INPUT + x0] * (1.0 - tx) + prob[y0 * INPUT + x1] * tx;
                let bottom = prob[y1 * INPUT + x0] * (1.0 - tx) + prob[y1 * INPUT + x1] * tx;
                mask[y * w + x] =
                    ((top * (1.0 - ty) + bottom * ty) * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
        Ok(())
    }
}
