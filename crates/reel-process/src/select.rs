//! Which faces a job edits: all of them, chosen track ids, or the person in a reference photo.

use std::collections::HashMap;

use reel_face::identity::{Descriptor, SAME_PERSON, distance};
use reel_face::{Face, FaceRecognizer};
use reel_image::Image;

use crate::ProcessError;

pub enum FaceSelection {
    All,
    Ids(Vec<u32>),
    /// The face whose identity is closest to the reference's, if it is the same person.
    Like(Box<ReferenceMatch>),
}

/// Identity evidence gathered per track: a descriptor every few frames, so the choice settles
/// quickly, survives odd frames (blur, profile) and costs little.
pub struct ReferenceMatch {
    reference: Descriptor,
    recognizer: FaceRecognizer,
    tracks: HashMap<u32, Evidence>,
    frame: u64,
}

#[derive(Default)]
struct Evidence {
    sum: f32,
    samples: u32,
    last: u64,
}

/// Descriptors per track at most, and frames between them.
const SAMPLES: u32 = 8;
const EVERY: u64 = 10;

impl ReferenceMatch {
    pub fn new(reference: Descriptor, recognizer: FaceRecognizer) -> ReferenceMatch {
        ReferenceMatch {
            reference,
            recognizer,
            tracks: HashMap::new(),
            frame: 0,
        }
    }

    fn mean_distance(&self, id: u32) -> f32 {
        self.tracks
            .get(&id)
            .filter(|e| e.samples > 0)
            .map(|e| e.sum / e.samples as f32)
            .unwrap_or(f32::MAX)
    }
}

impl FaceSelection {
    pub fn choose<'a>(
        &mut self,
        image: &Image,
        faces: &'a [Face],
    ) -> Result<Vec<&'a Face>, ProcessError> {
        Ok(match self {
            FaceSelection::All => faces.iter().collect(),
            FaceSelection::Ids(ids) => faces.iter().filter(|f| ids.contains(&f.id)).collect(),
            FaceSelection::Like(m) => {
                m.frame += 1;
                for f in faces {
                    let frame = m.frame;
                    let e = m.tracks.entry(f.id).or_default();
                    if e.samples == 0 || (e.samples < SAMPLES && frame - e.last >= EVERY) {
                        let d = m.recognizer.describe(image, &f.landmarks)?;
                        let e = m.tracks.get_mut(&f.id).expect("inserted above");
                        e.sum += distance(&m.reference, &d);
                        e.samples += 1;
                        e.last = frame;
                    }
                }
                faces
                    .iter()
                    .map(|f| (f, m.mean_distance(f.id)))
                    .filter(|&(_, d)| d < SAME_PERSON)
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(f, _)| f)
                    .into_iter()
                    .collect()
            }
        })
    }
}
