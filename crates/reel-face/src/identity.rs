//! Who a face is: dlib's face recognition network turns an aligned 150 px chip into 128 numbers;
//! two faces of the same person lie closer than 0.6 (dlib's threshold, 99.38% on LFW).

use reel_image::{Border, Image, Point, warp_rgb};
use reel_runtime::InputSpec;
use reel_runtime::{ModelError, Net, Output};

use crate::mesh::Landmark;

pub const DESCRIPTOR_LEN: usize = 128;

/// Faces closer than this are taken to be the same person.
pub const SAME_PERSON: f32 = 0.6;

/// A face's identity descriptor.
pub type Descriptor = [f32; DESCRIPTOR_LEN];

pub fn distance(a: &Descriptor, b: &Descriptor) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// dlib's chip template for its five points (the outer and inner corners of the eye on the image's
/// right, then of the other eye, then the base of the nose), in [0, 1], and the mesh landmarks at
/// those places.
const TEMPLATE: [(f32, f32); 5] = [
    (0.859_567_5, 0.213_498_15),
    (0.646_060_5, 0.228_967_44),
    (0.120_575_06, 0.213_727_45),
    (0.334_085_06, 0.229_064_24),
    (0.490_112_3, 0.627_797_5),
];
const MESH_POINTS: [usize; 5] = [263, 362, 33, 133, 2];
/// dlib's face chips include a quarter of the face size around the template.
const PADDING: f32 = 0.25;

pub struct FaceRecognizer {
    net: Net,
    spec: InputSpec,
    chip: Image,
    input: Vec<f32>,
    outputs: Vec<Output>,
}

impl FaceRecognizer {
    pub fn new(threads: usize) -> Result<FaceRecognizer, ModelError> {
        let (net, spec) = reel_runtime::face_recognition(threads)?;
        Ok(FaceRecognizer {
            net,
            spec,
            chip: Image::default(),
            input: Vec::new(),
            outputs: Vec::new(),
        })
    }

    /// The aligned chip the network sees for a face (150 x 150).
    pub fn chip(&mut self, image: &Image, landmarks: &[Landmark]) -> Option<&Image> {
        let size = self.spec.size as f32;
        let to: Vec<Point> = TEMPLATE
            .iter()
            .map(|&(x, y)| {
                Point::new(
                    (PADDING + x) / (2.0 * PADDING + 1.0) * size,
                    (PADDING + y) / (2.0 * PADDING + 1.0) * size,
                )
            })
            .collect();
        let from: Vec<Point> = MESH_POINTS.iter().map(|&i| landmarks[i].point()).collect();
        let to_chip = reel_image::Affine::similarity(&from, &to)?;
        self.chip.reshape(self.spec.size, self.spec.size);
        warp_rgb(image, &to_chip.inverse()?, Border::Zero, &mut self.chip);
        Some(&self.chip)
    }

    /// The descriptor of a chip already aligned as `chip` makes it.
    pub fn describe_chip(&mut self, chip: &Image) -> Result<Descriptor, ModelError> {
        let plane = chip.width * chip.height;
        self.input.resize(plane * 3, 0.0);
        for (i, px) in chip.data.chunks_exact(3).enumerate() {
            for (c, (&v, mean)) in px.iter().zip(self.spec.mean).enumerate() {
                self.input[c * plane + i] = (v as f32 - mean) / 256.0;
            }
        }
        self.net.run(&self.input, &mut self.outputs)?;
        let out = &self
            .outputs
            .first()
            .ok_or_else(|| ModelError::Format("no descriptor".into()))?
            .values;
        let mut d = [0.0; DESCRIPTOR_LEN];
        if out.len() != DESCRIPTOR_LEN {
            return Err(ModelError::Format("descriptor of the wrong size".into()));
        }
        d.copy_from_slice(out);
        Ok(d)
    }

    /// The descriptor of a face in a frame.
    pub fn describe(
        &mut self,
        image: &Image,
        landmarks: &[Landmark],
    ) -> Result<Descriptor, ModelError> {
        if self.chip(image, landmarks).is_none() {
            return Err(ModelError::Format("degenerate face geometry".into()));
        }
        let chip = std::mem::take(&mut self.chip);
        let d = self.describe_chip(&chip);
        self.chip = chip;
        d
    }
}
