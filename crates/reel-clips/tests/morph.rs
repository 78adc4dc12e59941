//! The morph transition between two real faces: half way, the face's landmarks lie between the
//! two faces'; outside the faces nothing moves, the pictures only dissolve, a bounded step a
//! frame.

use reel_clips::morph::Morph;
use reel_face::{AnalyzerSettings, FaceAnalyzer};
use reel_image::Image;
use reel_image::resize::{Filter, resize};
use reel_video::{Decoder, Frame};

fn first_frame(name: &str) -> Image {
    let path = reel_assets::samples_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `reel setup` first",
        path.display()
    );
    let mut decoder = Decoder::open(&path).unwrap();
    let mut frame = Frame::default();
    assert!(decoder.next_frame(&mut frame).unwrap());
    frame.image
}

/// Two stills of one size with a face each: the talking head, and the speaker resized to it.
fn faces() -> (Image, Image) {
    let a = first_frame("talking_head.mp4");
    let b = resize(
        &first_frame("speaker.mp4"),
        a.width,
        a.height,
        Filter::Lanczos3,
    );
    (a, b)
}

fn landmarks(image: &Image) -> Vec<(f32, f32)> {
    let mut analyzer = FaceAnalyzer::new(AnalyzerSettings::default()).unwrap();
    let faces = analyzer.analyze(image, 0.0).unwrap();
    let face = faces
        .iter()
        .max_by(|x, y| x.size.total_cmp(&y.size))
        .expect("a face");
    face.landmarks.iter().map(|l| (l.x, l.y)).collect()
}

fn mean_distance(p: &[(f32, f32)], q: &[(f32, f32)]) -> f32 {
    p.iter()
        .zip(q)
        .map(|(a, b)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
        .sum::<f32>()
        / p.len() as f32
}

#[test]
fn half_way_the_face_lies_between_the_two_faces() {
    let (a, b) = faces();
    let (la, lb) = (landmarks(&a), landmarks(&b));
    let mut morph = Morph::new().unwrap();
    let mut out = Image::default();
    morph.mix(&a, &b, 0.5, &mut out).unwrap();
    let lm = landmarks(&out);
    let middle: Vec<(f32, f32)> = la
        .iter()
        .zip(&lb)
        .map(|(p, q)| ((p.0 + q.0) / 2.0, (p.1 + q.1) / 2.0))
        .collect();
    let apart = mean_distance(&la, &lb);
    let off = mean_distance(&lm, &middle);
    eprintln!("faces {apart:.1} px apart; the morph's face {off:.1} px from their middle");
    assert!(apart > 10.0, "the two faces should differ: {apart:.1} px");
    assert!(
        off < 0.25 * apart,
        "{off:.1} px from the middle, faces {apart:.1} apart"
    );
    assert!(mean_distance(&lm, &la) > 0.3 * apart && mean_distance(&lm, &lb) > 0.3 * apart);
}

#[test]
fn outside_the_faces_the_pictures_only_dissolve() {
    let (a, b) = faces();
    // Beyond the band around the faces (a ring at 1.5 face radii, moved out by their distance):
    // a face's size from either face's centre, and more where they lie apart.
    let boxes: Vec<(f32, f32, f32)> = [&a, &b]
        .iter()
        .map(|img| {
            let l = landmarks(img);
            let (xs, ys): (Vec<f32>, Vec<f32>) = l.iter().copied().unzip();
            let (x0, x1) = (
                xs.iter().copied().fold(f32::MAX, f32::min),
                xs.iter().copied().fold(f32::MIN, f32::max),
            );
            let (y0, y1) = (
                ys.iter().copied().fold(f32::MAX, f32::min),
                ys.iter().copied().fold(f32::MIN, f32::max),
            );
            ((x0 + x1) / 2.0, (y0 + y1) / 2.0, (x1 - x0).max(y1 - y0))
        })
        .collect();
    let apart = ((boxes[0].0 - boxes[1].0).powi(2) + (boxes[0].1 - boxes[1].1).powi(2)).sqrt();
    let far = |x: usize, y: usize| {
        boxes.iter().all(|&(cx, cy, size)| {
            ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() > size + 1.5 * apart
        })
    };
    let steps = 8;
    let mut morph = Morph::new().unwrap();
    let mut frames = Vec::new();
    for k in 1..=steps {
        let mut out = Image::default();
        morph
            .mix(&a, &b, k as f32 / (steps + 1) as f32, &mut out)
            .unwrap();
        frames.push(out);
    }
    let mut checked = 0;
    for pair in frames.windows(2) {
        for y in 0..a.height {
            for x in (0..a.width).filter(|&x| far(x, y)) {
                for c in 0..3 {
                    let i = (y * a.width + x) * 3 + c;
                    let step = (a.data[i] as f32 - b.data[i] as f32).abs() / (steps + 1) as f32;
                    let change = (pair[1].data[i] as f32 - pair[0].data[i] as f32).abs();
                    assert!(
                        change <= step.ceil() + 1.0,
                        "pixel {x},{y} jumped {change} (a dissolve step is {step:.1})"
                    );
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} values outside the faces, each within a dissolve step");
    assert!(
        checked > 1000,
        "too little of the picture was outside the faces: {checked}"
    );
}
