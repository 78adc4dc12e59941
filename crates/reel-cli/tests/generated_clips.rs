//! `reel restyle`, `reel extend`, `reel bridge` and `reel gen --loop` end to end on the small
//! random Wan folders of the diffusion crate's parity tests: exact frame counts, the clip's own
//! frames and sound kept where they are kept, credentials that say frames were generated, and
//! clear refusals that leave nothing behind.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../reel-diffusion/tests/fixtures")
        .join(name)
}

/// A clip of `frames` frames at 25 fps, `size` WxH, with a 440 Hz tone under it.
fn clip(path: &Path, size: &str, frames: usize, pattern: &str) {
    let seconds = format!("{}", frames as f64 / 25.0);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("{pattern}=size={size}:rate=25:duration={seconds}"),
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=440:sample_rate=48000:duration={seconds}"),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        s(path),
    ]);
}

fn psnr(a: &reel_image::Image, b: &reel_image::Image) -> f64 {
    let mse = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.data.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

/// The loudness (RMS) of the sound in each tenth of a second, mixed to mono.
fn loudness(path: &Path) -> Vec<f64> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-ac", "1", "-ar", "8000", "-f", "f32le", "pipe:1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let samples: Vec<f32> = out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    samples
        .chunks(800)
        .map(|c| (c.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
        .collect()
}

fn parameters(path: &Path) -> Value {
    let r = reel(&["verify", s(path), "--json"]);
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    assert_eq!(
        v["c2pa"]["digital_source_type"],
        "compositeWithTrainedAlgorithmicMedia"
    );
    let actions = v["c2pa"]["actions"].as_array().unwrap();
    let edited = actions.iter().find(|a| a["action"] == "c2pa.edited");
    edited.expect("an edit action")["parameters"].clone()
}

fn ok(r: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&r.stderr).to_string();
    assert!(r.status.success(), "{stderr}");
    stderr
}

#[test]
fn restyle_keeps_every_frame_and_the_sound_in_overlapping_windows() {
    let dir = Scratch::new("restyle");
    let input = dir.path("clip.mp4");
    clip(&input, "48x32", 14, "testsrc");
    let out = dir.path("styled.mp4");
    let stderr = ok(&reel(&[
        "restyle",
        s(&input),
        "--prompt",
        "a watercolour painting",
        "--model",
        s(&model("wan-t2v")),
        "--size",
        "48x32",
        "--window",
        "9",
        "--overlap",
        "4",
        "--steps",
        "4",
        "--strength",
        "0.5",
        "--seed",
        "3",
        "-o",
        s(&out),
    ]));
    // 14 frames in windows of 9 sharing at least 4: 0..9 and 5..14.
    assert!(
        stderr.contains("14 frames at 48x32 restyled in 2 windows"),
        "{stderr}"
    );
    assert_eq!(count(&out, "v:0"), "14");
    assert_eq!(count(&out, "a:0"), count(&input, "a:0"));
    let made = frames(&out);
    let source = frames(&input);
    assert!(
        made.iter().zip(&source).all(|(m, c)| psnr(m, c) < 25.0),
        "a frame came through unchanged"
    );
    let p = parameters(&out);
    assert_eq!(p["strength"], 0.5);
    assert_eq!(p["prompt"], "a watercolour painting");
    assert_eq!(p["window"], 9);

    // An image-to-video folder, a still, a strength that runs no step: refused, nothing made.
    let bad = dir.path("bad.mp4");
    let still = dir.path("still.png");
    ffmpeg(&["-i", s(&input), "-frames:v", "1", s(&still)]);
    for (input, folder, extra, says) in [
        (&input, "wan-i2v", vec![], "text-to-video folder"),
        (&still, "wan-t2v", vec![], "still image"),
        (&input, "wan-t2v", vec!["--strength", "0"], "strength"),
        (&input, "wan-t2v", vec!["--window", "8"], "4k+1"),
    ] {
        let mut args = vec![
            "restyle",
            s(input),
            "--prompt",
            "claymation",
            "--model",
            s(&model(folder)).to_string().leak(),
            "--size",
            "48x32",
            "--steps",
            "2",
            "-o",
            s(&bad),
        ];
        args.extend(extra);
        let r = reel(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!bad.exists());
    }
}

#[test]
fn extend_adds_exact_frames_after_or_before_and_keeps_the_clip_and_its_sound() {
    let dir = Scratch::new("extend");
    let input = dir.path("clip.mp4");
    clip(&input, "48x32", 10, "testsrc");
    let source = frames(&input);
    for backward in [false, true] {
        let out = dir.path(if backward { "before.mp4" } else { "after.mp4" });
        let mut args = vec![
            "extend",
            s(&input),
            "--seconds",
            "0.4",
            "--model",
            s(&model("wan-i2v")).to_string().leak(),
            "--size",
            "48x32",
            "--steps",
            "2",
            "--seed",
            "5",
            // Ten new frames in generations of at most 9: two passes, the second from the
            // first's last frame.
            "--pass-frames",
            "9",
            "-o",
            s(&out),
        ];
        if backward {
            args.push("--backward");
        }
        let stderr = ok(&reel(&args));
        assert!(stderr.contains("10 of them generated"), "{stderr}");
        assert!(stderr.contains("in 2 passes"), "{stderr}");
        assert_eq!(count(&out, "v:0"), "20");
        let made = frames(&out);
        let (kept, new) = if backward {
            (&made[10..], &made[..10])
        } else {
            (&made[..10], &made[10..])
        };
        for (k, c) in kept.iter().zip(&source) {
            assert!(
                psnr(k, c) > 28.0,
                "the clip's frame changed: {:.1} dB",
                psnr(k, c)
            );
        }
        let edge = if backward { &source[0] } else { &source[9] };
        assert!(
            new.iter().all(|n| psnr(n, edge) < 25.0),
            "a new frame is a copy"
        );
        // The tone under the clip's own frames, silence under the new ones.
        let sound = loudness(&out);
        let (loud, quiet) = if backward {
            (sound[5], sound[2])
        } else {
            (sound[2], sound[6])
        };
        assert!(loud > 0.05 && quiet < 0.01, "{sound:?}");
        let p = parameters(&out);
        assert_eq!(p["seconds"], 0.4);
        assert_eq!(p["operation"], "extend");
    }

    // No length, a text-to-video folder, Wan2.2 TI2V backward (it conditions on a first frame
    // only): refused, nothing made.
    let bad = dir.path("bad.mp4");
    for (folder, extra, says) in [
        ("wan-i2v", vec!["--seconds", "0"], "above 0"),
        ("wan-t2v", vec!["--seconds", "1"], "text-to-video model"),
        (
            "wan-ti2v",
            vec!["--seconds", "1", "--backward"],
            "last frame",
        ),
    ] {
        let mut args = vec![
            "extend",
            s(&input),
            "--model",
            s(&model(folder)).to_string().leak(),
            "--size",
            "64x64",
            "--steps",
            "2",
            "-o",
            s(&bad),
        ];
        args.extend(extra);
        let r = reel(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!bad.exists());
    }
}

#[test]
fn bridge_generates_a_passage_between_two_clips_and_conforms_the_second() {
    let dir = Scratch::new("bridge");
    let (a, b) = (dir.path("a.mp4"), dir.path("b.mp4"));
    clip(&a, "48x32", 10, "testsrc");
    clip(&b, "64x32", 8, "smptebars");
    let out = dir.path("bridged.mp4");
    let stderr = ok(&reel(&[
        "bridge",
        s(&a),
        s(&b),
        "--seconds",
        "0.2",
        "--model",
        s(&model("wan-flf2v")),
        "--size",
        "48x32",
        "--steps",
        "2",
        "--seed",
        "9",
        "-o",
        s(&out),
    ]));
    assert!(stderr.contains("another shape"), "{stderr}");
    assert!(stderr.contains("5 of them a generated passage"), "{stderr}");
    assert_eq!(count(&out, "v:0"), "23");
    let made = frames(&out);
    for (k, c) in made[..10].iter().zip(&frames(&a)) {
        assert!(psnr(k, c) > 28.0);
    }
    assert_eq!((made[22].width, made[22].height), (48, 32));
    let p = parameters(&out);
    assert_eq!(p["operation"], "bridge");

    // A model that cannot end on a frame, and a passage longer than one generation: refused.
    let bad = dir.path("bad.mp4");
    for (folder, extra, says) in [
        ("wan-ti2v", vec![], "last frame"),
        ("wan-flf2v", vec!["--seconds", "10"], "shorten --seconds"),
    ] {
        let mut args = vec![
            "bridge",
            s(&a),
            s(&b),
            "--model",
            s(&model(folder)).to_string().leak(),
            "--size",
            "64x64",
            "--steps",
            "2",
            "-o",
            s(&bad),
        ];
        args.extend(extra);
        let r = reel(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!bad.exists());
    }
}

#[test]
fn a_loop_leaves_out_its_closing_frame_and_needs_a_model_that_ends_on_one() {
    let dir = Scratch::new("loop");
    let still = dir.path("still.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64",
        "-frames:v",
        "1",
        s(&still),
    ]);
    let out = dir.path("loop");
    let args = |folder: &str, out: &Path| {
        reel(&[
            "gen",
            "waves roll in",
            "--model",
            s(&model(folder)).to_string().leak(),
            "--image",
            s(&still),
            "--loop",
            "--size",
            "64x64",
            "--frames",
            "9",
            "--steps",
            "2",
            "-o",
            s(out).to_string().leak(),
        ])
    };
    ok(&args("wan-flf2v", &out));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 8);
    let bad = dir.path("bad.mp4");
    let r = args("wan-ti2v", &bad);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("last frame"));
    assert!(!bad.exists());
}

#[test]
fn animate_moves_only_the_clicked_region_and_previews_it() {
    let dir = Scratch::new("animate");
    // A 100x60 still: a textured grey with a red disc at its centre.
    let (w, h) = (100usize, 60usize);
    let mut data = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 - 50.0).powi(2) + (y as f32 - 30.0).powi(2)).sqrt();
            let t = ((x * 7 + y * 13) % 23) as u8;
            let p = if d <= 18.0 {
                [210, 40, 30]
            } else {
                [100 + t, 110 + t, 120 + t]
            };
            data[(y * w + x) * 3..][..3].copy_from_slice(&p);
        }
    }
    let still = dir.path("still.png");
    std::fs::write(&still, reel_image::png::encode(w, h, 3, &data)).unwrap();
    let t2v = model("wan-t2v");
    let args = |extra: &[&str]| {
        let mut args = vec![
            "animate",
            s(&still),
            "--prompt",
            "the ball glows",
            "--model",
            s(&t2v),
            "--size",
            "48x32",
            "--frames",
            "5",
            "--steps",
            "2",
        ];
        args.extend_from_slice(extra);
        reel(&args)
    };
    // The preview alone: the still with the region drawn, nothing generated.
    let preview = dir.path("region.png");
    let stderr = ok(&args(&["--click", "50,30", "--preview-mask", s(&preview)]));
    assert!(stderr.contains("of the picture"), "{stderr}");
    let drawn = &frames(&preview)[0];
    assert_eq!((drawn.width, drawn.height), (w, h));
    // Outside the disc dimmed, inside as it was.
    assert!(drawn.data[(30 * w + 50) * 3] == 210 && drawn.data[0] < data[0]);

    let out = dir.path("moving");
    ok(&args(&["--click", "50,30", "--seed", "2", "-o", s(&out)]));
    let made = frames(&out.join("frame_%06d.png"));
    assert_eq!(made.len(), 5);
    let outside =
        |x: usize, y: usize| ((x as f32 - 50.0).powi(2) + (y as f32 - 30.0).powi(2)).sqrt() > 21.0;
    for frame in &made {
        assert_eq!((frame.width, frame.height), (w, h));
        // Outside the disc only the watermark's faint pattern differs from the still.
        let (mut err, mut n) = (0.0f64, 0.0f64);
        for y in 0..h {
            for x in (0..w).filter(|&x| outside(x, y)) {
                for c in 0..3 {
                    let i = (y * w + x) * 3 + c;
                    err += (frame.data[i] as f64 - data[i] as f64).powi(2);
                    n += 1.0;
                }
            }
        }
        let psnr = 10.0 * (255.0f64.powi(2) / (err / n).max(1e-9)).log10();
        assert!(psnr > 38.0, "outside the region: {psnr:.1} dB");
    }
    let p = parameters(&out.join("frame_000000.png"));
    assert_eq!(p["operation"], "animate");
    assert_eq!(p["clicks"][0], "50,30");

    // A click outside the picture, a mask of another size: refused, nothing made.
    let small = dir.path("small.png");
    std::fs::write(&small, reel_image::png::encode(10, 10, 3, &[255; 300])).unwrap();
    let bad = dir.path("bad.mp4");
    for (extra, says) in [
        (vec!["--click", "100,10"], "outside"),
        (vec!["--mask", s(&small)], "mask is 10x10"),
    ] {
        let mut extra = extra;
        extra.extend(["-o", s(&bad)]);
        let r = args(&extra);
        assert_eq!(r.status.code(), Some(2), "{extra:?}");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
        assert!(!bad.exists());
    }
}
