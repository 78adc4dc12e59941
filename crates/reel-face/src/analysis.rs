//! Per-frame face analysis: tracking plus the measurements every later processor needs.

use std::collections::HashMap;

use reel_image::Image;
use reel_runtime::ModelError;
use serde::Serialize;

use crate::align::Alignment;
use crate::detector::{FaceDetector, Search};
use crate::hands::HandFinder;
use crate::mask::Mask;
use crate::mesh::{FaceMesh, Landmark, landmark_box};
use crate::pose::{Pose, head_pose};
use crate::quality::sharpness;
use crate::smoothing::{OneEuro, OneEuroState};
use crate::tracker::{FaceTracker, TrackerSettings};

/// One face in one frame.
#[derive(Clone, Debug, Serialize)]
pub struct Face {
    /// Stable across frames while the face is followed.
    pub id: u32,
    /// [x_min, y_min, width, height] of the landmarks, in pixels.
    pub bbox: [f32; 4],
    /// The detector's score when it last found this face.
    pub score: f32,
    /// The mesh model's confidence that this is a face.
    pub presence: f32,
    pub pose: Pose,
    /// Variance of the Laplacian of the aligned 112 px crop; higher is sharper.
    pub sharpness: f32,
    /// Distance between the eye centres in pixels, a pose-robust measure of face size.
    pub size: f32,
    /// The 468 mesh points in image pixels (smoothed over time when smoothing is on).
    #[serde(serialize_with = "landmarks_as_triples")]
    pub landmarks: Vec<Landmark>,
    /// What is in front of the face (hands), over the face's neighbourhood of the frame: face
    /// processors leave these pixels as they were. None where nothing is (or occlusion is off).
    #[serde(skip)]
    pub occlusion: Option<Mask>,
}

fn landmarks_as_triples<S: serde::Serializer>(lm: &[Landmark], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(lm.len()))?;
    for l in lm {
        let r = |v: f32| (v * 100.0).round() / 100.0;
        seq.serialize_element(&[r(l.x), r(l.y), r(l.z)])?;
    }
    seq.end()
}

/// Analysis settings.
#[derive(Clone, Debug)]
pub struct AnalyzerSettings {
    pub tracker: TrackerSettings,
    /// How faces are looked for (by default: everywhere until found).
    pub search: Search,
    pub min_detection_score: f32,
    pub min_presence: f32,
    /// Temporal smoothing of landmarks; None leaves them raw.
    pub smoothing: Option<OneEuro>,
    /// ONNX Runtime threads per model.
    pub threads: usize,
    /// Look for hands in front of each face, for [`Face::occlusion`].
    pub occlusion: bool,
}

impl Default for AnalyzerSettings {
    fn default() -> Self {
        AnalyzerSettings {
            tracker: TrackerSettings::default(),
            search: Search::Auto,
            min_detection_score: 0.5,
            min_presence: 0.5,
            smoothing: None,
            threads: 1,
            occlusion: false,
        }
    }
}

pub struct FaceAnalyzer {
    tracker: FaceTracker,
    hands: Option<HandFinder>,
    smoothing: Option<OneEuro>,
    filters: HashMap<u32, OneEuroState>,
    faces: Vec<Face>,
    crop: Image,
    flat: Vec<f32>,
}

impl FaceAnalyzer {
    pub fn new(settings: AnalyzerSettings) -> Result<FaceAnalyzer, ModelError> {
        let mut detector = FaceDetector::new(settings.search, settings.threads)?;
        detector.min_score = settings.min_detection_score;
        let mut mesh = FaceMesh::new(settings.threads)?;
        mesh.min_presence = settings.min_presence;
        let reidentify = settings.tracker.reidentify;
        let every_frame = settings.tracker.detect_every_frame;
        let mut tracker = FaceTracker::new(detector, mesh, settings.tracker);
        if reidentify {
            tracker = tracker.with_recognizer(crate::FaceRecognizer::new(settings.threads)?);
        }
        let hands = if settings.occlusion {
            let mut finder = HandFinder::new(settings.threads)?;
            if !every_frame {
                finder.search_every = HAND_SEARCH_EVERY;
            }
            Some(finder)
        } else {
            None
        };
        Ok(FaceAnalyzer {
            tracker,
            hands,
            smoothing: settings.smoothing,
            filters: HashMap::new(),
            faces: Vec::new(),
            crop: Image::default(),
            flat: Vec::new(),
        })
    }

    pub fn tracker(&mut self) -> &mut FaceTracker {
        &mut self.tracker
    }

    /// Analyses the next frame, shown at `time` seconds.
    pub fn analyze(&mut self, image: &Image, time: f64) -> Result<&[Face], ModelError> {
        let tracked = self.tracker.track(image)?;
        self.faces.clear();
        for t in tracked {
            let mut landmarks = t.landmarks.clone();
            let eyes = crate::align::five_points(&landmarks);
            let size = eyes[0].distance(eyes[1]);
            if let Some(params) = &self.smoothing {
                let state = self.filters.entry(t.id).or_default();
                self.flat.clear();
                self.flat
                    .extend(landmarks.iter().flat_map(|l| [l.x, l.y, l.z]));
                state.filter(params, time, size * 2.5, &mut self.flat);
                for (l, v) in landmarks.iter_mut().zip(self.flat.chunks_exact(3)) {
                    *l = Landmark {
                        x: v[0],
                        y: v[1],
                        z: v[2],
                    };
                }
            }
            let sharp = match Alignment::new(&landmarks, 112, 0.0) {
                Some(a) => {
                    a.crop(image, &mut self.crop);
                    sharpness(&self.crop)
                }
                None => 0.0,
            };
            self.faces.push(Face {
                id: t.id,
                bbox: landmark_box(&landmarks),
                score: t.detection_score,
                presence: t.presence,
                pose: head_pose(&landmarks),
                sharpness: sharp,
                size,
                landmarks,
                occlusion: None,
            });
        }
        if let Some(finder) = self.hands.as_mut() {
            mark_occlusions(finder, image, &mut self.faces)?;
        }
        let live: Vec<u32> = self.faces.iter().map(|f| f.id).collect();
        self.filters.retain(|id, _| live.contains(id));
        Ok(&self.faces)
    }
}

/// In video, palms are searched for every this many frames (hands already found are followed in
/// between); a still is searched whole.
const HAND_SEARCH_EVERY: u64 = 5;
/// Hands are looked for in squares this many face sizes across, around each face: the wider
/// one sees a hand reaching in from below, the closer one a hand over the face itself at twice
/// the palm detector's pixels.
const HAND_AREAS: [f32; 2] = [3.0, 1.5];
/// A face's occlusion mask reaches as far as its landmark box grown by this share on every
/// side (where de-aging's reshaping and the swap's blend still act).
const OCCLUSION_MARGIN: f32 = 0.8;

/// Finds the hands near the faces and gives each face the mask of those in front of it.
fn mark_occlusions(
    finder: &mut HandFinder,
    image: &Image,
    faces: &mut [Face],
) -> Result<(), ModelError> {
    let areas: Vec<(reel_image::Point, f32)> = faces
        .iter()
        .flat_map(|f| {
            let [x, y, w, h] = f.bbox;
            let center = reel_image::Point::new(x + w / 2.0, y + h / 2.0);
            HAND_AREAS.map(|a| (center, w.max(h) * a))
        })
        .collect();
    if faces.is_empty() {
        // Hands matter only in front of faces; the next face starts their search afresh.
        finder.reset();
        return Ok(());
    }
    let hands = finder.find(image, &areas)?;
    if hands.is_empty() {
        return Ok(());
    }
    for face in faces.iter_mut() {
        let [x, y, w, h] = face.bbox;
        let (mx, my) = (w * OCCLUSION_MARGIN, h * OCCLUSION_MARGIN);
        let x0 = (x - mx).floor().clamp(0.0, image.width as f32) as usize;
        let y0 = (y - my).floor().clamp(0.0, image.height as f32) as usize;
        let x1 = (x + w + mx).ceil().clamp(0.0, image.width as f32) as usize;
        let y1 = (y + h + my).ceil().clamp(0.0, image.height as f32) as usize;
        if x1 > x0 && y1 > y0 {
            face.occlusion = crate::occlusion::hands_mask(image, hands, [x0, y0, x1 - x0, y1 - y0]);
        }
    }
    Ok(())
}
