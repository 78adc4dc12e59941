//! `reel cast`: ranks candidate doubles by how much they look like the target: who they look
//! like (dlib's identity descriptor), the shape and proportions of the face (the 3-D mesh compared
//! whatever the pose), and skin tone.

use std::path::Path;

use reel_face::identity::{DESCRIPTOR_LEN, Descriptor, distance};
use reel_face::{
    Alignment, AnalyzerSettings, FaceAnalyzer, FaceRecognizer, Landmark, shape_distance,
};
use reel_image::{Canvas, Image};
use reel_video::{Decoder, Frame};
use serde::Serialize;

use crate::FacesetError;
use crate::record::read_set;
use crate::tone::{delta_e, skin_tone};

/// What casting compares of one person.
pub struct Profile {
    pub name: String,
    pub identity: Descriptor,
    /// The most frontal face's mesh.
    pub landmarks: Vec<Landmark>,
    pub skin_lab: [f32; 3],
    /// The most frontal face, aligned, for the contact sheet.
    pub portrait: Image,
    pub faces: usize,
}

const PORTRAIT: usize = 160;

fn mean_descriptor(all: &[Descriptor]) -> Descriptor {
    let mut m = [0.0; DESCRIPTOR_LEN];
    for d in all {
        for (a, b) in m.iter_mut().zip(d) {
            *a += b / all.len() as f32;
        }
    }
    m
}

/// A profile from a face set made by `reel faceset extract`.
pub fn profile_of_set(dir: &Path) -> Result<Profile, FacesetError> {
    let set = read_set(dir)?;
    let frontal = set
        .iter()
        .min_by(|a, b| {
            (a.1.pose.yaw.abs() + a.1.pose.pitch.abs())
                .total_cmp(&(b.1.pose.yaw.abs() + b.1.pose.pitch.abs()))
        })
        .expect("read_set returns faces");
    let ids: Vec<Descriptor> = set
        .iter()
        .filter_map(|(_, r)| <[f32; DESCRIPTOR_LEN]>::try_from(r.identity.as_slice()).ok())
        .collect();
    let mut skin = [0.0f32; 3];
    for (_, r) in &set {
        for (acc, v) in skin.iter_mut().zip(r.skin_lab) {
            *acc += v / set.len() as f32;
        }
    }
    let mut d = Decoder::open(&frontal.0)?;
    let mut f = Frame::default();
    d.next_frame(&mut f)?;
    let landmarks = frontal.1.mesh();
    let portrait = aligned(&f.image, &landmarks);
    Ok(Profile {
        name: dir.display().to_string(),
        identity: mean_descriptor(&ids),
        landmarks,
        skin_lab: skin,
        portrait,
        faces: set.len(),
    })
}

fn aligned(image: &Image, landmarks: &[Landmark]) -> Image {
    let mut out = Image::new(PORTRAIT, PORTRAIT);
    if let Some(a) = Alignment::new(landmarks, PORTRAIT, 0.4) {
        a.crop(image, &mut out);
    }
    out
}

/// A profile from a photo or footage: the largest face, sampled over up to `samples` frames.
pub fn profile_of_media(path: &Path, samples: usize) -> Result<Profile, FacesetError> {
    let mut decoder = Decoder::open(path)?;
    let every = decoder
        .info()
        .declared_frames
        .map(|n| (n / samples.max(1) as u64).max(1))
        .unwrap_or(10);
    let mut analyzer = FaceAnalyzer::new(AnalyzerSettings::default())?;
    let mut recognizer = FaceRecognizer::new(1)?;
    let mut ids = Vec::new();
    let mut skin = [0.0f32; 3];
    let mut best: Option<(f32, Vec<Landmark>, Image)> = None;
    let mut frame = Frame::default();
    while decoder.next_frame(&mut frame)? && ids.len() < samples {
        if reel_core::stop::requested() {
            return Err(FacesetError::Cancelled);
        }
        let faces = analyzer.analyze(&frame.image, frame.index as f64 / 25.0)?;
        if frame.index % every != 0 {
            continue;
        }
        let Some(face) = faces
            .iter()
            .max_by(|a, b| (a.bbox[2] * a.bbox[3]).total_cmp(&(b.bbox[2] * b.bbox[3])))
        else {
            continue;
        };
        ids.push(recognizer.describe(&frame.image, &face.landmarks)?);
        let (lab, _) = skin_tone(&frame.image, &face.landmarks);
        for (acc, v) in skin.iter_mut().zip(lab) {
            *acc += v;
        }
        let frontality = face.pose.yaw.abs() + face.pose.pitch.abs();
        if best.as_ref().is_none_or(|(b, _, _)| frontality < *b) {
            best = Some((
                frontality,
                face.landmarks.clone(),
                aligned(&frame.image, &face.landmarks),
            ));
        }
    }
    let Some((_, landmarks, portrait)) = best else {
        return Err(FacesetError::Settings(format!(
            "no face found in {}",
            path.display()
        )));
    };
    let n = ids.len() as f32;
    Ok(Profile {
        name: path.display().to_string(),
        identity: mean_descriptor(&ids),
        landmarks,
        skin_lab: [skin[0] / n, skin[1] / n, skin[2] / n],
        portrait,
        faces: ids.len(),
    })
}

/// A profile from a face set directory, else from media.
pub fn profile(path: &Path, samples: usize) -> Result<Profile, FacesetError> {
    if path.is_dir() {
        profile_of_set(path)
    } else {
        profile_of_media(path, samples)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Ranking {
    pub name: String,
    /// dlib descriptor distance (below 0.6: taken for the same person).
    pub identity: f32,
    /// Pose-free mesh shape difference, as a fraction of face size.
    pub shape: f32,
    /// Skin colour difference (CIE76 delta E; about 2 is just noticeable).
    pub skin: f32,
    /// The ranking score: lower is a closer double.
    pub score: f32,
}

/// Ranks candidates, closest double first. Each term is scaled so that 1 is a clear difference:
/// identity 0.6 (dlib's same-person threshold), shape 0.1, skin delta E 15.
pub fn rank(target: &Profile, candidates: &[Profile]) -> Vec<Ranking> {
    let mut out: Vec<Ranking> = candidates
        .iter()
        .map(|c| {
            let identity = distance(&target.identity, &c.identity);
            let shape = shape_distance(&target.landmarks, &c.landmarks);
            let skin = delta_e(target.skin_lab, c.skin_lab);
            Ranking {
                name: c.name.clone(),
                identity,
                shape,
                skin,
                score: identity / 0.6 + shape / 0.1 + skin / 15.0,
            }
        })
        .collect();
    out.sort_by(|a, b| a.score.total_cmp(&b.score));
    out
}

/// The target, then the candidates in ranking order, each with its rank drawn under it.
pub fn contact_sheet(target: &Profile, ranked: &[Ranking], candidates: &[Profile]) -> Image {
    let gap = 8;
    let label = 24;
    let n = ranked.len() + 1;
    let mut sheet = Image::new(n * PORTRAIT + (n + 1) * gap, PORTRAIT + label + 2 * gap);
    sheet.data.fill(32);
    let mut place = |img: &Image, slot: usize, text: &str| {
        let x0 = gap + slot * (PORTRAIT + gap);
        for y in 0..PORTRAIT {
            let dst = ((gap + y) * sheet.width + x0) * 3;
            sheet.data[dst..dst + PORTRAIT * 3]
                .copy_from_slice(&img.data[y * PORTRAIT * 3..(y + 1) * PORTRAIT * 3]);
        }
        let mut c = Canvas { image: &mut sheet };
        c.text(
            x0 as isize + 4,
            (gap + PORTRAIT + 6) as isize,
            text,
            3,
            [255, 220, 0],
        );
    };
    place(&target.portrait, 0, "0");
    for (i, r) in ranked.iter().enumerate() {
        if let Some(c) = candidates.iter().find(|c| c.name == r.name) {
            place(&c.portrait, i + 1, &format!("{}", i + 1));
        }
    }
    sheet
}
