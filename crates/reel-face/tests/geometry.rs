//! Alignment, masks, segmentation, pose and tracking behaviour on real frames from the samples.
//! Needs `reel setup`.

use reel_face::mask::{Region, face_mask};
use reel_face::{
    Alignment, AnalyzerSettings, FaceAnalyzer, FaceDetector, FaceMesh, FaceTracker, Landmark,
    OneEuro, PersonSegmenter, Range, Search, TrackerSettings,
};
use reel_image::{Affine, Image, Point};
use reel_video::{Decoder, Frame};

fn frames(name: &str, n: usize) -> Vec<Image> {
    let path = reel_assets::samples_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `reel setup` first",
        path.display()
    );
    let mut dec = Decoder::open(&path).unwrap();
    let mut out = Vec::new();
    let mut f = Frame::default();
    while out.len() < n && dec.next_frame(&mut f).unwrap() {
        out.push(f.image.clone());
    }
    out
}

fn landmarks(image: &Image) -> Vec<Landmark> {
    let settings = TrackerSettings {
        detect_every_frame: true,
        ..TrackerSettings::default()
    };
    let mut t = FaceTracker::new(
        FaceDetector::new(Search::Only(Range::Short), 1).unwrap(),
        FaceMesh::new(1).unwrap(),
        settings,
    );
    let faces = t.track(image).unwrap();
    assert_eq!(faces.len(), 1);
    faces[0].landmarks.clone()
}

#[test]
fn aligned_crops_put_the_eyes_on_the_template_and_map_back() {
    let image = &frames("portrait.jpg", 1)[0];
    let lm = landmarks(image);
    let a = Alignment::new(&lm, 256, 0.0).unwrap();
    let eyes = reel_face::align::five_points(&lm);
    let (l, r) = (a.to_crop.apply(eyes[0]), a.to_crop.apply(eyes[1]));
    // The template's eyes at 256 px: (87.5, 118.2) and (168.1, 117.7).
    assert!(l.distance(Point::new(87.5, 118.2)) < 6.0, "{l:?}");
    assert!(r.distance(Point::new(168.1, 117.7)) < 6.0, "{r:?}");
    assert!((l.y - r.y).abs() < 3.0, "eyes level");
    let back = a.to_image.apply(a.to_crop.apply(lm[1].point()));
    assert!(back.distance(lm[1].point()) < 1e-2);
    let mut crop = Image::default();
    a.crop(image, &mut crop);
    assert_eq!((crop.width, crop.height), (256, 256));
    // The crop is the face: its centre matches the image at the mapped point.
    let c = a.to_image.apply(Point::new(128.0, 128.0));
    let (x, y) = (c.x.round() as usize, c.y.round() as usize);
    let diff: i32 = (0..3)
        .map(|k| (crop.pixel(128, 128)[k] as i32 - image.pixel(x, y)[k] as i32).abs())
        .sum();
    assert!(diff < 30, "crop centre differs from the image by {diff}");
}

#[test]
fn masks_cover_the_right_parts() {
    let image = &frames("portrait.jpg", 1)[0];
    let lm = landmarks(image);
    let bounds = (image.width, image.height);
    let id = Affine::IDENTITY;
    let skin = face_mask(&lm, Region::Skin, &id, bounds, 0.01);
    let face = face_mask(&lm, Region::Face, &id, bounds, 0.01);
    let eyes = face_mask(&lm, Region::Eyes, &id, bounds, 0.01);
    let mouth = face_mask(&lm, Region::Mouth, &id, bounds, 0.01);
    let at =
        |m: &reel_face::Mask, i: usize| m.at(lm[i].x.round() as usize, lm[i].y.round() as usize);
    // Cheeks (50, 280) and forehead (151) are skin; eyelids (159, 386), brows (105, 334), the lips'
    // edges (0, 17) and the nose's underside (2) are untouched.
    for i in [50, 280, 151] {
        assert!(at(&skin, i) > 0.9, "skin at landmark {i}: {}", at(&skin, i));
    }
    for i in [159, 145, 386, 374, 105, 334, 0, 17, 13, 2] {
        assert!(
            at(&skin, i) < 0.02,
            "not skin at landmark {i}: {}",
            at(&skin, i)
        );
    }
    let eye = reel_face::align::five_points(&lm)[0];
    assert!(eyes.at(eye.x as usize, eye.y as usize) > 0.5 && at(&eyes, 50) < 0.1);
    assert!(at(&mouth, 13) > 0.5 && at(&mouth, 151) < 0.1);
    assert!(at(&face, 1) > 0.9);
    // Far outside the face everything is zero.
    assert_eq!(face.at(5, 5), 0.0);
    let area = |m: &reel_face::Mask| m.data.iter().sum::<f32>();
    assert!(area(&skin) < area(&face) && area(&skin) > 0.6 * area(&face));
}

#[test]
fn the_person_mask_separates_the_speaker_from_the_bookshelf() {
    let image = &frames("talking_head.mp4", 1)[0];
    let mut seg = PersonSegmenter::new(1).unwrap();
    let mut mask = Vec::new();
    seg.segment(image, &mut mask).unwrap();
    assert_eq!(mask.len(), image.width * image.height);
    let at = |x: usize, y: usize| mask[y * image.width + x];
    let lm = landmarks(image);
    let nose = lm[1].point();
    assert!(
        at(nose.x as usize, nose.y as usize) > 200,
        "the face is person"
    );
    assert!(at(320, 420) > 200, "the shirt is person");
    assert!(
        at(20, 20) < 50 && at(600, 40) < 50,
        "the top corners are background"
    );
}

#[test]
fn ids_survive_an_occlusion_and_smoothing_calms_the_landmarks() {
    let mut video = frames("talking_head.mp4", 90);
    // Ten frames in the middle go black, as if something passed in front of the camera.
    for f in &mut video[40..50] {
        f.data.fill(0);
    }
    let mut raw = FaceAnalyzer::new(AnalyzerSettings::default()).unwrap();
    let mut smooth = FaceAnalyzer::new(AnalyzerSettings {
        smoothing: Some(OneEuro::default()),
        ..AnalyzerSettings::default()
    })
    .unwrap();
    let (mut raw_motion, mut smooth_motion) = (0.0f32, 0.0f32);
    let (mut prev_raw, mut prev_smooth): (Option<Vec<Landmark>>, Option<Vec<Landmark>>) =
        (None, None);
    let motion = |a: &[Landmark], b: &[Landmark]| -> f32 {
        a.iter()
            .zip(b)
            .map(|(p, q)| p.point().distance(q.point()))
            .sum::<f32>()
            / a.len() as f32
    };
    for (i, image) in video.iter().enumerate() {
        let t = i as f64 / 29.97;
        let faces = raw.analyze(image, t).unwrap().to_vec();
        let calm = smooth.analyze(image, t).unwrap().to_vec();
        if (40..50).contains(&i) {
            assert!(faces.is_empty(), "frame {i} is black");
            prev_raw = None;
            prev_smooth = None;
            continue;
        }
        assert_eq!(faces.len(), 1, "frame {i}");
        assert_eq!(faces[0].id, 1, "frame {i}: the face keeps its id");
        if let (Some(a), Some(b)) = (&prev_raw, &prev_smooth) {
            raw_motion += motion(a, &faces[0].landmarks);
            smooth_motion += motion(b, &calm[0].landmarks);
        }
        prev_raw = Some(faces[0].landmarks.clone());
        prev_smooth = Some(calm[0].landmarks.clone());
        let p = faces[0].pose;
        assert!(
            p.yaw.abs() < 25.0 && p.pitch.abs() < 25.0 && p.roll.abs() < 20.0,
            "frame {i}: {p:?}"
        );
    }
    println!(
        "mean landmark motion per frame: raw {raw_motion:.1}, smoothed {smooth_motion:.1} (sums over frames)"
    );
    assert!(
        smooth_motion < 0.8 * raw_motion,
        "smoothing reduces frame-to-frame motion"
    );
}
