//! The face-aware morph: where both pictures show a face, each picture is warped so that its
//! face's mesh moves to the mesh between the two (piecewise affine, a triangle of the mesh at a
//! time), and the two warped pictures are dissolved; around the face the warp fades to nothing
//! over a band out to a ring beyond the face, and the rest of the picture dissolves, so nothing
//! outside the face moves.

use reel_face::mesh::outline::FACE_OVAL;
use reel_face::{AnalyzerSettings, Face, FaceAnalyzer, topology};
use reel_image::{Border, Image, Point, for_each_in_triangle, sample};
use reel_runtime::ModelError;

use crate::transition::mix as dissolve;

/// Each side's faces, followed over the frames of the transition.
pub struct Morph {
    sides: [FaceAnalyzer; 2],
    triangles: &'static [[usize; 3]],
    frame: u64,
    /// The last frame's progress: a smaller one starts another transition.
    progress: f32,
    covered: Vec<bool>,
}

/// A triangle in the output and where its corners are in each of the two pictures.
struct Corners {
    out: [Point; 3],
    from: [Point; 3],
    to: [Point; 3],
}

impl Morph {
    pub fn new() -> Result<Morph, ModelError> {
        let side = || FaceAnalyzer::new(AnalyzerSettings::default());
        Ok(Morph {
            sides: [side()?, side()?],
            triangles: topology::triangles()?,
            frame: 0,
            progress: f32::MAX,
            covered: Vec::new(),
        })
    }

    /// The frame `progress` of the way from `from` to `to` (RGB frames of one size) into `out`.
    pub fn mix(
        &mut self,
        from: &Image,
        to: &Image,
        progress: f32,
        out: &mut Image,
    ) -> Result<(), ModelError> {
        // Another transition (the next join): other clips, other faces.
        if progress <= self.progress {
            for side in &mut self.sides {
                side.tracker().reset();
            }
        }
        self.progress = progress;
        let time = self.frame as f64 / 25.0;
        self.frame += 1;
        let a = largest(self.sides[0].analyze(from, time)?);
        let b = largest(self.sides[1].analyze(to, time)?);
        out.reshape(from.width, from.height);
        dissolve(&from.data, &to.data, progress, &mut out.data);
        let (Some(a), Some(b)) = (a, b) else {
            return Ok(());
        };
        let t = progress.clamp(0.0, 1.0);
        let pa: Vec<Point> = a.landmarks.iter().map(|l| l.point()).collect();
        let pb: Vec<Point> = b.landmarks.iter().map(|l| l.point()).collect();
        let mid: Vec<Point> = pa.iter().zip(&pb).map(|(p, q)| lerp(*p, *q, t)).collect();
        let mut corners: Vec<Corners> = self
            .triangles
            .iter()
            .map(|tri| Corners {
                out: tri.map(|i| mid[i]),
                from: tri.map(|i| pa[i]),
                to: tri.map(|i| pb[i]),
            })
            .collect();
        corners.extend(band(&pa, &pb, &mid));
        self.covered.clear();
        self.covered.resize(from.width * from.height, false);
        for c in &corners {
            warp_triangle(c, from, to, t, out, &mut self.covered);
        }
        Ok(())
    }
}

/// The face the picture is about: the largest.
fn largest(faces: &[Face]) -> Option<Face> {
    faces
        .iter()
        .max_by(|x, y| x.size.total_cmp(&y.size))
        .cloned()
}

fn lerp(p: Point, q: Point, t: f32) -> Point {
    Point::new(p.x + (q.x - p.x) * t, p.y + (q.y - p.y) * t)
}

/// The band from the face's outline out to a ring where nothing moves: its triangles take the
/// outline's motion down to none at the ring.
fn band(pa: &[Point], pb: &[Point], mid: &[Point]) -> Vec<Corners> {
    let oval = |p: &[Point]| -> Vec<Point> { FACE_OVAL.iter().map(|&i| p[i]).collect() };
    let (oa, ob, om) = (oval(pa), oval(pb), oval(mid));
    let centre = |o: &[Point]| {
        let n = o.len() as f32;
        Point::new(
            o.iter().map(|p| p.x).sum::<f32>() / n,
            o.iter().map(|p| p.y).sum::<f32>() / n,
        )
    };
    let c = centre(&om);
    // The ring lies half a face beyond the largest of the three outlines, and further by the
    // distance between the faces, so that both faces' outlines lie inside it.
    let reach = |o: &[Point]| {
        let c = centre(o);
        o.iter().map(|p| p.distance(c)).fold(0.0, f32::max)
    };
    let radius = reach(&om).max(1.0);
    let largest = reach(&oa).max(reach(&ob)).max(radius);
    let apart = centre(&oa).distance(centre(&ob));
    let scale = (1.5 * largest + apart) / radius;
    let ring: Vec<Point> = om.iter().map(|p| lerp(c, *p, scale)).collect();
    let n = om.len();
    let mut band = Vec::with_capacity(2 * n);
    for i in 0..n {
        let j = (i + 1) % n;
        band.push(Corners {
            out: [om[i], om[j], ring[i]],
            from: [oa[i], oa[j], ring[i]],
            to: [ob[i], ob[j], ring[i]],
        });
        band.push(Corners {
            out: [om[j], ring[j], ring[i]],
            from: [oa[j], ring[j], ring[i]],
            to: [ob[j], ring[j], ring[i]],
        });
    }
    band
}

/// Fills the pixels of `c.out` with both pictures sampled where the triangle's corners are in
/// each, dissolved by `t`; a pixel already filled (where triangles overlap) is left.
fn warp_triangle(
    c: &Corners,
    from: &Image,
    to: &Image,
    t: f32,
    out: &mut Image,
    covered: &mut [bool],
) {
    let (w, h) = (out.width, out.height);
    let at = |corners: &[Point; 3], [w0, w1, w2]: [f32; 3]| {
        Point::new(
            corners[0].x * w0 + corners[1].x * w1 + corners[2].x * w2,
            corners[0].y * w0 + corners[1].y * w1 + corners[2].y * w2,
        )
    };
    for_each_in_triangle(c.out, (0, 0, w - 1, h - 1), |x, y, weights| {
        let i = y * w + x;
        if covered[i] {
            return;
        }
        let (sa, sb) = (at(&c.from, weights), at(&c.to, weights));
        let va = sample(from, sa.x, sa.y, Border::Replicate);
        let vb = sample(to, sb.x, sb.y, Border::Replicate);
        for ch in 0..3 {
            out.data[i * 3 + ch] = (va[ch] + (vb[ch] - va[ch]) * t).round().clamp(0.0, 255.0) as u8;
        }
        covered[i] = true;
    });
}
