//! Face analysis for reel, on MediaPipe's pretrained models: detection, the 468-point mesh,
//! tracking with stable ids, head pose, sharpness, and the alignment and masks that the frame
//! processors (beauty, de-aging, swap) build on.

pub mod align;
pub mod analysis;
pub mod detector;
pub mod draw;
pub mod hands;
pub mod identity;
pub mod mask;
pub mod mesh;
pub mod occlusion;
pub mod pose;
pub mod quality;
pub mod report;
pub mod segment;
pub mod shape;
pub mod smoothing;
pub mod topology;
pub mod tracker;

pub use align::Alignment;
pub use analysis::{AnalyzerSettings, Face, FaceAnalyzer};
pub use detector::{Detection, FaceDetector, LARGE_FRAME, Range, Search};
pub use hands::{Hand, HandFinder};
pub use identity::{Descriptor, FaceRecognizer};
pub use mask::{Mask, Region, face_mask};
pub use mesh::{FaceMesh, LANDMARKS, Landmark, Roi};
pub use pose::Pose;
pub use report::{FrameRecord, Summary, TrackSummary};
pub use segment::PersonSegmenter;
pub use shape::shape_distance;
pub use smoothing::OneEuro;
pub use tracker::{FaceTracker, TrackerSettings};
