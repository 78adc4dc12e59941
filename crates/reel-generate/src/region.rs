//! The region of a still that is animated: from clicks (the face or the person under a click,
//! found by reel's face mesh and person segmentation; elsewhere similar colour grown from it,
//! stopped at edges) or read from a mask image; feathered inward for the composite, so that
//! every pixel outside it stays the still's; drawn over the still for a preview.

use std::collections::VecDeque;

use reel_face::mask::Region as FaceRegion;
use reel_face::{AnalyzerSettings, Face, FaceAnalyzer, PersonSegmenter, face_mask};
use reel_image::blur::gaussian;
use reel_image::color::rgb_to_lab;
use reel_image::{Affine, Image};

use crate::GenerateError;

/// Where a still may move: one value a pixel, 255 inside, 0 outside.
#[derive(Debug, Clone)]
pub struct Mask {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Mask {
    /// The share of the picture inside.
    pub fn coverage(&self) -> f64 {
        self.data.iter().filter(|&&v| v > 0).count() as f64 / self.data.len().max(1) as f64
    }
}

/// What a click's region was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The click is on a face: its oval, from the face mesh.
    Face,
    /// The click is on a person (not on a face): the person's silhouette, from the segmenter.
    Person,
    /// Elsewhere: the colour under the click, grown to its edges.
    Colour,
}

impl Found {
    pub fn name(self) -> &'static str {
        match self {
            Found::Face => "face",
            Found::Person => "person",
            Found::Colour => "colour",
        }
    }
}

/// The region of every click: the face under it, else the person under it, else its colour
/// grown ([`grow`]); with `colour_only`, always the colour. The face and person models are run
/// once, only when needed.
pub fn select(
    still: &Image,
    clicks: &[(usize, usize)],
    tolerance: f32,
    colour_only: bool,
) -> Result<(Mask, Vec<Found>), GenerateError> {
    let (w, h) = (still.width, still.height);
    // Every click is checked (and the tolerance) before a model runs.
    check(w, h, clicks, tolerance)?;
    let mut data = vec![0u8; w * h];
    let mut found = Vec::with_capacity(clicks.len());
    let mut faces: Option<Vec<Face>> = None;
    let mut person: Option<Vec<u8>> = None;
    for &click in clicks {
        let (x, y) = click;
        if !colour_only {
            let faces = match &mut faces {
                Some(f) => f,
                None => faces.insert(
                    FaceAnalyzer::new(AnalyzerSettings::default())?
                        .analyze(still, 0.0)?
                        .to_vec(),
                ),
            };
            let on_face = faces.iter().find_map(|face| {
                let mask = face_mask(
                    &face.landmarks,
                    FaceRegion::Face,
                    &Affine::IDENTITY,
                    (w, h),
                    0.0,
                );
                (mask.at(x, y) > 0.5).then_some(mask)
            });
            if let Some(mask) = on_face {
                for yy in mask.y0..mask.y0 + mask.height {
                    for xx in mask.x0..mask.x0 + mask.width {
                        if mask.at(xx, yy) > 0.5 {
                            data[yy * w + xx] = 255;
                        }
                    }
                }
                found.push(Found::Face);
                continue;
            }
            let person = match &mut person {
                Some(p) => p,
                None => {
                    let mut mask = Vec::new();
                    PersonSegmenter::new(1)?.segment(still, &mut mask)?;
                    person.insert(mask)
                }
            };
            if person[y * w + x] >= 128 {
                // The person under the click, not everyone in the picture.
                for i in component(person, w, h, y * w + x) {
                    data[i] = 255;
                }
                found.push(Found::Person);
                continue;
            }
        }
        let grown = grow(still, &[click], tolerance)?;
        for (d, &g) in data.iter_mut().zip(&grown.data) {
            *d |= g;
        }
        found.push(Found::Colour);
    }
    Ok((
        Mask {
            width: w,
            height: h,
            data,
        },
        found,
    ))
}

/// The pixels joined to `start` (four ways) where `map` is at least a half.
fn component(map: &[u8], w: usize, h: usize, start: usize) -> Vec<usize> {
    let mut seen = vec![false; w * h];
    let mut queue = VecDeque::from([start]);
    let mut found = Vec::new();
    seen[start] = true;
    while let Some(i) = queue.pop_front() {
        found.push(i);
        let (x, y) = (i % w, i / w);
        let neighbours = [
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
            (y > 0).then(|| i - w),
            (y + 1 < h).then(|| i + w),
        ];
        for j in neighbours.into_iter().flatten() {
            if !seen[j] && map[j] >= 128 {
                seen[j] = true;
                queue.push_back(j);
            }
        }
    }
    found
}

/// Refuses no click, a click outside the picture, and a tolerance that takes nothing.
fn check(
    w: usize,
    h: usize,
    clicks: &[(usize, usize)],
    tolerance: f32,
) -> Result<(), GenerateError> {
    if clicks.is_empty() {
        return Err(GenerateError::Settings(
            "give a click (--click X,Y) or a mask (--mask)".into(),
        ));
    }
    for &(x, y) in clicks {
        if x >= w || y >= h {
            return Err(GenerateError::Settings(format!(
                "the click at {x},{y} is outside the {w}x{h} image"
            )));
        }
    }
    if !(tolerance.is_finite() && tolerance > 0.0) {
        return Err(GenerateError::Settings(format!(
            "a tolerance of {tolerance}: give a colour difference above 0 (12 is a start)"
        )));
    }
    Ok(())
}

/// The region around each click: the pixels joined to it whose colour is within `tolerance`
/// (CIELAB ΔE) of the colour under the click, across no step of colour larger than half of
/// it (an edge); small holes closed. Clicks are (x, y) in the still's pixels.
pub fn grow(
    still: &Image,
    clicks: &[(usize, usize)],
    tolerance: f32,
) -> Result<Mask, GenerateError> {
    let (w, h) = (still.width, still.height);
    check(w, h, clicks, tolerance)?;
    let lab: Vec<[f32; 3]> = still
        .data
        .chunks_exact(3)
        .map(|p| rgb_to_lab([p[0] as f32, p[1] as f32, p[2] as f32]))
        .collect();
    let distance = |a: [f32; 3], b: [f32; 3]| {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    };
    let mut inside = vec![false; w * h];
    let mut queue = VecDeque::new();
    for &(x, y) in clicks {
        // The colour under the click, averaged over a few pixels against noise.
        let mut seed = [0f32; 3];
        let mut n = 0.0;
        for yy in y.saturating_sub(2)..(y + 3).min(h) {
            for xx in x.saturating_sub(2)..(x + 3).min(w) {
                for c in 0..3 {
                    seed[c] += lab[yy * w + xx][c];
                }
                n += 1.0;
            }
        }
        let seed = seed.map(|v| v / n);
        inside[y * w + x] = true;
        queue.push_back(y * w + x);
        while let Some(i) = queue.pop_front() {
            let (x, y) = (i % w, i / w);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if !inside[j]
                    && distance(lab[j], seed) <= tolerance
                    && distance(lab[j], lab[i]) <= tolerance / 2.0
                {
                    inside[j] = true;
                    queue.push_back(j);
                }
            }
        }
    }
    // Close pinholes and ragged edges: a light blur of the region, thresholded.
    let mut soft: Vec<f32> = inside.iter().map(|&v| f32::from(u8::from(v))).collect();
    gaussian(&mut soft, w, h, 1, 1.5, &mut Vec::new());
    let data = soft
        .iter()
        .zip(&inside)
        .map(|(&s, &i)| if i || s >= 0.5 { 255 } else { 0 })
        .collect();
    Ok(Mask {
        width: w,
        height: h,
        data,
    })
}

/// A mask image (white, or any light value, moves) for a still of `width`×`height`.
pub fn from_image(image: &Image, width: usize, height: usize) -> Result<Mask, GenerateError> {
    if (image.width, image.height) != (width, height) {
        return Err(GenerateError::Settings(format!(
            "the mask is {}x{} and the image {width}x{height}; give a mask of the image's size",
            image.width, image.height
        )));
    }
    let data: Vec<u8> = image
        .data
        .chunks_exact(3)
        .map(|p| {
            if p.iter().map(|&v| v as u32).sum::<u32>() >= 3 * 128 {
                255
            } else {
                0
            }
        })
        .collect();
    let mask = Mask {
        width,
        height,
        data,
    };
    if mask.coverage() == 0.0 {
        return Err(GenerateError::Settings(
            "the mask is empty: paint the region that moves white".into(),
        ));
    }
    Ok(mask)
}

/// The composite's weights: 0 everywhere outside the region, rising with the distance from its
/// edge to 1 at `radius` pixels in (or at the region's middle, where it is thinner than that, so
/// that a thin region still moves).
pub fn feather(mask: &Mask, radius: f32) -> Vec<f32> {
    let inside: Vec<bool> = mask.data.iter().map(|&v| v > 0).collect();
    if radius < 0.6 {
        return inside.iter().map(|&i| f32::from(u8::from(i))).collect();
    }
    let depth = depth(&inside, mask.width, mask.height);
    // A region thinner than the radius reaches 1 at its deepest, not never.
    let deepest = depth.iter().copied().fold(0.0, f32::max);
    let full = radius.min(deepest).max(1.0);
    depth.iter().map(|&d| (d / full).min(1.0)).collect()
}

/// Each pixel's distance (3-4 chamfer, in pixels) to the nearest pixel outside the region; 0
/// outside it. The picture's border does not count as outside: a region may move up to it.
fn depth(inside: &[bool], w: usize, h: usize) -> Vec<f32> {
    const FAR: f32 = f32::MAX / 4.0;
    let mut d: Vec<f32> = inside.iter().map(|&i| if i { FAR } else { 0.0 }).collect();
    let (straight, diagonal) = (1.0, 4.0 / 3.0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let mut v = d[i];
            if x > 0 {
                v = v.min(d[i - 1] + straight);
            }
            if y > 0 {
                v = v.min(d[i - w] + straight);
                if x > 0 {
                    v = v.min(d[i - w - 1] + diagonal);
                }
                if x + 1 < w {
                    v = v.min(d[i - w + 1] + diagonal);
                }
            }
            d[i] = v;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            let mut v = d[i];
            if x + 1 < w {
                v = v.min(d[i + 1] + straight);
            }
            if y + 1 < h {
                v = v.min(d[i + w] + straight);
                if x + 1 < w {
                    v = v.min(d[i + w + 1] + diagonal);
                }
                if x > 0 {
                    v = v.min(d[i + w - 1] + diagonal);
                }
            }
            d[i] = v;
        }
    }
    // A region with no pixel outside it at all is the whole picture: wholly free.
    d.iter().map(|&v| if v >= FAR { 1e6 } else { v }).collect()
}

/// The still with the region tinted and its edge drawn, to check it before generating.
pub fn preview(still: &Image, mask: &Mask) -> Image {
    let mut out = still.clone();
    let (w, h) = (mask.width, mask.height);
    let at = |x: usize, y: usize| mask.data[y * w + x] > 0;
    for y in 0..h {
        for x in 0..w {
            let px = &mut out.data[(y * w + x) * 3..(y * w + x) * 3 + 3];
            if !at(x, y) {
                // Outside: dimmed, so the region stands out.
                for v in px.iter_mut() {
                    *v = (*v as u16 * 2 / 5) as u8;
                }
                continue;
            }
            let edge = (x == 0 || !at(x - 1, y))
                || (x + 1 == w || !at(x + 1, y))
                || (y == 0 || !at(x, y - 1))
                || (y + 1 == h || !at(x, y + 1));
            if edge {
                px.copy_from_slice(&[255, 220, 0]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grey picture with a red disc of radius 10 at (20, 16), and a dark bar across it.
    fn picture() -> Image {
        let mut img = Image::new(48, 32);
        for y in 0..32 {
            for x in 0..48 {
                let d = ((x as f32 - 20.0).powi(2) + (y as f32 - 16.0).powi(2)).sqrt();
                let p = if d <= 10.0 {
                    [200, 30, 30]
                } else {
                    [128, 128, 128]
                };
                img.data[(y * 48 + x) * 3..(y * 48 + x) * 3 + 3].copy_from_slice(&p);
            }
        }
        img
    }

    #[test]
    fn a_click_grows_to_its_colour_and_stops_at_the_edge() {
        let img = picture();
        let mask = grow(&img, &[(20, 16)], 12.0).unwrap();
        let inside = |x: usize, y: usize| mask.data[y * 48 + x] > 0;
        assert!(inside(20, 16) && inside(12, 16) && inside(20, 24));
        assert!(!inside(2, 2) && !inside(40, 16) && !inside(20, 28));
        let area = mask.data.iter().filter(|&&v| v > 0).count() as f64;
        let disc = std::f64::consts::PI * 100.0;
        assert!((area - disc).abs() / disc < 0.15, "{area} against {disc}");
        // A click on the background takes the background, not the disc.
        let mask = grow(&img, &[(2, 2)], 12.0).unwrap();
        assert!(mask.data[2 * 48 + 2] > 0 && mask.data[16 * 48 + 20] == 0);
        assert!(grow(&img, &[(48, 0)], 12.0).is_err());
    }

    #[test]
    fn feathering_never_reaches_outside_and_is_whole_deep_inside() {
        let mask = grow(&picture(), &[(20, 16)], 12.0).unwrap();
        let f = feather(&mask, 4.0);
        for (i, (&m, &v)) in mask.data.iter().zip(&f).enumerate() {
            if m == 0 {
                assert_eq!(v, 0.0, "pixel {i} outside has weight {v}");
            }
        }
        assert_eq!(f[16 * 48 + 20], 1.0);
        assert!(f[16 * 48 + 11] < 0.5);
        // A region thinner than the radius (a 3-pixel stripe) still moves at its middle.
        let mut stripe = Mask {
            width: 20,
            height: 20,
            data: vec![0; 400],
        };
        for y in 0..20 {
            stripe.data[y * 20 + 9..y * 20 + 12].fill(255);
        }
        let f = feather(&stripe, 8.0);
        assert_eq!(f[10 * 20 + 10], 1.0);
        assert_eq!(f[10 * 20 + 8], 0.0);
        assert!(f[10 * 20 + 9] > 0.0 && f[10 * 20 + 9] < 1.0);
    }

    #[test]
    fn a_mask_of_another_size_or_nothing_is_refused() {
        assert!(from_image(&Image::new(10, 10), 12, 10).is_err());
        assert!(from_image(&Image::new(10, 10), 10, 10).is_err());
    }
}
