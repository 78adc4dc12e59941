//! The instant photo swap on real footage: identity moves to the photo's person, judged by an
//! independent model (dlib's face recognition network), and nothing outside the face changes.
//! Needs `reel setup`.

use reel_face::identity::distance;
use reel_face::{Face, FaceAnalyzer, FaceRecognizer};
use reel_image::Image;
use reel_process::beauty::work_rect;
use reel_process::blend::Blend;
use reel_process::{Chain, PhotoSwap, pipeline};
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

#[test]
fn the_swapped_face_reads_as_the_photos_person() {
    let clip = frames("talking_head.mp4", 120);
    let mut recognizer = FaceRecognizer::new(1).unwrap();
    for (person, blend) in [
        ("grace_hopper.jpg", Blend::MultiBand),
        ("astronaut.png", Blend::MultiBand),
        ("portrait.jpg", Blend::MultiBand),
        ("grace_hopper.jpg", Blend::Poisson),
    ] {
        let photo = sample(person);
        let source = reel_process::photo_swap::SourceFace::from_photo(&photo).unwrap();
        let a = recognizer
            .describe(&source.image, &source.landmarks)
            .unwrap();
        let mut chain =
            Chain::new().then(PhotoSwap::from_photos(&[photo]).unwrap().with_blend(blend));
        let mut analyzer = FaceAnalyzer::new(pipeline::editing_analysis(4, 1)).unwrap();
        let (mut closer, mut judged, mut before_sum, mut after_sum) = (0, 0, 0.0f32, 0.0f32);
        for (i, image) in clip.iter().enumerate() {
            let faces: Vec<Face> = analyzer.analyze(image, i as f64 / 29.97).unwrap().to_vec();
            let refs: Vec<&Face> = faces.iter().collect();
            let mut out = image.clone();
            chain.process(&mut out, &refs).unwrap();
            // Pixels outside the face's working region are untouched.
            let (x0, y0, w, h) = work_rect(&faces[0], image, 0.0);
            for y in (0..image.height).step_by(7) {
                for x in (0..image.width).step_by(7) {
                    if x < x0 || y < y0 || x >= x0 + w || y >= y0 + h {
                        assert_eq!(image.pixel(x, y), out.pixel(x, y));
                    }
                }
            }
            if i % 10 != 0 {
                continue;
            }
            let before = distance(
                &recognizer.describe(image, &faces[0].landmarks).unwrap(),
                &a,
            );
            let after = distance(&recognizer.describe(&out, &faces[0].landmarks).unwrap(), &a);
            judged += 1;
            closer += usize::from(after < before);
            before_sum += before;
            after_sum += after;
        }
        println!(
            "{person} ({blend:?}): swapped face closer to the photo's person in {closer} of {judged} frames; mean distance {:.3} -> {:.3}",
            before_sum / judged as f32,
            after_sum / judged as f32
        );
        assert!(
            closer * 10 >= judged * 9,
            "{person}: closer in only {closer} of {judged} frames"
        );
    }
}
