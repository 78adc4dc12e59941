//! Which faces a job edits: all of them, chosen track ids, or the one most like a reference photo.

use std::collections::HashMap;

use reel_face::{Face, Landmark, shape_distance};

pub enum FaceSelection {
    All,
    Ids(Vec<u32>),
    /// The face whose shape (pose-normalised mesh) is closest to the reference's, judged per
    /// track over all the frames seen so far, so that the choice does not flicker.
    LikeReference {
        reference: Vec<Landmark>,
        distances: HashMap<u32, (f32, u32)>,
    },
}

impl FaceSelection {
    pub fn like(reference: Vec<Landmark>) -> FaceSelection {
        FaceSelection::LikeReference {
            reference,
            distances: HashMap::new(),
        }
    }

    pub fn choose<'a>(&mut self, faces: &'a [Face]) -> Vec<&'a Face> {
        match self {
            FaceSelection::All => faces.iter().collect(),
            FaceSelection::Ids(ids) => faces.iter().filter(|f| ids.contains(&f.id)).collect(),
            FaceSelection::LikeReference {
                reference,
                distances,
            } => {
                for f in faces {
                    let d = shape_distance(reference, &f.landmarks);
                    let e = distances.entry(f.id).or_insert((0.0, 0));
                    e.0 += d;
                    e.1 += 1;
                }
                let mean = |f: &Face| {
                    distances
                        .get(&f.id)
                        .map(|(s, n)| s / *n as f32)
                        .unwrap_or(f32::MAX)
                };
                faces
                    .iter()
                    .min_by(|a, b| mean(a).total_cmp(&mean(b)))
                    .into_iter()
                    .collect()
            }
        }
    }
}
