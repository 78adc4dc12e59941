//! Parity with MediaPipe's own implementation (its Python package, run by
//! tools/reference/mediapipe_reference.py on the same decoded frames). Needs `reel setup`.

use std::path::PathBuf;

use reel_assets::ModelId;
use reel_face::detector::iou;
use reel_face::mesh::landmark_box;
use reel_face::{FaceDetector, FaceMesh, FaceTracker, Landmark, Range, Search, TrackerSettings};
use reel_image::Image;
use reel_runtime::Net;
use reel_video::{Decoder, Frame};
use serde_json::Value;

fn reference() -> Value {
    let text = include_str!("fixtures/mediapipe_reference.json");
    serde_json::from_str(text).unwrap()
}

fn sample(name: &str) -> PathBuf {
    let p = reel_assets::samples_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `reel setup` first",
        p.display()
    );
    p
}

fn frames(name: &str) -> Vec<Image> {
    let mut dec = Decoder::open(&sample(name)).unwrap();
    let mut out = Vec::new();
    let mut f = Frame::default();
    while dec.next_frame(&mut f).unwrap() {
        out.push(f.image.clone());
    }
    out
}

fn points(v: &Value) -> Vec<[f32; 2]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32])
        .collect()
}

/// Mean landmark distance, in pixels of the mesh model's 192 px input crop (the crop spans 1.5
/// times the face's landmark box).
fn crop_px_error(ours: &[Landmark], theirs: &[[f32; 2]]) -> f32 {
    let as_lm: Vec<Landmark> = theirs
        .iter()
        .map(|p| Landmark {
            x: p[0],
            y: p[1],
            z: 0.0,
        })
        .collect();
    let b = landmark_box(&as_lm);
    let px_per_crop_px = 1.5 * b[2].max(b[3]) / 192.0;
    let sum: f32 = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| ((a.x - b[0]).powi(2) + (a.y - b[1]).powi(2)).sqrt())
        .sum();
    sum / ours.len() as f32 / px_per_crop_px
}

fn centroid(p: &[[f32; 2]]) -> (f32, f32) {
    let n = p.len() as f32;
    (
        p.iter().map(|q| q[0]).sum::<f32>() / n,
        p.iter().map(|q| q[1]).sum::<f32>() / n,
    )
}

/// Pairs each reference face with our nearest face, by landmark centroid.
fn match_faces<'a>(
    ours: &'a [Vec<Landmark>],
    theirs: &Value,
) -> Vec<(&'a Vec<Landmark>, Vec<[f32; 2]>)> {
    theirs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let t = points(t);
            let (tx, ty) = centroid(&t);
            let best = ours
                .iter()
                .min_by(|a, b| {
                    let d = |l: &Vec<Landmark>| {
                        let p: Vec<[f32; 2]> = l.iter().map(|q| [q.x, q.y]).collect();
                        let (x, y) = centroid(&p);
                        (x - tx).powi(2) + (y - ty).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .expect("we found a face where MediaPipe did");
            (best, t)
        })
        .collect()
}

#[test]
fn converted_models_reproduce_tflite_outputs() {
    let r = reference();
    for (id, name) in [
        (ModelId::FaceDetectorShort, "face_detection_short_range"),
        (
            ModelId::FaceDetectorFull,
            "face_detection_full_range_sparse",
        ),
        (ModelId::FaceMesh, "face_landmark"),
        (ModelId::SelfieSegmentation, "selfie_segmentation"),
        (ModelId::PalmDetector, "palm_detection_full"),
        (ModelId::HandLandmarks, "hand_landmark_full"),
    ] {
        let mut net = Net::load(id, 1).unwrap();
        let n: usize = net.input_shape().iter().product();
        let input: Vec<f32> = (0..n as i64)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let mut outputs = Vec::new();
        net.run(&input, &mut outputs).unwrap();
        let expected = r["models"][name].as_object().unwrap();
        assert_eq!(outputs.len(), expected.len(), "{name}: output count");
        // Outputs of one size are matched in the model's order (the hand model has two of 63).
        let mut used = vec![false; outputs.len()];
        for want in expected.values() {
            let len = want["len"].as_u64().unwrap() as usize;
            let at = (0..outputs.len())
                .find(|&i| !used[i] && outputs[i].values.len() == len)
                .expect("an output of the same size");
            used[at] = true;
            let got = &outputs[at];
            let mut worst = 0.0f32;
            for (k, v) in want["every_13th"].as_array().unwrap().iter().enumerate() {
                let v = v.as_f64().unwrap() as f32;
                worst = worst.max((got.values[k * 13] - v).abs() / v.abs().max(1.0));
            }
            println!("{name}: {len} values, worst relative error {worst:.2e}");
            assert!(worst < 2e-3, "{name}: error {worst}");
        }
    }
}

#[test]
fn detections_and_landmarks_match_mediapipe_frame_by_frame() {
    let r = reference();
    let mut detector = FaceDetector::new(Search::Only(Range::Short), 1).unwrap();
    let settings = TrackerSettings {
        max_faces: 4,
        detect_every_frame: true,
        ..TrackerSettings::default()
    };
    let mut tracker = FaceTracker::new(
        FaceDetector::new(Search::Only(Range::Short), 1).unwrap(),
        FaceMesh::new(1).unwrap(),
        settings,
    );
    let mut errors = Vec::new();
    let mut ious = Vec::new();
    for (name, entries) in r["static"].as_object().unwrap() {
        let video = frames(name);
        for e in entries.as_array().unwrap() {
            let image = &video[e["frame"].as_u64().unwrap() as usize];
            let ours = detector.detect(image).unwrap();
            let theirs = e["detections"].as_array().unwrap();
            assert_eq!(
                ours.len(),
                theirs.len(),
                "{name} frame {}: face count",
                e["frame"]
            );
            for t in theirs {
                let tb: Vec<f32> = t["bbox"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                let best = ours
                    .iter()
                    .map(|d| iou(d.bbox, [tb[0], tb[1], tb[2], tb[3]]))
                    .fold(0.0, f32::max);
                ious.push(best);
            }
            let faces: Vec<Vec<Landmark>> = tracker
                .track(image)
                .unwrap()
                .iter()
                .map(|f| f.landmarks.clone())
                .collect();
            assert_eq!(
                faces.len(),
                e["landmarks"].as_array().unwrap().len(),
                "{name} frame {}: mesh count",
                e["frame"]
            );
            for (ours, theirs) in match_faces(&faces, &e["landmarks"]) {
                errors.push(crop_px_error(ours, &theirs));
            }
        }
    }
    let min_iou = ious.iter().cloned().fold(1.0, f32::min);
    let mean_err = errors.iter().sum::<f32>() / errors.len() as f32;
    let max_err = errors.iter().cloned().fold(0.0, f32::max);
    println!(
        "{} boxes: min IoU {min_iou:.4}; {} meshes: landmark error in 192-px crop pixels mean {mean_err:.4}, worst face {max_err:.4}",
        ious.len(),
        errors.len()
    );
    assert!(!ious.is_empty() && !errors.is_empty());
    assert!(min_iou >= 0.9, "box IoU {min_iou}");
    assert!(max_err <= 1.0, "landmark error {max_err} px");
}

#[test]
fn tracking_matches_mediapipe_over_whole_clips() {
    let r = reference();
    for (name, entries) in r["tracking"].as_object().unwrap() {
        // MediaPipe's tracker with max_num_faces=1: detect only while no face is followed.
        let settings = TrackerSettings {
            max_faces: 1,
            ..TrackerSettings::default()
        };
        let mut tracker = FaceTracker::new(
            FaceDetector::new(Search::Only(Range::Short), 1).unwrap(),
            FaceMesh::new(1).unwrap(),
            settings,
        );
        let video = frames(name);
        let mut errors = Vec::new();
        let mut wanted = entries.as_array().unwrap().iter().peekable();
        for (i, image) in video.iter().enumerate() {
            let faces: Vec<Vec<Landmark>> = tracker
                .track(image)
                .unwrap()
                .iter()
                .map(|f| f.landmarks.clone())
                .collect();
            if let Some(e) = wanted.peek()
                && e["frame"].as_u64() == Some(i as u64)
            {
                assert_eq!(
                    faces.len(),
                    e["landmarks"].as_array().unwrap().len(),
                    "{name} frame {i}"
                );
                for (ours, theirs) in match_faces(&faces, &e["landmarks"]) {
                    errors.push(crop_px_error(ours, &theirs));
                }
                wanted.next();
            }
        }
        let mean = errors.iter().sum::<f32>() / errors.len() as f32;
        let worst = errors.iter().cloned().fold(0.0, f32::max);
        println!(
            "{name}: tracked {} frames, {} compared, detector ran {} times; error in crop px mean {mean:.4}, worst {worst:.4}",
            video.len(),
            errors.len(),
            tracker.detector_runs
        );
        assert!(worst <= 1.0, "{name}: tracking error {worst}");
    }
}
