//! Instant face replacement from photos, with no training: the photo's face texture is mapped
//! onto the target's tracked mesh triangle by triangle every frame, its colour matched to the
//! target's skin (Reinhard's transfer in CIELAB), and blended through a mask feathered inside the
//! face, with the target's own eyes and mouth interior kept where they show.

use std::path::PathBuf;

use reel_face::mask::{Mask, grown};
use reel_face::mesh::outline;
use reel_face::{Face, Landmark, Pose, topology};
use reel_image::{Affine, Border, Image, Point, for_each_in_triangle, sample};

use crate::beauty::work_rect;
use crate::blend::{Blend, paste};
use crate::color::{ColorMatch, transfer};
use crate::{FrameProcessor, ProcessError, face_size};

/// One source face: a photo and its mesh.
pub struct SourceFace {
    pub image: Image,
    pub landmarks: Vec<Landmark>,
    pub pose: Pose,
}

impl SourceFace {
    /// The largest face of a photo.
    pub fn from_photo(path: &std::path::Path) -> Result<SourceFace, ProcessError> {
        let (image, face) = crate::pipeline::photo_face(path)?;
        Ok(SourceFace {
            landmarks: face.landmarks,
            pose: face.pose,
            image,
        })
    }
}

/// The affine map taking triangle `from` onto triangle `to`.
fn triangle_map(from: [Point; 3], to: [Point; 3]) -> Option<Affine> {
    let [a, b, c] = from;
    let det = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
    if det.abs() < 1e-6 {
        return None;
    }
    // Barycentric basis of `from`, then the same combination of `to`.
    let basis = Affine {
        m: [b.x - a.x, c.x - a.x, a.x, b.y - a.y, c.y - a.y, a.y],
    }
    .inverse()?;
    let [p, q, r] = to;
    let target = Affine {
        m: [q.x - p.x, r.x - p.x, p.x, q.y - p.y, r.y - p.y, p.y],
    };
    Some(target.after(&basis))
}

pub struct PhotoSwap {
    sources: Vec<SourceFace>,
    triangles: &'static [[usize; 3]],
    warped: Vec<[f32; 3]>,
    covered: Vec<bool>,
    color: ColorMatch,
    blend: Blend,
}

impl PhotoSwap {
    pub fn from_photos(photos: &[PathBuf]) -> Result<PhotoSwap, ProcessError> {
        if photos.is_empty() {
            return Err(ProcessError::Settings("give at least one --photo".into()));
        }
        let sources = photos
            .iter()
            .map(|p| SourceFace::from_photo(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PhotoSwap {
            sources,
            triangles: topology::triangles()?,
            warped: Vec::new(),
            covered: Vec::new(),
            color: ColorMatch::Reinhard,
            blend: Blend::MultiBand,
        })
    }

    /// How the face is joined to the frame (multi-band unless set).
    pub fn with_blend(mut self, blend: Blend) -> PhotoSwap {
        self.blend = blend;
        self
    }

    /// How the photo's colour is matched to the target's (Reinhard unless set).
    pub fn with_color(mut self, color: ColorMatch) -> PhotoSwap {
        self.color = color;
        self
    }

    /// The photo whose head pose is closest to the target's.
    fn source_for(&self, pose: Pose) -> usize {
        let d = |s: &SourceFace| (s.pose.yaw - pose.yaw).abs() + (s.pose.pitch - pose.pitch).abs();
        (0..self.sources.len())
            .min_by(|&a, &b| d(&self.sources[a]).total_cmp(&d(&self.sources[b])))
            .unwrap_or(0)
    }
}

impl FrameProcessor for PhotoSwap {
    fn name(&self) -> &'static str {
        "swap"
    }

    fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError> {
        for face in faces {
            let (x0, y0, w, h) = work_rect(face, frame, 0.0);
            if w == 0 || h == 0 {
                continue;
            }
            let src = &self.sources[self.source_for(face.pose)];
            self.warped.clear();
            self.warped.resize(w * h, [0.0; 3]);
            self.covered.clear();
            self.covered.resize(w * h, false);
            // Texture mapping: every target triangle samples its source triangle.
            for tri in self.triangles {
                let to = tri.map(|i| face.landmarks[i].point());
                let from = tri.map(|i| src.landmarks[i].point());
                let Some(map) = triangle_map(to, from) else {
                    continue;
                };
                let bounds = (x0, y0, x0 + w - 1, y0 + h - 1);
                for_each_in_triangle(to, bounds, |x, y, _| {
                    let s = map.apply(Point::new(x as f32, y as f32));
                    let i = (y - y0) * w + (x - x0);
                    self.warped[i] = sample(&src.image, s.x, s.y, Border::Replicate);
                    self.covered[i] = true;
                });
            }
            // The blend mask: the face oval feathered inwards, without the target's eyes and mouth
            // interior.
            let s = face_size(face);
            let radius = (0.04 * s).round().max(1.0);
            let pts = |idx: &[usize]| -> Vec<Point> {
                idx.iter().map(|&i| face.landmarks[i].point()).collect()
            };
            let mut mask = Mask::new(x0, y0, w, h);
            mask.fill_polygon(&grown(&pts(outline::FACE_OVAL), -2.0 * radius), 1.0);
            mask.feather(radius as usize);
            let mut keep = Mask::new(x0, y0, w, h);
            for part in [
                outline::LEFT_EYE,
                outline::RIGHT_EYE,
                outline::MOUTH_OPENING,
            ] {
                keep.fill_polygon(&grown(&pts(part), 0.01 * s), 1.0);
            }
            keep.feather((0.01 * s).round() as usize);
            // Colour: the warped face takes the colour of the target's face where both show.
            let solid: Vec<usize> = (0..w * h)
                .filter(|&i| self.covered[i] && mask.data[i] > 0.95 && keep.data[i] < 0.05)
                .collect();
            let reference: Vec<[f32; 3]> = solid
                .iter()
                .map(|&i| frame.pixel(x0 + i % w, y0 + i / w).map(|v| v as f32))
                .collect();
            transfer(self.color, &mut self.warped, &solid, &reference);
            let alpha: Vec<f32> = (0..w * h)
                .map(|i| {
                    if self.covered[i] {
                        mask.data[i] * (1.0 - keep.data[i])
                    } else {
                        0.0
                    }
                })
                .collect();
            paste(frame, (x0, y0, w, h), &self.warped, &alpha, self.blend);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangle_maps_send_corners_to_corners() {
        let from = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 0.0),
            Point::new(0.0, 5.0),
        ];
        let to = [
            Point::new(3.0, 4.0),
            Point::new(13.0, 9.0),
            Point::new(1.0, 12.0),
        ];
        let m = triangle_map(from, to).unwrap();
        for k in 0..3 {
            assert!(m.apply(from[k]).distance(to[k]) < 1e-4);
        }
    }
}
