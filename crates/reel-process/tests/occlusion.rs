//! A hand in front of a face stays a hand: real hand photos (fingerpose's, shot against a pale
//! wall and keyed out by their colour) laid over real faces, then beauty, de-aging and the photo
//! swap run with the editing analysis. Every pixel of the hand must come out as it went in,
//! while the face around it is still edited; with occlusion off the same chains paint over the
//! hand, so the check can fail. Needs `reel setup`.

use reel_face::{Face, FaceAnalyzer};
use reel_image::Image;
use reel_image::resize::{Filter, resize};
use reel_process::beauty::BeautySettings;
use reel_process::deage::DeageSettings;
use reel_process::{Beauty, Chain, Deage, PhotoSwap, pipeline};
use reel_video::{Decoder, Frame};

fn sample(name: &str) -> std::path::PathBuf {
    let p = reel_assets::samples_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `reel setup` first",
        p.display()
    );
    p
}

fn frames(name: &str, n: usize) -> Vec<Image> {
    let mut d = Decoder::open(&sample(name)).unwrap();
    let mut f = Frame::default();
    let mut v = Vec::new();
    while v.len() < n && d.next_frame(&mut f).unwrap() {
        v.push(f.image.clone());
    }
    v
}

/// The hand's coverage in a photo of it against a pale, unsaturated wall: skin is saturated,
/// the wall is not. Only the largest connected piece counts (stray warm patches of wall do
/// not), with the soft values along its edge.
fn key_hand(photo: &Image) -> Vec<f32> {
    let (w, h) = (photo.width, photo.height);
    let soft: Vec<f32> = photo
        .data
        .chunks_exact(3)
        .map(|p| {
            let hi = f32::from(p[0].max(p[1]).max(p[2]));
            let lo = f32::from(p[0].min(p[1]).min(p[2]));
            (((hi - lo) / hi.max(1.0) - 0.25) / 0.05).clamp(0.0, 1.0)
        })
        .collect();
    // Label the solid pieces, keep the largest.
    let mut label = vec![0u32; w * h];
    let (mut best, mut best_size, mut next) = (0u32, 0usize, 0u32);
    for start in 0..w * h {
        if soft[start] <= 0.5 || label[start] != 0 {
            continue;
        }
        next += 1;
        let mut stack = vec![start];
        label[start] = next;
        let mut size = 0;
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % w, i / w);
            let mut visit = |j: usize| {
                if soft[j] > 0.5 && label[j] == 0 {
                    label[j] = next;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if size > best_size {
            (best, best_size) = (next, size);
        }
    }
    (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let near = |j: usize| label[j] == best;
            let touching = near(i)
                || (x > 0 && near(i - 1))
                || (x + 1 < w && near(i + 1))
                || (y > 0 && near(i - w))
                || (y + 1 < h && near(i + w));
            if touching { soft[i] } else { 0.0 }
        })
        .collect()
}

/// A hand photo, scaled, laid over `face` with its top-left corner at `at` (it may run off the
/// frame); returns the composite and where the hand is solid (the hand itself, not the pixels
/// of its keyed edge that are partly background).
fn composite(
    face: &Image,
    hand_photo: &Image,
    scale: f32,
    at: (isize, isize),
) -> (Image, Vec<bool>) {
    let hand = resize(
        hand_photo,
        (hand_photo.width as f32 * scale).round() as usize,
        (hand_photo.height as f32 * scale).round() as usize,
        Filter::Lanczos3,
    );
    let alpha = key_hand(&hand);
    let mut out = face.clone();
    let mut solid = vec![false; face.width * face.height];
    for y in 0..hand.height {
        for x in 0..hand.width {
            let (fx, fy) = (x as isize + at.0, y as isize + at.1);
            if fx < 0 || fy < 0 || fx >= face.width as isize || fy >= face.height as isize {
                continue;
            }
            let a = alpha[y * hand.width + x];
            if a <= 0.0 {
                continue;
            }
            let (fi, hi) = (
                (fy as usize * face.width + fx as usize) * 3,
                (y * hand.width + x) * 3,
            );
            for c in 0..3 {
                let v = f32::from(hand.data[hi + c]) * a + f32::from(out.data[fi + c]) * (1.0 - a);
                out.data[fi + c] = v.round() as u8;
            }
            solid[fy as usize * face.width + fx as usize] = a >= 0.99;
        }
    }
    (out, solid)
}

/// The processors a hand must survive, each a chain of its own.
fn chains() -> Vec<(&'static str, Chain)> {
    let beauty = Beauty::new(BeautySettings {
        strength: 1.0,
        ..BeautySettings::default()
    })
    .unwrap();
    let deage = Deage::new(DeageSettings { years: 30.0 }).unwrap();
    let swap = PhotoSwap::from_photos(&[sample("grace_hopper.jpg")]).unwrap();
    vec![
        ("beauty", Chain::new().then(beauty)),
        ("deage", Chain::new().then(deage)),
        ("swap", Chain::new().then(swap)),
    ]
}

/// Runs every chain over the frames; per chain: (hand pixels changed, face pixels changed).
fn run(
    frames: &[Image],
    solid: &[bool],
    occlusion: bool,
) -> Vec<(&'static str, usize, usize, usize)> {
    let mut out = Vec::new();
    for (name, mut chain) in chains() {
        let mut settings = pipeline::editing_analysis(4, 1);
        settings.occlusion = occlusion;
        let mut analyzer = FaceAnalyzer::new(settings).unwrap();
        let (mut hand_changed, mut face_changed, mut occluded_frames) = (0, 0, 0);
        for (i, image) in frames.iter().enumerate() {
            let faces: Vec<Face> = analyzer.analyze(image, i as f64 / 25.0).unwrap().to_vec();
            assert!(!faces.is_empty(), "{name}: no face found in frame {i}");
            occluded_frames += usize::from(faces.iter().any(|f| f.occlusion.is_some()));
            let refs: Vec<&Face> = faces.iter().collect();
            let mut edited = image.clone();
            chain.process(&mut edited, &refs).unwrap();
            for (p, (a, b)) in edited
                .data
                .chunks_exact(3)
                .zip(image.data.chunks_exact(3))
                .enumerate()
            {
                if a != b {
                    if solid[p] {
                        hand_changed += 1;
                    } else {
                        face_changed += 1;
                    }
                }
            }
        }
        out.push((name, hand_changed, face_changed, occluded_frames));
    }
    out
}

fn check(what: &str, frames: &[Image], solid: &[bool]) {
    let hand_pixels = solid.iter().filter(|&&s| s).count() * frames.len();
    for (name, hand_changed, face_changed, occluded) in run(frames, solid, true) {
        eprintln!(
            "{what}, {name}: {hand_changed} of {hand_pixels} hand pixels changed, {face_changed} other pixels edited, occlusion found in {occluded} of {} frames",
            frames.len()
        );
        assert_eq!(
            occluded,
            frames.len(),
            "{what}, {name}: the hand was not found in every frame"
        );
        assert_eq!(hand_changed, 0, "{what}, {name}: the hand was painted over");
        assert!(
            face_changed > 1000 * frames.len(),
            "{what}, {name}: the face was hardly edited"
        );
    }
    // Without occlusion the same processors do paint over the hand.
    for (name, hand_changed, _, _) in run(frames, solid, false) {
        eprintln!("{what}, {name}, occlusion off: {hand_changed} hand pixels changed");
        assert!(
            hand_changed > hand_pixels / 50,
            "{what}, {name}: the hand was not over the edited face"
        );
    }
}

#[test]
fn a_hand_held_to_a_portrait_is_left_as_it_is() {
    let hand = frames("hand_pointing.jpg", 1).remove(0);
    let face = frames("portrait.jpg", 1).remove(0);
    let (image, solid) = composite(&face, &hand, 1.0, (140, 330));
    check("portrait + pointing hand", &[image], &solid);
    let hand = frames("hand_open.jpg", 1).remove(0);
    let (image, solid) = composite(&face, &hand, 0.6, (187, 441));
    check("portrait + open hand", &[image], &solid);
}

#[test]
fn a_hand_held_to_a_talking_head_is_left_as_it_is_in_every_frame() {
    let clip = frames("talking_head.mp4", 30);
    let hand = frames("hand_pointing.jpg", 1).remove(0);
    let mut solid = Vec::new();
    let composited: Vec<Image> = clip
        .iter()
        .map(|f| {
            let (image, s) = composite(f, &hand, 0.45, (190, 192));
            solid = s;
            image
        })
        .collect();
    check("talking head + pointing hand", &composited, &solid);
}

#[test]
fn faces_without_hands_are_not_occluded() {
    for (name, n) in [
        ("talking_head.mp4", 60),
        ("speaker.mp4", 60),
        ("portrait.jpg", 1),
        ("grace_hopper.jpg", 1),
        ("astronaut.png", 1),
    ] {
        let mut analyzer = FaceAnalyzer::new(pipeline::editing_analysis(8, 1)).unwrap();
        let mut occluded = 0;
        for (i, image) in frames(name, n).iter().enumerate() {
            let faces = analyzer.analyze(image, i as f64 / 25.0).unwrap();
            occluded += faces.iter().filter(|f| f.occlusion.is_some()).count();
        }
        assert_eq!(occluded, 0, "{name}: a hand was seen where there is none");
    }
}

#[test]
fn the_real_hands_by_the_faces_of_a_group_photo_are_found() {
    // Two of the six players hold a hand up by a face (seen by eye).
    let mut settings = pipeline::editing_analysis(8, 1);
    settings.tracker.detect_every_frame = true;
    let mut analyzer = FaceAnalyzer::new(settings).unwrap();
    let image = frames("group.jpg", 1).remove(0);
    let faces = analyzer.analyze(&image, 0.0).unwrap();
    let occluded = faces.iter().filter(|f| f.occlusion.is_some()).count();
    assert!(
        occluded >= 2,
        "{occluded} of {} faces have a hand by them",
        faces.len()
    );
}
