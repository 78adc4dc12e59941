//! BlazeFace face detection (short and full range), decoded and merged as MediaPipe does: SSD
//! anchors, score-weighted non-maximum suppression, letterbox removal.

use reel_assets::ModelId;
use reel_image::{Affine, Border, Image, Point, TensorSpec, warp_to_tensor};
use reel_runtime::{ModelError, Net, Output};

/// A detected face in image pixels.
#[derive(Clone, Debug)]
pub struct Detection {
    /// [x_min, y_min, width, height]
    pub bbox: [f32; 4],
    pub score: f32,
    /// Right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion
    /// (the person's right and left).
    pub keypoints: [Point; 6],
}

impl Detection {
    pub fn iou(&self, other: &Detection) -> f32 {
        iou(self.bbox, other.bbox)
    }
}

pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let x0 = a[0].max(b[0]);
    let y0 = a[1].max(b[1]);
    let x1 = (a[0] + a[2]).min(b[0] + b[2]);
    let y1 = (a[1] + a[3]).min(b[1] + b[3]);
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let inter = (x1 - x0) * (y1 - y0);
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

/// Which BlazeFace model to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// Faces within about 2 m: 128 px input (MediaPipe's default and its tracker's).
    Short,
    /// Faces up to about 5 m: 192 px input.
    Full,
}

/// SSD anchor centres in normalized input coordinates, in the model's output order.
pub(crate) fn anchors(input: usize, strides: &[usize], interpolated: bool) -> Vec<(f32, f32)> {
    let mut out = Vec::new();
    let mut layer = 0;
    while layer < strides.len() {
        // Consecutive layers with the same stride share one grid.
        let mut per_cell = 0;
        let mut last = layer;
        while last < strides.len() && strides[last] == strides[layer] {
            per_cell += 1 + usize::from(interpolated);
            last += 1;
        }
        let grid = input.div_ceil(strides[layer]);
        for y in 0..grid {
            for x in 0..grid {
                for _ in 0..per_cell {
                    out.push((
                        (x as f32 + 0.5) / grid as f32,
                        (y as f32 + 0.5) / grid as f32,
                    ));
                }
            }
        }
        layer = last;
    }
    out
}

/// How the detector looks for faces in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// The short-range model on the whole frame, MediaPipe's default; where it finds nothing,
    /// or the frame is larger than [`LARGE_FRAME`], the full-range model over a pyramid of
    /// tiles, each level of half the side of the one before, for as long as the faces it finds
    /// are small for their tiles (a crowd), all merged. One near face costs one short-range
    /// run, as before; a group photo or a crowd is searched until its faces are found.
    Auto,
    /// One model on the whole frame only.
    Only(Range),
    /// One model on the whole frame and on overlapping squares of half its long side, so a
    /// face counts twice as many model pixels (several runs).
    Tiled(Range),
}

/// Frames whose long side is above this many pixels get the wider search even where the
/// short-range model finds a face: at 128 model pixels it only sees their largest faces.
pub const LARGE_FRAME: usize = 1920;

/// The smallest tile of the pyramid: the full-range model's own input (a smaller tile would
/// only be enlarged).
const MIN_TILE: f32 = 192.0;
/// A face under this share of its tile's side sends the search a level down, where it and its
/// neighbours count twice as many model pixels.
const SMALL_IN_TILE: f32 = 1.0 / 8.0;
/// The most model runs one pyramid may take (a 4K frame reaches its eighth-size tiles).
const MAX_TILE_RUNS: usize = 160;

/// A face detector: its models (each loaded when first needed), anchors and buffers.
pub struct FaceDetector {
    search: Search,
    threads: usize,
    short: Option<Model>,
    full: Option<Model>,
    pub min_score: f32,
}

/// One BlazeFace model with its anchors and buffers.
struct Model {
    net: Net,
    anchors: Vec<(f32, f32)>,
    size: usize,
    input: Vec<f32>,
    outputs: Vec<Output>,
}

/// A box found by a detector, before suppression: the face detector's six keypoints, the palm
/// detector's seven.
#[derive(Clone, Debug)]
pub(crate) struct Scored<const K: usize> {
    pub bbox: [f32; 4],
    pub score: f32,
    pub keypoints: [Point; K],
}

type Candidate = Scored<6>;

impl FaceDetector {
    pub fn new(search: Search, threads: usize) -> Result<FaceDetector, ModelError> {
        let mut detector = FaceDetector {
            search,
            threads,
            short: None,
            full: None,
            min_score: 0.5,
        };
        // The model every search starts with, loaded now so that a missing model is reported
        // before any frame is read.
        detector.model(match search {
            Search::Auto => Range::Short,
            Search::Only(range) | Search::Tiled(range) => range,
        })?;
        Ok(detector)
    }

    fn model(&mut self, range: Range) -> Result<&mut Model, ModelError> {
        let slot = match range {
            Range::Short => &mut self.short,
            Range::Full => &mut self.full,
        };
        if slot.is_none() {
            *slot = Some(Model::new(range, self.threads)?);
        }
        Ok(slot.as_mut().expect("loaded"))
    }

    /// Finds faces in the image as the search says, best first.
    pub fn detect(&mut self, image: &Image) -> Result<Vec<Detection>, ModelError> {
        self.run(self.search, image)
    }

    /// The quick look a tracker takes between full searches: for [`Search::Auto`] the
    /// short-range model on the whole frame, otherwise the search itself.
    pub fn detect_quick(&mut self, image: &Image) -> Result<Vec<Detection>, ModelError> {
        let search = match self.search {
            Search::Auto => Search::Only(Range::Short),
            other => other,
        };
        self.run(search, image)
    }

    fn run(&mut self, search: Search, image: &Image) -> Result<Vec<Detection>, ModelError> {
        let min_score = self.min_score;
        let mut candidates = Vec::new();
        match search {
            Search::Only(range) => {
                self.model(range)?
                    .detect_whole(image, min_score, &mut candidates)?;
            }
            Search::Tiled(range) => {
                let model = self.model(range)?;
                model.detect_whole(image, min_score, &mut candidates)?;
                model.detect_tiles(image, min_score, &mut candidates)?;
            }
            Search::Auto => {
                self.model(Range::Short)?
                    .detect_whole(image, min_score, &mut candidates)?;
                if candidates.is_empty() || image.width.max(image.height) > LARGE_FRAME {
                    self.model(Range::Full)?
                        .detect_pyramid(image, min_score, &mut candidates)?;
                }
            }
        }
        Ok(weighted_nms(candidates, 0.3)
            .into_iter()
            .map(|c| Detection {
                bbox: c.bbox,
                score: c.score,
                keypoints: c.keypoints,
            })
            .collect())
    }
}

impl Model {
    fn new(range: Range, threads: usize) -> Result<Model, ModelError> {
        let (id, size, strides, interpolated): (_, _, &[usize], _) = match range {
            Range::Short => (ModelId::FaceDetectorShort, 128, &[8, 16, 16, 16], true),
            Range::Full => (ModelId::FaceDetectorFull, 192, &[4], false),
        };
        Ok(Model {
            net: Net::load(id, threads)?,
            anchors: anchors(size, strides, interpolated),
            size,
            input: Vec::new(),
            outputs: Vec::new(),
        })
    }

    /// The whole image, letterboxed to a square (MediaPipe's detection).
    fn detect_whole(
        &mut self,
        image: &Image,
        min_score: f32,
        out: &mut Vec<Candidate>,
    ) -> Result<(), ModelError> {
        let side = image.width.max(image.height) as f32;
        let center = Point::new(image.width as f32 / 2.0, image.height as f32 / 2.0);
        self.detect_square(image, center, side, false, min_score, out)
    }

    /// Overlapping squares of half the image's long side.
    fn detect_tiles(
        &mut self,
        image: &Image,
        min_score: f32,
        out: &mut Vec<Candidate>,
    ) -> Result<(), ModelError> {
        let side = image.width.max(image.height) as f32 / 2.0;
        for center in tile_centers(image, side) {
            self.detect_square(image, center, side, true, min_score, out)?;
        }
        Ok(())
    }

    /// The whole image, then tiles of half the side of the level before, for as long as some
    /// face found is small for its tile, down to [`MIN_TILE`]. Where the whole image shows
    /// nothing the first tiles are searched too (a frame without faces costs no more).
    fn detect_pyramid(
        &mut self,
        image: &Image,
        min_score: f32,
        out: &mut Vec<Candidate>,
    ) -> Result<(), ModelError> {
        let whole = image.width.max(image.height) as f32;
        let mut side = whole;
        let mut runs = 1;
        let mut level = Vec::new();
        self.detect_whole(image, min_score, &mut level)?;
        loop {
            let small = level
                .iter()
                .any(|c| c.bbox[2].max(c.bbox[3]) < side * SMALL_IN_TILE);
            let descend = small || (side == whole && level.is_empty());
            out.append(&mut level);
            side /= 2.0;
            let centers = tile_centers(image, side);
            if !descend || side < MIN_TILE || runs + centers.len() > MAX_TILE_RUNS {
                return Ok(());
            }
            runs += centers.len();
            for center in centers {
                self.detect_square(image, center, side, true, min_score, &mut level)?;
            }
        }
    }

    /// Runs the model on a square of the image (letterboxed where it leaves the image) and adds
    /// what it finds to `out`. With `drop_cut`, faces touching the square's edge inside the image
    /// are left out: another square sees them whole.
    fn detect_square(
        &mut self,
        image: &Image,
        center: Point,
        side: f32,
        drop_cut: bool,
        min_score: f32,
        out: &mut Vec<Candidate>,
    ) -> Result<(), ModelError> {
        let to_image = Affine::from_rotated_rect(center, (side, side), 0.0, self.size, self.size);
        let spec = TensorSpec {
            width: self.size,
            height: self.size,
            scale: 2.0 / 255.0,
            offset: -1.0,
            border: Border::Zero,
        };
        warp_to_tensor(image, &to_image, &spec, &mut self.input);
        self.net.run(&self.input, &mut self.outputs)?;
        let (boxes, scores) = match self.outputs.as_slice() {
            [a, b] if a.values.len() == b.values.len() * 16 => (&a.values, &b.values),
            [a, b] if b.values.len() == a.values.len() * 16 => (&b.values, &a.values),
            _ => {
                return Err(ModelError::Format(
                    "unexpected face detector outputs".into(),
                ));
            }
        };
        let s = self.size as f32;
        let (x0, y0) = (center.x - side / 2.0, center.y - side / 2.0);
        let margin = side * 0.01;
        let (iw, ih) = (image.width as f32, image.height as f32);
        // Model coordinates are in input pixels; map them to normalized input, then to the image.
        let to_px = |x: f32, y: f32| to_image.apply(Point::new(x * s, y * s));
        for (i, &(ax, ay)) in self.anchors.iter().enumerate() {
            let raw = scores[i].clamp(-100.0, 100.0);
            let score = 1.0 / (1.0 + (-raw).exp());
            if score < min_score {
                continue;
            }
            let r = &boxes[i * 16..i * 16 + 16];
            let (cx, cy) = (r[0] / s + ax, r[1] / s + ay);
            let (w, h) = (r[2] / s, r[3] / s);
            if !(w > 0.0 && h > 0.0) {
                continue;
            }
            let p0 = to_px(cx - w / 2.0, cy - h / 2.0);
            let p1 = to_px(cx + w / 2.0, cy + h / 2.0);
            if drop_cut {
                let cut = |lo: f32, hi: f32, edge_lo: f32, edge_hi: f32, limit: f32| {
                    (lo < edge_lo + margin && edge_lo > 0.0)
                        || (hi > edge_hi - margin && edge_hi < limit)
                };
                if cut(p0.x, p1.x, x0, x0 + side, iw) || cut(p0.y, p1.y, y0, y0 + side, ih) {
                    continue;
                }
            }
            let mut keypoints = [Point::default(); 6];
            for (k, kp) in keypoints.iter_mut().enumerate() {
                *kp = to_px(r[4 + 2 * k] / s + ax, r[5 + 2 * k] / s + ay);
            }
            out.push(Candidate {
                bbox: [p0.x, p0.y, p1.x - p0.x, p1.y - p0.y],
                score,
                keypoints,
            });
        }
        Ok(())
    }
}

/// Centres of squares of `side` covering the image, overlapping by a quarter so that any face
/// under a quarter of a square fits whole in one.
fn tile_centers(image: &Image, side: f32) -> Vec<Point> {
    let along = |len: f32| -> Vec<f32> {
        if len <= side {
            return vec![len / 2.0];
        }
        let n = ((len - side) / (side * 0.75)).ceil() as usize + 1;
        (0..n)
            .map(|i| side / 2.0 + i as f32 * (len - side) / (n - 1) as f32)
            .collect()
    };
    let xs = along(image.width as f32);
    along(image.height as f32)
        .into_iter()
        .flat_map(|y| xs.iter().map(move |&x| Point::new(x, y)))
        .collect()
}

/// MediaPipe's weighted non-maximum suppression: each cluster of overlapping boxes becomes their
/// score-weighted mean, keeping the best score.
/// MediaPipe's weighted non-maximum suppression: each cluster of boxes overlapping the best
/// remaining one by more than `threshold` becomes their score-weighted mean.
pub(crate) fn weighted_nms<const K: usize>(
    mut rest: Vec<Scored<K>>,
    threshold: f32,
) -> Vec<Scored<K>> {
    rest.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !rest.is_empty() {
        let top = rest[0].bbox;
        let best = rest[0].score;
        let (cluster, keep): (Vec<Scored<K>>, Vec<Scored<K>>) =
            rest.into_iter().partition(|c| iou(c.bbox, top) > threshold);
        rest = keep;
        if cluster.is_empty() {
            break;
        }
        let total: f32 = cluster.iter().map(|c| c.score).sum();
        let mut edges = [0.0f32; 4];
        let mut keypoints = [Point::default(); K];
        for c in &cluster {
            let wgt = c.score / total;
            let b = c.bbox;
            edges[0] += b[0] * wgt;
            edges[1] += b[1] * wgt;
            edges[2] += (b[0] + b[2]) * wgt;
            edges[3] += (b[1] + b[3]) * wgt;
            for (k, kp) in keypoints.iter_mut().enumerate() {
                kp.x += c.keypoints[k].x * wgt;
                kp.y += c.keypoints[k].y * wgt;
            }
        }
        out.push(Scored {
            bbox: [edges[0], edges[1], edges[2] - edges[0], edges[3] - edges[1]],
            score: best,
            keypoints,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_counts_match_the_models() {
        assert_eq!(anchors(128, &[8, 16, 16, 16], true).len(), 896);
        assert_eq!(anchors(192, &[4], false).len(), 2304);
        let a = anchors(128, &[8, 16, 16, 16], true);
        assert_eq!(a[0], (0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(a[1], a[0]);
        assert_eq!(a[512], (0.5 / 8.0, 0.5 / 8.0));
    }

    #[test]
    fn nms_merges_overlaps_by_score() {
        let d = |x: f32, s: f32| Candidate {
            bbox: [x, 0.0, 10.0, 10.0],
            score: s,
            keypoints: [Point::new(x, 0.0); 6],
        };
        let out = weighted_nms(vec![d(0.0, 0.9), d(1.0, 0.3), d(50.0, 0.8)], 0.3);
        assert_eq!(out.len(), 2);
        assert!((out[0].bbox[0] - 0.25).abs() < 1e-5);
        assert_eq!(out[0].score, 0.9);
        assert_eq!(out[1].bbox[0], 50.0);
    }
}
