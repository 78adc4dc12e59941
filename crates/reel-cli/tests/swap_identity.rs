//! Does a trained swap model move identity? A full training run, too long for the regular test
//! run, so it is ignored there; run it with
//!
//!     cargo test --release -p reel-cli --test swap_identity -- --ignored --nocapture
//!
//! (`REEL_EVAL_ITERATIONS`, `REEL_EVAL_RESOLUTION` and `REEL_EVAL_ARCHITECTURE` change the run).
//! Grace Hopper's portrait, moved about by ffmpeg, is person A; the talking head is B. After
//! training, the talking head is swapped with the model, and an independent model (dlib's face
//! recognition network) judges every tenth frame: is the swapped face closer to Grace Hopper
//! than the original face is? Needs `reel setup`.

mod common;
use common::*;

use reel_face::identity::distance;
use reel_face::{FaceAnalyzer, FaceRecognizer};
use reel_process::pipeline;

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[test]
#[ignore = "trains for many minutes; run by hand"]
fn a_trained_model_moves_identity_toward_the_source() {
    let dir = Scratch::new("swap-identity");
    let clip = dir.path("grace.mp4");
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        s(&sample("grace_hopper.jpg")),
        "-vf",
        "scale=1024:-2,zoompan=z='1.1+0.1*sin(on/9)':x='iw/2-(iw/zoom/2)+30*sin(on/7)':y='ih/2-(ih/zoom/2)+20*cos(on/5)':d=1:s=512x600:fps=25,rotate='0.08*sin(t*3)',eq=brightness='0.06*sin(t*2)'",
        "-frames:v",
        "120",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        s(&clip),
    ]);
    let (a, b) = (dir.path("grace"), dir.path("jon"));
    for (input, set) in [(&clip, &a), (&sample("talking_head.mp4"), &b)] {
        let r = reel(&[
            "faceset",
            "extract",
            s(input),
            "-o",
            s(set),
            "--min-change",
            "0",
            "--quiet",
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let model = dir.path("model");
    let iterations = setting("REEL_EVAL_ITERATIONS", "1500");
    let resolution = setting("REEL_EVAL_RESOLUTION", "64");
    let architecture = setting("REEL_EVAL_ARCHITECTURE", "df");
    let started = std::time::Instant::now();
    let r = reel(&[
        "train",
        "--src",
        s(&a),
        "--dst",
        s(&b),
        "-o",
        s(&model),
        "--iterations",
        &iterations,
        "--resolution",
        &resolution,
        "--architecture",
        &architecture,
        "--evaluate-every",
        "250",
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model.json")).unwrap()).unwrap();
    println!(
        "{architecture} {resolution} px, {iterations} iterations in {:.0} s; held-back masked SSIM (iteration, A, B): {}",
        started.elapsed().as_secs_f64(),
        info["history"]
    );

    let swapped = dir.path("swapped.mp4");
    let r = reel(&[
        "swap",
        s(&sample("talking_head.mp4")),
        "--model",
        s(&model),
        "-o",
        s(&swapped),
        "--quiet",
        "--no-consent-check",
        "test footage",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));

    // Grace Hopper's identity: the mean descriptor of her portrait.
    let mut recognizer = FaceRecognizer::new(2).unwrap();
    let photo = frames(&sample("grace_hopper.jpg")).remove(0);
    let mut analyzer = FaceAnalyzer::new(pipeline::editing_analysis(4, 2)).unwrap();
    let face = analyzer.analyze(&photo, 0.0).unwrap()[0].clone();
    let grace = recognizer.describe(&photo, &face.landmarks).unwrap();

    let (original, output) = (frames(&sample("talking_head.mp4")), frames(&swapped));
    assert_eq!(original.len(), output.len());
    let mut analyzer = FaceAnalyzer::new(pipeline::editing_analysis(4, 2)).unwrap();
    let (mut closer, mut judged, mut before_sum, mut after_sum) = (0, 0, 0.0f32, 0.0f32);
    for (i, (before, after)) in original.iter().zip(&output).enumerate() {
        let faces = analyzer.analyze(before, i as f64 / 29.97).unwrap().to_vec();
        if i % 10 != 0 || faces.is_empty() {
            continue;
        }
        // Both judged on the original face's landmarks: the same region of the frame.
        let landmarks = &faces[0].landmarks;
        let d0 = distance(&recognizer.describe(before, landmarks).unwrap(), &grace);
        let d1 = distance(&recognizer.describe(after, landmarks).unwrap(), &grace);
        judged += 1;
        closer += usize::from(d1 < d0);
        before_sum += d0;
        after_sum += d1;
    }
    println!(
        "trained swap: closer to Grace Hopper in {closer} of {judged} frames; mean dlib distance {:.3} -> {:.3}",
        before_sum / judged as f32,
        after_sum / judged as f32
    );
    assert!(
        closer * 2 > judged,
        "closer in only {closer} of {judged} frames"
    );
}
