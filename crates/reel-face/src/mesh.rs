//! The 468-point face mesh: regions of interest, the landmark model, and named landmark groups.

use reel_assets::ModelId;
use reel_image::{Affine, Border, Image, Point, TensorSpec, warp_to_tensor};
use reel_runtime::{ModelError, Net, Output};

use crate::detector::Detection;

pub const LANDMARKS: usize = 468;
const INPUT: usize = 192;

/// A landmark in image pixels; z is depth relative to the face centre on the same scale as x
/// (smaller is nearer the camera).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Landmark {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

impl Landmark {
    pub fn point(&self) -> Point {
        Point::new(self.x, self.y)
    }
}

/// A square, rotated region of the image that the mesh model looks at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Roi {
    pub center: Point,
    /// Side length in pixels.
    pub size: f32,
    /// Radians, clockwise in image coordinates.
    pub rotation: f32,
}

pub(crate) fn normalize_angle(a: f32) -> f32 {
    use std::f32::consts::PI;
    a - 2.0 * PI * ((a + PI) / (2.0 * PI)).floor()
}

/// The rotation that makes the line from `a` to `b` horizontal.
fn rotation(a: Point, b: Point) -> f32 {
    normalize_angle(-(-(b.y - a.y)).atan2(b.x - a.x))
}

/// How much larger than the face box the mesh model's crop is.
const ROI_SCALE: f32 = 1.5;

impl Roi {
    /// The crop MediaPipe takes around a detection: rotated by the eyes, square, 1.5 times larger.
    pub fn from_detection(d: &Detection) -> Roi {
        let [x, y, w, h] = d.bbox;
        Roi {
            center: Point::new(x + w / 2.0, y + h / 2.0),
            size: w.max(h) * ROI_SCALE,
            rotation: rotation(d.keypoints[0], d.keypoints[1]),
        }
    }

    /// The crop for the next frame from this frame's landmarks.
    pub fn from_landmarks(lm: &[Landmark]) -> Roi {
        let [x, y, w, h] = landmark_box(lm);
        Roi {
            center: Point::new(x + w / 2.0, y + h / 2.0),
            size: w.max(h) * ROI_SCALE,
            rotation: rotation(lm[33].point(), lm[263].point()),
        }
    }

    /// Axis-aligned overlap of two regions, ignoring rotation, as MediaPipe associates them.
    pub fn iou(&self, other: &Roi) -> f32 {
        crate::detector::iou(self.aabb(), other.aabb())
    }

    pub fn aabb(&self) -> [f32; 4] {
        [
            self.center.x - self.size / 2.0,
            self.center.y - self.size / 2.0,
            self.size,
            self.size,
        ]
    }

    /// Maps model input pixels to image pixels.
    pub fn to_image(&self, out_size: usize) -> Affine {
        Affine::from_rotated_rect(
            self.center,
            (self.size, self.size),
            self.rotation,
            out_size,
            out_size,
        )
    }
}

/// [x_min, y_min, width, height] of the landmarks.
pub fn landmark_box(lm: &[Landmark]) -> [f32; 4] {
    point_box(lm.iter().map(Landmark::point))
}

/// [x_min, y_min, width, height] of some points.
pub fn point_box(points: impl IntoIterator<Item = Point>) -> [f32; 4] {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in points {
        x0 = x0.min(p.x);
        y0 = y0.min(p.y);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
    }
    [x0, y0, x1 - x0, y1 - y0]
}

/// The face mesh model.
pub struct FaceMesh {
    net: Net,
    input: Vec<f32>,
    outputs: Vec<Output>,
    /// A face counts as present above this confidence.
    pub min_presence: f32,
}

impl FaceMesh {
    pub fn new(threads: usize) -> Result<FaceMesh, ModelError> {
        Ok(FaceMesh {
            net: Net::load(ModelId::FaceMesh, threads)?,
            input: Vec::with_capacity(INPUT * INPUT * 3),
            outputs: Vec::new(),
            min_presence: 0.5,
        })
    }

    /// Runs the mesh on a region; writes the landmarks in image pixels and returns the face's
    /// presence confidence (landmarks are meaningful only when it is above `min_presence`).
    pub fn run(
        &mut self,
        image: &Image,
        roi: &Roi,
        landmarks: &mut Vec<Landmark>,
    ) -> Result<f32, ModelError> {
        let to_image = roi.to_image(INPUT);
        let spec = TensorSpec {
            width: INPUT,
            height: INPUT,
            scale: 1.0 / 255.0,
            offset: 0.0,
            border: Border::Replicate,
        };
        warp_to_tensor(image, &to_image, &spec, &mut self.input);
        self.net.run(&self.input, &mut self.outputs)?;
        let (coords, flag) = match self.outputs.as_slice() {
            [a, b] if a.values.len() == LANDMARKS * 3 && b.values.len() == 1 => {
                (&a.values, b.values[0])
            }
            [a, b] if b.values.len() == LANDMARKS * 3 && a.values.len() == 1 => {
                (&b.values, a.values[0])
            }
            _ => return Err(ModelError::Format("unexpected face mesh outputs".into())),
        };
        let z_scale = roi.size / INPUT as f32;
        landmarks.clear();
        landmarks.extend(coords.chunks_exact(3).map(|c| {
            let p = to_image.apply(Point::new(c[0], c[1]));
            Landmark {
                x: p.x,
                y: p.y,
                z: c[2] * z_scale,
            }
        }));
        Ok(1.0 / (1.0 + (-flag).exp()))
    }
}

/// Closed outlines of face parts, as landmark indices in order around each part.
pub mod outline {
    pub const FACE_OVAL: &[usize] = &[
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
        152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ];
    /// The person's left eye (on the right of the image for a frontal face).
    pub const LEFT_EYE: &[usize] = &[
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
    ];
    pub const RIGHT_EYE: &[usize] = &[
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    ];
    pub const LEFT_BROW: &[usize] = &[276, 283, 282, 295, 285, 336, 296, 334, 293, 300];
    pub const RIGHT_BROW: &[usize] = &[46, 53, 52, 65, 55, 107, 66, 105, 63, 70];
    pub const LIPS: &[usize] = &[
        61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
    ];
    pub const MOUTH_OPENING: &[usize] = &[
        78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191,
    ];
    /// Below each eye, from just under the lower lid to the top of the cheek (where bags show).
    pub const RIGHT_UNDER_EYE: &[usize] = &[
        25, 110, 24, 23, 22, 26, 112, 233, 121, 120, 119, 118, 117, 111,
    ];
    pub const LEFT_UNDER_EYE: &[usize] = &[
        255, 339, 254, 253, 252, 256, 341, 453, 350, 349, 348, 347, 346, 340,
    ];
    /// From the top of the face oval down to the brows.
    pub const FOREHEAD: &[usize] = &[
        54, 103, 67, 109, 10, 338, 297, 332, 284, 298, 293, 334, 296, 336, 9, 107, 66, 105, 63, 68,
    ];
    /// Between the brows, above the bridge of the nose.
    pub const GLABELLA: &[usize] = &[107, 9, 336, 285, 8, 55];
    /// Lines from the nose wing to beyond the mouth corner (open polylines).
    pub const RIGHT_NASOLABIAL: &[usize] = &[98, 203, 206, 216, 212];
    pub const LEFT_NASOLABIAL: &[usize] = &[327, 423, 426, 436, 432];
    /// Lines from the mouth corner down towards the jaw (open polylines).
    pub const RIGHT_MARIONETTE: &[usize] = &[61, 43, 204, 211];
    pub const LEFT_MARIONETTE: &[usize] = &[291, 273, 424, 431];
    /// The lower face contour, from below one ear round the chin to below the other.
    pub const JAW: &[usize] = &[
        132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361,
    ];
    /// Where sagging shows on the contour (jowls), each side.
    pub const RIGHT_JOWL: &[usize] = &[172, 136, 150, 149];
    pub const LEFT_JOWL: &[usize] = &[397, 365, 379, 378];
    /// The cheek mass below the cheekbone, each side.
    pub const RIGHT_CHEEK: &[usize] = &[50, 205, 187, 207];
    pub const LEFT_CHEEK: &[usize] = &[280, 425, 411, 427];
    /// Both nostrils and the columella between them.
    pub const NOSTRILS: &[usize] = &[
        64, 219, 218, 237, 44, 1, 274, 457, 438, 455, 294, 327, 326, 2, 97, 98,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_levels_the_eye_line() {
        assert!(rotation(Point::new(0.0, 0.0), Point::new(10.0, 0.0)).abs() < 1e-6);
        // Eye line sloping down to the right: the crop turns clockwise to level it.
        let r = rotation(Point::new(0.0, 0.0), Point::new(10.0, 10.0));
        assert!((r - std::f32::consts::FRAC_PI_4).abs() < 1e-5);
    }
}
