//! reel's reading of dlib's face recognition network against dlib itself, and what its
//! descriptors say about the people in the samples. Needs `reel setup`.

use std::process::Command;

use reel_face::identity::{SAME_PERSON, distance};
use reel_face::{
    FaceDetector, FaceMesh, FaceRecognizer, FaceTracker, Range, Search, TrackerSettings,
};
use reel_image::Image;
use reel_video::{Decoder, Frame};
use serde_json::Value;

fn sample(name: &str) -> std::path::PathBuf {
    let p = reel_assets::samples_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `reel setup` first",
        p.display()
    );
    p
}

/// A frame cut and scaled by ffmpeg, as the reference script did.
fn ffmpeg_chip(name: &str, frame: u64, filter: &str) -> Image {
    let out = std::env::temp_dir().join(format!(
        "reel-chip-{}-{name}-{frame}.png",
        std::process::id()
    ));
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(sample(name))
        .args([
            "-vf",
            &format!("select=eq(n\\,{frame}),{filter}"),
            "-frames:v",
            "1",
        ])
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let mut d = Decoder::open(&out).unwrap();
    let mut f = Frame::default();
    assert!(d.next_frame(&mut f).unwrap());
    let _ = std::fs::remove_file(&out);
    f.image
}

#[test]
fn descriptors_match_dlib() {
    let r: Value = serde_json::from_str(include_str!("fixtures/dlib_reference.json")).unwrap();
    let mut rec = FaceRecognizer::new(1).unwrap();
    for c in r["chips"].as_array().unwrap() {
        let chip = ffmpeg_chip(
            c["sample"].as_str().unwrap(),
            c["frame"].as_u64().unwrap(),
            c["filter"].as_str().unwrap(),
        );
        let ours = rec.describe_chip(&chip).unwrap();
        let worst = c["descriptor"]
            .as_array()
            .unwrap()
            .iter()
            .zip(ours)
            .map(|(t, o)| (t.as_f64().unwrap() as f32 - o).abs())
            .fold(0.0f32, f32::max);
        println!("{}: worst difference from dlib {worst:.2e}", c["sample"]);
        assert!(worst < 1e-4, "{}: {worst}", c["sample"]);
    }
}

fn landmarks_of(name: &str, frame: u64) -> (Image, Vec<reel_face::Landmark>) {
    let settings = TrackerSettings {
        detect_every_frame: true,
        ..TrackerSettings::default()
    };
    let mut t = FaceTracker::new(
        FaceDetector::new(Search::Only(Range::Short), 1).unwrap(),
        FaceMesh::new(1).unwrap(),
        settings,
    );
    let mut d = Decoder::open_frame(&sample(name), frame).unwrap();
    let mut f = Frame::default();
    assert!(d.next_frame(&mut f).unwrap());
    let faces = t.track(&f.image).unwrap();
    assert_eq!(faces.len(), 1, "{name} frame {frame}");
    let lm = faces[0].landmarks.clone();
    (f.image, lm)
}

#[test]
fn mesh_aligned_descriptors_agree_with_dlibs_own_alignment() {
    let r: Value = serde_json::from_str(include_str!("fixtures/dlib_reference.json")).unwrap();
    let mut rec = FaceRecognizer::new(1).unwrap();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for a in r["aligned"].as_array().unwrap() {
        let (image, lm) = landmarks_of(a["sample"].as_str().unwrap(), a["frame"].as_u64().unwrap());
        let d = rec.describe(&image, &lm).unwrap();
        let mut t = [0.0f32; 128];
        for (v, x) in t.iter_mut().zip(a["descriptor"].as_array().unwrap()) {
            *v = x.as_f64().unwrap() as f32;
        }
        let gap = distance(&d, &t);
        println!(
            "{} frame {}: {gap:.3} from dlib's own descriptor",
            a["sample"], a["frame"]
        );
        assert!(gap < 0.2, "alignment differs too much from dlib's: {gap}");
        ours.push(d);
        theirs.push(t);
    }
    // Same-person decisions agree with dlib's on every pair.
    for i in 0..ours.len() {
        for j in 0..i {
            let (o, t) = (
                distance(&ours[i], &ours[j]),
                distance(&theirs[i], &theirs[j]),
            );
            assert_eq!(
                o < SAME_PERSON,
                t < SAME_PERSON,
                "pair ({i}, {j}): reel {o:.3}, dlib {t:.3}"
            );
        }
    }
    // Grace Hopper and the astronaut are nobody else in the samples.
    let n = ours.len();
    for i in 0..n - 2 {
        assert!(
            distance(&ours[i], &ours[n - 2]) > SAME_PERSON
                && distance(&ours[i], &ours[n - 1]) > SAME_PERSON
        );
    }
}
