//! The faces JSON that `reel faces analyze` writes: a record per frame and a closing summary.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Face;

/// One frame: its index, time in seconds, and every face in it.
#[derive(Serialize)]
pub struct FrameRecord<'a> {
    pub index: u64,
    pub time: Option<f64>,
    pub faces: &'a [Face],
}

/// Where one followed face was seen.
#[derive(Default, Serialize)]
pub struct TrackSummary {
    pub first_frame: u64,
    pub last_frame: u64,
    pub frames: u64,
}

/// What a whole analysis found.
#[derive(Default, Serialize)]
pub struct Summary {
    pub frames: u64,
    pub frames_with_faces: u64,
    pub most_faces_in_a_frame: usize,
    pub detector_runs: u64,
    pub tracks: BTreeMap<u32, TrackSummary>,
}

impl Summary {
    /// Counts one more frame and its faces.
    pub fn add(&mut self, index: u64, faces: &[Face]) {
        self.frames += 1;
        self.frames_with_faces += u64::from(!faces.is_empty());
        self.most_faces_in_a_frame = self.most_faces_in_a_frame.max(faces.len());
        for f in faces {
            let t = self.tracks.entry(f.id).or_insert_with(|| TrackSummary {
                first_frame: index,
                ..TrackSummary::default()
            });
            t.last_frame = index;
            t.frames += 1;
        }
    }
}
