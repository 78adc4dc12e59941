//! Following faces from frame to frame as MediaPipe does: each face's landmarks give its region in
//! the next frame, and the detector runs only to find new faces or recover lost ones. Each face
//! keeps one id while it is seen, and gets it back after a short occlusion.

use reel_image::Image;
use reel_runtime::ModelError;

use crate::detector::{Detection, FaceDetector};
use crate::identity::{Descriptor, FaceRecognizer, SAME_PERSON, distance};
use crate::mesh::{FaceMesh, Landmark, Roi, landmark_box};

/// Tracking settings.
#[derive(Clone, Debug)]
pub struct TrackerSettings {
    /// At most this many faces are followed at once.
    pub max_faces: usize,
    /// Run the detector on every frame (MediaPipe's static image mode).
    pub detect_every_frame: bool,
    /// While some faces are followed but fewer than `max_faces`, look for new faces every this
    /// many frames (0: every frame, as MediaPipe does). With no face followed the detector runs
    /// on every frame; with `max_faces` followed it does not run.
    pub redetect_interval: u64,
    /// How many frames a lost face's id is kept for it to be recognised again.
    pub keep_lost_frames: u64,
    /// Recognise who each face is (dlib's descriptor), so that a face lost and found again gets
    /// its own id back wherever it reappears.
    pub reidentify: bool,
}

impl Default for TrackerSettings {
    fn default() -> Self {
        TrackerSettings {
            max_faces: 8,
            detect_every_frame: false,
            redetect_interval: 10,
            keep_lost_frames: 45,
            reidentify: true,
        }
    }
}

/// A face found in the current frame.
#[derive(Clone, Debug)]
pub struct TrackedFace {
    pub id: u32,
    pub landmarks: Vec<Landmark>,
    /// The mesh model's confidence that this is a face.
    pub presence: f32,
    /// The detector's score when it last found this face.
    pub detection_score: f32,
    /// Whether the detector found the face in this very frame.
    pub detected_now: bool,
    /// Who the face is, refreshed now and then when the tracker re-identifies faces.
    identity: Option<(Descriptor, u64)>,
}

struct Lost {
    id: u32,
    bbox: [f32; 4],
    frame: u64,
    identity: Option<Descriptor>,
}

/// Frames between refreshes of a followed face's identity.
const IDENTITY_EVERY: u64 = 15;

struct Candidate {
    id: Option<u32>,
    roi: Roi,
    score: f32,
    from_detection: bool,
}

pub struct FaceTracker {
    pub settings: TrackerSettings,
    detector: FaceDetector,
    mesh: FaceMesh,
    faces: Vec<TrackedFace>,
    lost: Vec<Lost>,
    next_id: u32,
    frame: u64,
    /// Frames on which the detector ran, for reports and benchmarks.
    pub detector_runs: u64,
    scratch: Vec<Landmark>,
    recognizer: Option<FaceRecognizer>,
}

impl FaceTracker {
    pub fn new(detector: FaceDetector, mesh: FaceMesh, settings: TrackerSettings) -> FaceTracker {
        FaceTracker {
            settings,
            detector,
            mesh,
            faces: Vec::new(),
            lost: Vec::new(),
            next_id: 1,
            frame: 0,
            detector_runs: 0,
            scratch: Vec::new(),
            recognizer: None,
        }
    }

    /// Re-identifies faces by who they are, not only by where they were: a face that comes back
    /// after an occlusion or a crossing gets its own id back even far from where it was lost.
    pub fn with_recognizer(mut self, recognizer: FaceRecognizer) -> FaceTracker {
        self.recognizer = Some(recognizer);
        self
    }

    pub fn detector(&mut self) -> &mut FaceDetector {
        &mut self.detector
    }

    pub fn mesh(&mut self) -> &mut FaceMesh {
        &mut self.mesh
    }

    /// Forgets every face (for a cut, or a new clip).
    pub fn reset(&mut self) {
        self.faces.clear();
        self.lost.clear();
    }

    /// Finds and follows the faces of the next frame.
    pub fn track(&mut self, image: &Image) -> Result<&[TrackedFace], ModelError> {
        let s = &self.settings;
        let previous: Vec<Candidate> = if s.detect_every_frame {
            Vec::new()
        } else {
            self.faces
                .iter()
                .map(|f| Candidate {
                    id: Some(f.id),
                    roi: Roi::from_landmarks(&f.landmarks),
                    score: f.detection_score,
                    from_detection: false,
                })
                .collect()
        };
        let due = s.redetect_interval == 0 || self.frame.is_multiple_of(s.redetect_interval);
        let mut candidates: Vec<Candidate> = Vec::new();
        if previous.is_empty() || (previous.len() < s.max_faces && due) {
            self.detector_runs += 1;
            // The full search when due, a quick look between (a face that walks in near is
            // found at once, a small one within the interval).
            let detections: Vec<Detection> = if due || s.detect_every_frame {
                self.detector.detect(image)?
            } else {
                self.detector.detect_quick(image)?
            };
            candidates.extend(detections.iter().take(s.max_faces).map(|d| Candidate {
                id: None,
                roi: Roi::from_detection(d),
                score: d.score,
                from_detection: true,
            }));
        }
        // Later entries replace overlapping earlier ones, so a followed face wins over a fresh
        // detection of itself (MediaPipe's association, IoU > 0.5).
        for p in previous {
            candidates.retain(|c| c.roi.iou(&p.roi) <= 0.5);
            candidates.push(p);
        }
        // Followed faces first when there are more than allowed.
        candidates.sort_by_key(|c| c.from_detection);
        candidates.truncate(s.max_faces);

        let old = std::mem::take(&mut self.faces);
        for c in candidates {
            let presence = self.mesh.run(image, &c.roi, &mut self.scratch)?;
            if presence <= self.mesh.min_presence {
                continue;
            }
            let landmarks = std::mem::take(&mut self.scratch);
            let (id, mut identity) = match c.id {
                Some(id) => (id, old.iter().find(|f| f.id == id).and_then(|f| f.identity)),
                None => self.recall(image, &landmarks)?,
            };
            if let Some(rec) = self.recognizer.as_mut()
                && identity.is_none_or(|(_, at)| self.frame - at >= IDENTITY_EVERY)
            {
                identity = Some((rec.describe(image, &landmarks)?, self.frame));
            }
            self.faces.push(TrackedFace {
                id,
                landmarks,
                presence,
                detection_score: c.score,
                detected_now: c.from_detection,
                identity,
            });
        }
        // Faces followed last frame and not found now become lost, for a while.
        for f in old {
            if !self.faces.iter().any(|g| g.id == f.id) {
                self.lost.push(Lost {
                    id: f.id,
                    bbox: landmark_box(&f.landmarks),
                    frame: self.frame,
                    identity: f.identity.map(|(d, _)| d),
                });
            }
        }
        let (frame, keep) = (self.frame, self.settings.keep_lost_frames);
        self.lost.retain(|l| frame - l.frame <= keep);
        self.faces.sort_by_key(|f| f.id);
        self.frame += 1;
        Ok(&self.faces)
    }

    /// The id of a newly detected face: a recently lost face's id when it is the same person (or,
    /// without identities, when it reappears where that face was), else a new one.
    fn recall(
        &mut self,
        image: &Image,
        landmarks: &[Landmark],
    ) -> Result<(u32, Option<(Descriptor, u64)>), ModelError> {
        let taken: Vec<u32> = self.faces.iter().map(|f| f.id).collect();
        let identity = match self.recognizer.as_mut() {
            Some(rec) => Some(rec.describe(image, landmarks)?),
            None => None,
        };
        let candidates = self
            .lost
            .iter()
            .enumerate()
            .filter(|(_, l)| !taken.contains(&l.id));
        let best = match identity {
            Some(d) if self.lost.iter().any(|l| l.identity.is_some()) => candidates
                .filter_map(|(i, l)| l.identity.map(|li| (i, distance(&d, &li))))
                .filter(|&(_, dist)| dist < SAME_PERSON)
                .min_by(|a, b| a.1.total_cmp(&b.1)),
            _ => {
                let b = landmark_box(landmarks);
                let (cx, cy, size) = (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0, b[2].max(b[3]));
                candidates
                    .map(|(i, l)| {
                        let (lx, ly) = (l.bbox[0] + l.bbox[2] / 2.0, l.bbox[1] + l.bbox[3] / 2.0);
                        (
                            i,
                            ((cx - lx).powi(2) + (cy - ly).powi(2)).sqrt() / size.max(1.0),
                        )
                    })
                    .filter(|&(_, d)| d < 0.75)
                    .min_by(|a, b| a.1.total_cmp(&b.1))
            }
        };
        let identity = identity.map(|d| (d, self.frame));
        if let Some((i, _)) = best {
            return Ok((self.lost.remove(i).id, identity));
        }
        let id = self.next_id;
        self.next_id += 1;
        Ok((id, identity))
    }
}
