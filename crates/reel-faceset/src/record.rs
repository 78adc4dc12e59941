//! What is kept beside each face of a set: `NNNNNN.png` (the aligned crop), `NNNNNN.mask.png`
//! (its face mask) and `NNNNNN.json` (this record).

use std::path::{Path, PathBuf};

use reel_face::Pose;
use serde::{Deserialize, Serialize};

use crate::FacesetError;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaceRecord {
    /// The footage the face comes from, and where in it.
    pub source: PathBuf,
    pub frame: u64,
    pub time: Option<f64>,
    pub track: u32,
    /// Crop size in pixels, and how much room around the face it has (see reel_face::Alignment).
    pub size: usize,
    pub margin: f32,
    /// The 468 mesh landmarks in crop pixels.
    pub landmarks: Vec<[f32; 3]>,
    pub pose: PoseRecord,
    pub sharpness: f32,
    pub presence: f32,
    /// dlib's 128-number identity descriptor.
    pub identity: Vec<f32>,
    /// Mean skin colour in CIELAB.
    pub skin_lab: [f32; 3],
    /// Luma balance of the face's halves: -1 lit from the image's left .. 1 from its right.
    pub light_balance: f32,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct PoseRecord {
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

impl From<Pose> for PoseRecord {
    fn from(p: Pose) -> Self {
        PoseRecord {
            yaw: p.yaw,
            pitch: p.pitch,
            roll: p.roll,
        }
    }
}

impl FaceRecord {
    /// The landmarks as mesh points (in crop pixels).
    pub fn mesh(&self) -> Vec<reel_face::Landmark> {
        self.landmarks
            .iter()
            .map(|p| reel_face::Landmark {
                x: p[0],
                y: p[1],
                z: p[2],
            })
            .collect()
    }
}

/// Every record of a face set, with the path of its image, in file order.
pub fn read_set(dir: &Path) -> Result<Vec<(PathBuf, FaceRecord)>, FacesetError> {
    if dir.exists() && !dir.is_dir() {
        return Err(FacesetError::NotASet(dir.to_path_buf()));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(reel_core::io(format!("reading face set {}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(reel_core::io(format!("reading {}", f.display())))?;
        let record: FaceRecord =
            serde_json::from_str(&text).map_err(|e| FacesetError::BadRecord {
                path: f.display().to_string(),
                detail: e.to_string(),
            })?;
        out.push((f.with_extension("png"), record));
    }
    if out.is_empty() {
        return Err(FacesetError::Settings(format!(
            "{} holds no faces (make one with `reel faceset extract`)",
            dir.display()
        )));
    }
    Ok(out)
}

/// The person of a face set as one identity descriptor: the mean of its faces' descriptors
/// (None when the set has none).
pub fn set_identity(dir: &Path) -> Result<Option<Vec<f32>>, FacesetError> {
    let set = read_set(dir)?;
    let len = set.first().map_or(0, |(_, r)| r.identity.len());
    let described: Vec<&FaceRecord> = set
        .iter()
        .map(|(_, r)| r)
        .filter(|r| len > 0 && r.identity.len() == len && r.identity.iter().all(|v| v.is_finite()))
        .collect();
    if described.is_empty() {
        return Ok(None);
    }
    let mut mean = vec![0.0f32; len];
    for r in &described {
        for (m, v) in mean.iter_mut().zip(&r.identity) {
            *m += v / described.len() as f32;
        }
    }
    Ok(Some(mean))
}
