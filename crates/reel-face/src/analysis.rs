//! Per-frame face analysis: tracking plus the measurements every later processor needs.

use std::collections::HashMap;

use reel_image::Image;
use reel_runtime::ModelError;
use serde::Serialize;

use crate::align::Alignment;
use crate::detector::{FaceDetector, Search};
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
        }
    }
}

pub struct FaceAnalyzer {
    tracker: FaceTracker,
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
        let mut tracker = FaceTracker::new(detector, mesh, settings.tracker);
        if reidentify {
            tracker = tracker.with_recognizer(crate::FaceRecognizer::new(settings.threads)?);
        }
        Ok(FaceAnalyzer {
            tracker,
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
            });
        }
        let live: Vec<u32> = self.faces.iter().map(|f| f.id).collect();
        self.filters.retain(|id, _| live.contains(id));
        Ok(&self.faces)
    }
}
