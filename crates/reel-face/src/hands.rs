//! Hands, by MediaPipe's two hand models: the palm detector finds palms (a box and seven
//! keypoints) in a square of the frame, and the landmark model reads a hand's 21 points in a
//! rotated crop around each palm, as MediaPipe's hand tracking graph does. In video, a hand's
//! points give the next frame's crop, and the palm detector looks again every few frames for
//! hands that came in.

use std::f32::consts::FRAC_PI_2;

use reel_assets::ModelId;
use reel_image::{Affine, Border, Image, Point, TensorSpec, warp_to_tensor};
use reel_runtime::{ModelError, Net, Output};

use crate::detector::{Scored, anchors, weighted_nms};
use crate::mesh::{Roi, normalize_angle, point_box};

/// Points of a hand: the wrist, then four for each finger from its base to its tip (thumb,
/// index, middle, ring, little).
pub const HAND_POINTS: usize = 21;
const PALM_INPUT: usize = 192;
const HAND_INPUT: usize = 224;
/// Values the palm detector gives for each anchor: a box, then seven keypoints.
const PALM_VALUES: usize = 18;
/// The palm's crop, as MediaPipe takes it: shifted half a palm towards the fingers, squared
/// and enlarged 2.6 times so that the whole hand fits.
const PALM_SHIFT: f32 = -0.5;
const PALM_SCALE: f32 = 2.6;
/// A hand's crop for the next frame: its points' box, shifted a tenth, enlarged twice.
const TRACK_SHIFT: f32 = -0.1;
const TRACK_SCALE: f32 = 2.0;
/// The points that MediaPipe's tracker places the next crop by (the wrist and the finger bases
/// and first joints, which move least with the fingers).
const TRACK_POINTS: [usize; 12] = [0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18];
/// At most this many hands are followed at once.
const MAX_HANDS: usize = 8;

/// A hand in one frame.
#[derive(Clone, Debug)]
pub struct Hand {
    /// The 21 points in image pixels.
    pub points: [Point; HAND_POINTS],
    /// The landmark model's confidence that a hand is in its crop.
    pub presence: f32,
}

impl Hand {
    /// [x_min, y_min, width, height] of the points.
    pub fn bbox(&self) -> [f32; 4] {
        point_box(self.points)
    }

    /// About a finger's width: the mean distance between neighbouring finger bases, or a fifth
    /// of the palm's length where the bases are seen edge-on (a fist from the side).
    pub fn finger_width(&self) -> f32 {
        let p = &self.points;
        let bases = (p[5].distance(p[9]) + p[9].distance(p[13]) + p[13].distance(p[17])) / 3.0;
        bases.max(0.2 * p[0].distance(p[9]))
    }
}

/// The share of the smaller box that the larger covers.
fn overlap(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let h = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if w <= 0.0 || h <= 0.0 {
        return 0.0;
    }
    w * h / (a[2] * a[3]).min(b[2] * b[3]).max(1e-6)
}

/// The rotation that turns the line from `from` to `to` upright (pointing up the crop).
fn upright(from: Point, to: Point) -> f32 {
    normalize_angle(FRAC_PI_2 - (-(to.y - from.y)).atan2(to.x - from.x))
}

/// A rotated rectangle's centre moved by a share of its height along its own up axis, then
/// squared on its longer side and enlarged (MediaPipe's rect transformation).
fn transformed(
    center: Point,
    width: f32,
    height: f32,
    rotation: f32,
    shift: f32,
    scale: f32,
) -> Roi {
    let (sin, cos) = rotation.sin_cos();
    let dy = shift * height;
    Roi {
        center: Point::new(center.x - dy * sin, center.y + dy * cos),
        size: width.max(height) * scale,
        rotation,
    }
}

/// The crop the landmark model reads a palm's hand in.
fn palm_roi(palm: &Scored<7>) -> Roi {
    let [x, y, w, h] = palm.bbox;
    let rotation = upright(palm.keypoints[0], palm.keypoints[2]);
    transformed(
        Point::new(x + w / 2.0, y + h / 2.0),
        w,
        h,
        rotation,
        PALM_SHIFT,
        PALM_SCALE,
    )
}

/// The crop for the next frame from a hand's points: their box in the hand's own orientation
/// (wrist to the middle of the finger bases pointing up).
fn tracking_roi(points: &[Point; HAND_POINTS]) -> Roi {
    let p = |i: usize| points[i];
    let bases = Point::new(
        ((p(5).x + p(13).x) / 2.0 + p(9).x) / 2.0,
        ((p(5).y + p(13).y) / 2.0 + p(9).y) / 2.0,
    );
    let rotation = upright(p(0), bases);
    let subset: Vec<Point> = TRACK_POINTS.iter().map(|&i| p(i)).collect();
    let [bx, by, bw, bh] = point_box(subset.iter().copied());
    let axis_center = Point::new(bx + bw / 2.0, by + bh / 2.0);
    // The points' box in the hand's frame.
    let (sin, cos) = (-rotation).sin_cos();
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for q in &subset {
        let (dx, dy) = (q.x - axis_center.x, q.y - axis_center.y);
        let (rx, ry) = (dx * cos - dy * sin, dx * sin + dy * cos);
        x0 = x0.min(rx);
        y0 = y0.min(ry);
        x1 = x1.max(rx);
        y1 = y1.max(ry);
    }
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (sin, cos) = rotation.sin_cos();
    let center = Point::new(
        cx * cos - cy * sin + axis_center.x,
        cx * sin + cy * cos + axis_center.y,
    );
    transformed(center, x1 - x0, y1 - y0, rotation, TRACK_SHIFT, TRACK_SCALE)
}

/// Finds and follows hands.
pub struct HandFinder {
    threads: usize,
    /// The models, each loaded when first needed (a clip without faces, or without palms, never
    /// loads the landmark model).
    palm: Option<Net>,
    anchors: Vec<(f32, f32)>,
    landmarks: Option<Net>,
    input: Vec<f32>,
    outputs: Vec<Output>,
    hands: Vec<Hand>,
    frame: u64,
    /// Palms below this score are not followed up (MediaPipe's threshold).
    pub min_palm_score: f32,
    /// A hand followed from the last frame is dropped below this presence (MediaPipe's).
    pub min_presence: f32,
    /// A new hand (from a palm) needs this presence: a palm-like patch of skin (a chin, a
    /// collar) can read as a weak hand for a frame or two.
    pub min_new_presence: f32,
    /// The palm detector runs on every this-many-th frame (1: every frame, as for stills).
    pub search_every: u64,
}

impl HandFinder {
    pub fn new(threads: usize) -> Result<HandFinder, ModelError> {
        // Checked now, so that a missing model is reported before any work is done.
        for id in [ModelId::PalmDetector, ModelId::HandLandmarks] {
            let asset = id.asset();
            let path = reel_assets::catalogue::models_dir().join(asset.file);
            if !path.is_file() {
                return Err(ModelError::Asset(reel_assets::AssetError::Missing {
                    path: path.display().to_string(),
                }));
            }
        }
        Ok(HandFinder {
            threads,
            palm: None,
            anchors: anchors(PALM_INPUT, &[8, 16, 16, 16], true),
            landmarks: None,
            input: Vec::new(),
            outputs: Vec::new(),
            hands: Vec::new(),
            frame: 0,
            min_palm_score: 0.5,
            min_presence: 0.5,
            min_new_presence: 0.8,
            search_every: 1,
        })
    }

    /// Forgets the hands followed so far (a new shot, or unrelated images).
    pub fn reset(&mut self) {
        self.hands.clear();
        self.frame = 0;
    }

    /// The hands in the next frame: those followed from the last frame, and, on search frames,
    /// those whose palms the detector finds in `areas` (squares of the frame given by centre
    /// and side, such as the neighbourhood of each face).
    pub fn find(&mut self, image: &Image, areas: &[(Point, f32)]) -> Result<&[Hand], ModelError> {
        // Crops of the hands followed, then of new palms: (crop, whether it is followed).
        let mut rois: Vec<(Roi, bool)> = self
            .hands
            .iter()
            .map(|h| (tracking_roi(&h.points), true))
            .collect();
        if self.frame.is_multiple_of(self.search_every.max(1)) {
            for &(center, side) in areas {
                for palm in self.palms(image, center, side)? {
                    let roi = palm_roi(&palm);
                    // A hand already followed keeps its own crop.
                    if rois.len() < MAX_HANDS && !rois.iter().any(|(r, _)| r.iou(&roi) > 0.5) {
                        rois.push((roi, false));
                    }
                }
            }
        }
        self.frame += 1;
        let mut read = Vec::with_capacity(rois.len());
        for (roi, followed) in rois {
            let needed = if followed {
                self.min_presence
            } else {
                self.min_new_presence
            };
            read.extend(self.read(image, &roi)?.filter(|h| h.presence >= needed));
        }
        // One hand seen twice (a second palm on its fingers, say) is kept once, at its best.
        read.sort_by(|a, b| b.presence.total_cmp(&a.presence));
        self.hands.clear();
        for hand in read {
            if !self
                .hands
                .iter()
                .any(|h| overlap(h.bbox(), hand.bbox()) > 0.5)
            {
                self.hands.push(hand);
            }
        }
        Ok(&self.hands)
    }

    /// Palms in a square of the image (letterboxed where it leaves the image).
    fn palms(
        &mut self,
        image: &Image,
        center: Point,
        side: f32,
    ) -> Result<Vec<Scored<7>>, ModelError> {
        let to_image = Affine::from_rotated_rect(center, (side, side), 0.0, PALM_INPUT, PALM_INPUT);
        let spec = TensorSpec {
            width: PALM_INPUT,
            height: PALM_INPUT,
            scale: 1.0 / 255.0,
            offset: 0.0,
            border: Border::Zero,
        };
        warp_to_tensor(image, &to_image, &spec, &mut self.input);
        let net = match &mut self.palm {
            Some(net) => net,
            None => self
                .palm
                .insert(Net::load(ModelId::PalmDetector, self.threads)?),
        };
        net.run(&self.input, &mut self.outputs)?;
        let n = self.anchors.len();
        let (boxes, scores) = match self.outputs.as_slice() {
            [a, b] if a.values.len() == n * PALM_VALUES && b.values.len() == n => {
                (&a.values, &b.values)
            }
            [a, b] if b.values.len() == n * PALM_VALUES && a.values.len() == n => {
                (&b.values, &a.values)
            }
            _ => {
                return Err(ModelError::Format(
                    "unexpected palm detector outputs".into(),
                ));
            }
        };
        let s = PALM_INPUT as f32;
        let to_px = |x: f32, y: f32| to_image.apply(Point::new(x * s, y * s));
        let mut found = Vec::new();
        for (i, &(ax, ay)) in self.anchors.iter().enumerate() {
            let score = 1.0 / (1.0 + (-scores[i].clamp(-100.0, 100.0)).exp());
            if score < self.min_palm_score {
                continue;
            }
            let r = &boxes[i * PALM_VALUES..(i + 1) * PALM_VALUES];
            if !(score.is_finite() && r.iter().all(|v| v.is_finite())) {
                continue;
            }
            let (cx, cy, w, h) = (r[0] / s + ax, r[1] / s + ay, r[2] / s, r[3] / s);
            if !(w > 0.0 && h > 0.0) {
                continue;
            }
            let p0 = to_px(cx - w / 2.0, cy - h / 2.0);
            let p1 = to_px(cx + w / 2.0, cy + h / 2.0);
            let keypoints =
                std::array::from_fn(|k| to_px(r[4 + 2 * k] / s + ax, r[5 + 2 * k] / s + ay));
            found.push(Scored {
                bbox: [p0.x, p0.y, p1.x - p0.x, p1.y - p0.y],
                score,
                keypoints,
            });
        }
        Ok(weighted_nms(found, 0.3))
    }

    /// The hand in a crop, if the landmark model sees one there.
    fn read(&mut self, image: &Image, roi: &Roi) -> Result<Option<Hand>, ModelError> {
        let to_image = roi.to_image(HAND_INPUT);
        let spec = TensorSpec {
            width: HAND_INPUT,
            height: HAND_INPUT,
            scale: 1.0 / 255.0,
            offset: 0.0,
            border: Border::Replicate,
        };
        warp_to_tensor(image, &to_image, &spec, &mut self.input);
        let net = match &mut self.landmarks {
            Some(net) => net,
            None => self
                .landmarks
                .insert(Net::load(ModelId::HandLandmarks, self.threads)?),
        };
        net.run(&self.input, &mut self.outputs)?;
        // In the model's order: screen points, presence, handedness, world points.
        let [coords, flag, ..] = self.outputs.as_slice() else {
            return Err(ModelError::Format(
                "unexpected hand landmark outputs".into(),
            ));
        };
        if coords.values.len() != HAND_POINTS * 3 || flag.values.len() != 1 {
            return Err(ModelError::Format(
                "unexpected hand landmark outputs".into(),
            ));
        }
        let presence = flag.values[0];
        if presence < self.min_presence.min(self.min_new_presence) {
            return Ok(None);
        }
        let points = std::array::from_fn(|i| {
            let c = &coords.values[i * 3..i * 3 + 2];
            to_image.apply(Point::new(c[0], c[1]))
        });
        Ok(Some(Hand { points, presence }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_palm_detector_has_mediapipes_anchor_count() {
        assert_eq!(anchors(PALM_INPUT, &[8, 16, 16, 16], true).len(), 2016);
    }

    #[test]
    fn an_upright_hand_gets_an_unrotated_crop_shifted_towards_its_fingers() {
        // Wrist below the finger bases: no rotation; the crop moves up by half the palm.
        let palm = Scored {
            bbox: [90.0, 90.0, 20.0, 20.0],
            score: 0.9,
            keypoints: std::array::from_fn(|k| match k {
                0 => Point::new(100.0, 110.0),
                2 => Point::new(100.0, 90.0),
                _ => Point::new(100.0, 100.0),
            }),
        };
        let roi = palm_roi(&palm);
        assert!(roi.rotation.abs() < 1e-5);
        assert!((roi.center.y - 90.0).abs() < 1e-4 && (roi.center.x - 100.0).abs() < 1e-4);
        assert!((roi.size - 52.0).abs() < 1e-4);
        // Fingers to the right: a quarter turn, and the shift goes right.
        let mut sideways = palm.clone();
        sideways.keypoints[0] = Point::new(90.0, 100.0);
        sideways.keypoints[2] = Point::new(110.0, 100.0);
        let roi = palm_roi(&sideways);
        assert!((roi.rotation - FRAC_PI_2).abs() < 1e-5);
        assert!((roi.center.x - 110.0).abs() < 1e-4 && (roi.center.y - 100.0).abs() < 1e-4);
    }
}
