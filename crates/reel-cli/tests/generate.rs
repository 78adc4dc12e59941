//! `reel gen` end to end on the small random Wan folder that the diffusion crate's parity
//! tests use (a complete diffusers layout): exact frame counts and rate, credentials that say
//! the video was generated and with what, repeatable seeds, diffusers' own run reproduced from
//! its noise, and clear refusals that leave nothing behind.

mod common;
use common::*;

use std::path::PathBuf;

use serde_json::Value;

fn model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reel-diffusion/tests/fixtures/wan-t2v")
}

/// The frames of a PNG sequence folder, in order.
fn sequence(folder: &std::path::Path) -> Vec<reel_image::Image> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().flat_map(|f| frames(f)).collect()
}

fn generate(extra: &[&str], output: &std::path::Path) -> std::process::Output {
    let model = model();
    let mut args = vec![
        "gen",
        "a red fox runs through the snow",
        "--model",
        s(&model),
        "-o",
        s(output),
    ];
    if !extra.contains(&"--size") {
        args.extend(["--size", "48x32"]);
    }
    args.extend_from_slice(extra);
    reel(&args)
}

#[test]
fn a_generated_video_has_its_frames_its_rate_and_its_credentials() {
    let dir = Scratch::new("gen-video");
    let out = dir.path("fox.mp4");
    let r = generate(
        &[
            "--frames", "9", "--steps", "3", "--seed", "11", "--fps", "12",
        ],
        &out,
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(count(&out, "v:0"), "9");
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=avg_frame_rate",
            "-of",
            "csv=p=0",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "12/1");

    let r = reel(&["verify", s(&out), "--json"]);
    assert!(r.status.success());
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    let c2pa = &v["c2pa"];
    assert_eq!(c2pa["state"], "valid", "{v}");
    assert_eq!(c2pa["digital_source_type"], "trainedAlgorithmicMedia");
    assert_eq!(c2pa["actions"][0]["action"], "c2pa.created");
    let parameters = &c2pa["actions"][0]["parameters"];
    assert_eq!(parameters["prompt"], "a red fox runs through the snow");
    assert_eq!(parameters["seed"], 11);
    assert_eq!(parameters["steps"], 3);
    assert_eq!(parameters["frames"], 9);
}

#[test]
fn a_seed_repeats_and_a_still_is_one_frame() {
    let dir = Scratch::new("gen-seed");
    let (a, b, c) = (dir.path("a"), dir.path("b"), dir.path("c"));
    for (out, seed) in [(&a, "5"), (&b, "5"), (&c, "6")] {
        let r = generate(
            &[
                "--frames",
                "5",
                "--steps",
                "2",
                "--seed",
                seed,
                "--watermark-id",
                "00000000000000aa",
            ],
            out,
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let (fa, fb, fc) = (sequence(&a), sequence(&b), sequence(&c));
    assert_eq!(fa.len(), 5);
    assert!(
        fa.iter().zip(&fb).all(|(x, y)| x.data == y.data),
        "the same seed gave other frames"
    );
    assert!(
        fa.iter().zip(&fc).any(|(x, y)| x.data != y.data),
        "another seed gave the same frames"
    );

    let still = dir.path("still.png");
    let r = generate(&["--frames", "1", "--steps", "2"], &still);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let image = frames(&still);
    assert_eq!((image.len(), image[0].width, image[0].height), (1, 48, 32));
}

#[test]
fn diffusers_run_is_reproduced_from_its_noise() {
    // The fixture holds diffusers' frames for this prompt from these latents (UniPC, 6 steps).
    let dir = Scratch::new("gen-noise");
    let noise = model().join("pipeline_io.safetensors");
    let out = dir.path("frames");
    let r = generate(
        &[
            "--negative",
            "blurry, dark",
            "--frames",
            "9",
            "--steps",
            "6",
            "--guidance",
            "5",
            "--shift",
            "3",
            "--scheduler",
            "unipc",
            "--noise",
            s(&noise),
        ],
        &out,
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let ours = sequence(&out);
    let reference = candle_core::safetensors::load(&noise, &candle_core::Device::Cpu).unwrap();
    let reference: Vec<f32> = reference["unipc.frames"]
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(ours.len(), 9);
    assert_frames_match(&ours, &reference, 48, 32);
}

/// Every 8-bit frame of `ours` (w×h) within PSNR 35 dB of diffusers' (frames, height, width, 3)
/// in [0, 1].
fn assert_frames_match(ours: &[reel_image::Image], reference: &[f32], w: usize, h: usize) {
    let per_frame = h * w * 3;
    for (f, frame) in ours.iter().enumerate() {
        let mse = frame
            .data
            .iter()
            .zip(&reference[f * per_frame..(f + 1) * per_frame])
            .map(|(&a, &b)| (a as f64 / 255.0 - b as f64).powi(2))
            .sum::<f64>()
            / per_frame as f64;
        let psnr = 10.0 * (1.0 / mse).log10();
        assert!(psnr >= 35.0, "frame {f}: {psnr:.1} dB against diffusers");
    }
}

#[test]
fn bad_requests_get_a_clear_error_and_leave_nothing() {
    let dir = Scratch::new("gen-bad");
    let out = dir.path("x.mp4");
    let cases: [(&[&str], i32, &str); 3] = [
        (&["--size", "50x32"], 2, "multiples of 16"),
        (
            &["--noise", "/nonexistent/latents.safetensors"],
            2,
            "latents",
        ),
        (&["--frames", "0"], 2, "at least 1"),
    ];
    for (extra, code, says) in cases {
        let mut args = extra.to_vec();
        args.extend(["--steps", "1"]);
        let r = generate(&args, &out);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(code), "{extra:?}: {stderr}");
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} left an output");
    }
    let r = reel(&[
        "gen",
        "  ",
        "--model",
        s(&model()),
        "--size",
        "48x32",
        "-o",
        s(&out),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("prompt is empty"));
    let r = reel(&["gen", "a fox", "--model", s(&dir.0), "-o", s(&out)]);
    assert_eq!(r.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&r.stderr).contains("model_index.json"));
    // Frames not 4k+1 are rounded, and it says so.
    let r = generate(&["--frames", "7", "--steps", "1"], &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("7 rounded to 5"));
    assert_eq!(count(&out, "v:0"), "5");
}

#[test]
fn image_to_video_reproduces_diffusers_from_the_still_and_its_noise() {
    // The I2V fixture: diffusers' frames from this still and these latents (UniPC, 4 steps).
    let dir = Scratch::new("gen-image");
    let folder = model().with_file_name("wan-i2v");
    let record = folder.join("pipeline_io.safetensors");
    let tensors = candle_core::safetensors::load(&record, &candle_core::Device::Cpu).unwrap();
    let still = &tensors["still"];
    let (h, w, _) = still.dims3().unwrap();
    let png = reel_image::png::encode(
        w,
        h,
        3,
        &still.flatten_all().unwrap().to_vec1::<u8>().unwrap(),
    );
    let image = dir.path("still.png");
    std::fs::write(&image, png).unwrap();
    let out = dir.path("frames");
    let r = reel(&[
        "gen",
        "a red fox runs through the snow",
        "--model",
        s(&folder),
        "--image",
        s(&image),
        "--size",
        &format!("{w}x{h}"),
        "--negative",
        "blurry, dark",
        "--frames",
        "5",
        "--steps",
        "4",
        "--scheduler",
        "unipc",
        "--noise",
        s(&record),
        "-o",
        s(&out),
    ]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    let ours = sequence(&out);
    let reference: Vec<f32> = tensors["frames"].flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(ours.len(), 5);
    for frame in &ours {
        assert_eq!((frame.width, frame.height), (w, h));
    }
    assert_frames_match(&ours, &reference, w, h);
    let r = reel(&["verify", s(&out.join("frame_000001.png")), "--json"]);
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    let parameters = &v["c2pa"]["actions"][0]["parameters"];
    assert_eq!(parameters["task"], "image to video", "{v}");
    assert_eq!(parameters["image"], "still.png");

    // A still for a text-to-video model, or none for an image-to-video one: refused, nothing
    // written.
    let bad = dir.path("bad.mp4");
    let r = generate(&["--image", s(&image), "--steps", "1"], &bad);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("text-to-video model"));
    let r = reel(&[
        "gen",
        "a fox",
        "--model",
        s(&folder),
        "--size",
        "64x64",
        "--frames",
        "5",
        "-o",
        s(&bad),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--image"));
    assert!(!bad.exists());
}
