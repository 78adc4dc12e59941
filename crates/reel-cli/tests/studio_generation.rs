//! reel studio's generating jobs end to end, on the small random Wan folders of the diffusion
//! crate's parity tests: offered only with `--model`, refused with clear messages, run through
//! the same library calls as `reel gen` and `reel restyle` (the same frames from the same seed),
//! with exact frame counts, the clip's sound kept, and credentials that say what was generated.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::studio::Studio;
use common::{Scratch, count, ffmpeg, frames, reel_with_data, s};
use serde_json::{Value, json};

fn model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../reel-diffusion/tests/fixtures")
        .join(name)
}

/// A result of the studio, downloaded to `path`.
fn download(studio: &Studio, id: u64, path: &Path) {
    let reply = studio.call("GET", &format!("/api/media/{id}/download"), None);
    assert_eq!(reply.status, 200);
    std::fs::write(path, &reply.body).unwrap();
}

fn psnr(a: &reel_image::Image, b: &reel_image::Image) -> f64 {
    let mse = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.data.len() as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10()
}

/// The job's output after it ran to the end (asserting it did).
fn done(studio: &Studio, job: &Value) -> Value {
    let id = job["id"].as_u64().unwrap_or_else(|| panic!("{job}"));
    let ended = studio.wait(id, Duration::from_secs(240));
    assert_eq!(ended["state"], "done", "{ended}");
    assert_eq!(ended["progress"].as_f64(), Some(1.0), "{ended}");
    let output = ended["output"].as_u64().unwrap();
    studio.get_json(&format!("/api/media/{output}"))
}

#[test]
fn generating_jobs_need_a_model_and_run_as_the_command_line_runs_them() {
    let dir = Scratch::new("studio-generation");
    let data = dir.path("data");

    // Without a model folder: not offered, and refused with what to do.
    let plain = Studio::start(&dir.path("plain"), &data, &[]);
    let names: Vec<Value> = plain
        .get_json("/api/commands")
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert!(!names.contains(&json!("generate")), "{names:?}");
    let refused = plain.post_json(
        "/api/jobs",
        &json!({"command": "generate", "options": {"prompt": "a red ball"}}),
    );
    assert_eq!(refused.status, 400);
    assert!(refused.error().contains("--model"), "{}", refused.error());
    drop(plain);
    // A folder that is not a model: the studio does not start.
    let r = reel_with_data(
        &["studio", "--port", "0", "--model", s(&dir.path("plain"))],
        &data,
    );
    assert_eq!(r.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&r.stderr).contains("model_index.json"));

    let t2v = model("wan-t2v");
    let studio = Studio::start(&dir.path("store"), &data, &["--model", s(&t2v)]);
    let commands = studio.get_json("/api/commands");
    for name in ["generate", "restyle", "extend", "bridge", "animate"] {
        let c = commands
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} not offered: {commands}"));
        assert_eq!(c["model"], "wan-t2v");
        assert!(
            c["settings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == "prompt")
        );
    }

    // Text to video with no input, and the same from `reel gen` with the same seed.
    let options = json!({"prompt": "a red ball", "frames": 5, "fps": 8, "size": "48x32", "steps": 2, "seed": 3});
    let made = done(
        &studio,
        &studio
            .post_json(
                "/api/jobs",
                &json!({"command": "generate", "options": options}),
            )
            .json(),
    );
    assert_eq!(
        (
            made["frames"].as_u64(),
            made["width"].as_u64(),
            made["height"].as_u64()
        ),
        (Some(5), Some(48), Some(32)),
        "{made}"
    );
    let from_studio = dir.path("studio.mp4");
    download(&studio, made["id"].as_u64().unwrap(), &from_studio);
    assert_eq!(count(&from_studio, "v:0"), "5");
    let from_cli = dir.path("cli.mp4");
    let cli = reel_with_data(
        &[
            "gen",
            "a red ball",
            "--model",
            s(&t2v),
            "--frames",
            "5",
            "--fps",
            "8",
            "--size",
            "48x32",
            "--steps",
            "2",
            "--seed",
            "3",
            "-o",
            s(&from_cli),
        ],
        &data,
    );
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let other_seed = done(
        &studio,
        &studio
            .post_json(
                "/api/jobs",
                &json!({"command": "generate", "options": {"prompt": "a red ball", "frames": 5, "fps": 8, "size": "48x32", "steps": 2, "seed": 4}}),
            )
            .json(),
    );
    let from_seed_4 = dir.path("seed4.mp4");
    download(&studio, other_seed["id"].as_u64().unwrap(), &from_seed_4);
    let (a, b, c) = (
        frames(&from_studio),
        frames(&from_cli),
        frames(&from_seed_4),
    );
    assert_eq!((a.len(), b.len(), c.len()), (5, 5, 5));
    for i in 0..5 {
        // The same generation, each marked with its own payload and encoded once.
        let same = psnr(&a[i], &b[i]);
        let apart = psnr(&a[i], &c[i]);
        assert!(
            same > 30.0 && same > apart + 15.0,
            "frame {i}: {same:.1} dB against the command line's, {apart:.1} dB against another seed"
        );
    }
    let p = studio.get_json(&format!("/api/media/{}/provenance", made["id"]));
    assert_eq!(p["c2pa"]["state"], "valid", "{p}");
    assert_eq!(
        p["c2pa"]["digital_source_type"], "trainedAlgorithmicMedia",
        "{p}"
    );
    let recorded = &p["c2pa"]["actions"][0]["parameters"];
    assert_eq!(
        (&recorded["seed"], &recorded["prompt"], &recorded["task"]),
        (&json!(3), &json!("a red ball"), &json!("text to video")),
        "{p}"
    );

    // Restyle an uploaded clip with sound, in two windows: every frame, the sound kept.
    let clip = dir.path("clip.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=48x32:rate=25:duration=0.56",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=0.56",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        s(&clip),
    ]);
    let up = studio.upload("clip.mp4", &std::fs::read(&clip).unwrap());
    assert_eq!(up.status, 201, "{}", up.text());
    let clip_id = up.json()["id"].as_u64().unwrap();
    let restyled = done(
        &studio,
        &studio
            .post_json(
                "/api/jobs",
                &json!({"command": "restyle", "input": clip_id, "options": {"prompt": "a watercolour painting", "strength": 0.5, "window": 9, "overlap": 4, "steps": 4, "seed": 3, "size": "48x32"}}),
            )
            .json(),
    );
    assert_eq!(restyled["frames"].as_u64(), Some(14), "{restyled}");
    let out = dir.path("restyled.mp4");
    download(&studio, restyled["id"].as_u64().unwrap(), &out);
    assert_eq!(count(&out, "a:0"), count(&clip, "a:0"));
    let p = studio.get_json(&format!("/api/media/{}/provenance", restyled["id"]));
    assert_eq!(p["c2pa"]["state"], "valid", "{p}");
    assert_eq!(
        p["c2pa"]["digital_source_type"], "compositeWithTrainedAlgorithmicMedia",
        "{p}"
    );
    assert_eq!(p["c2pa"]["ingredients"], json!(["clip.mp4"]), "{p}");

    let source = frames(&clip);
    assert!(
        frames(&out)
            .iter()
            .zip(&source)
            .all(|(m, c)| psnr(m, c) < 25.0),
        "a frame came through unrestyled"
    );

    // Animate a still's red disc, clicked: only the disc moves.
    let (w, h) = (64usize, 48usize);
    let inside = |x: usize, y: usize| (x as f32 - 32.0).hypot(y as f32 - 24.0) <= 12.0;
    let mut pixels = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let t = ((x * 7 + y * 13) % 23) as u8;
            let p = if inside(x, y) {
                [210, 40, 30]
            } else {
                [100 + t, 110 + t, 120 + t]
            };
            pixels[(y * w + x) * 3..][..3].copy_from_slice(&p);
        }
    }
    let disc = studio.upload("disc.png", &reel_image::png::encode(w, h, 3, &pixels));
    assert_eq!(disc.status, 201, "{}", disc.text());
    let animated = done(
        &studio,
        &studio
            .post_json(
                "/api/jobs",
                &json!({"command": "animate", "input": disc.json()["id"], "options": {"prompt": "the ball glows", "click": "32,24", "by_colour": true, "frames": 5, "steps": 2, "size": "48x32", "seed": 2}}),
            )
            .json(),
    );
    assert_eq!(
        (
            animated["frames"].as_u64(),
            animated["width"].as_u64(),
            animated["height"].as_u64()
        ),
        (Some(5), Some(64), Some(48)),
        "{animated}"
    );
    let moving = dir.path("animated.mp4");
    download(&studio, animated["id"].as_u64().unwrap(), &moving);
    for frame in frames(&moving) {
        // Outside the disc (and its feather) only the watermark and the encoding touch it.
        let (mut err, mut n) = (0.0f64, 0.0f64);
        for y in 0..h {
            for x in (0..w).filter(|&x| (x as f32 - 32.0).hypot(y as f32 - 24.0) > 16.0) {
                for c in 0..3 {
                    let i = (y * w + x) * 3 + c;
                    err += (frame.data[i] as f64 - pixels[i] as f64).powi(2);
                    n += 1.0;
                }
            }
        }
        let outside = 10.0 * (255.0f64.powi(2) / (err / n).max(1e-9)).log10();
        assert!(outside > 30.0, "outside the disc: {outside:.1} dB");
    }

    // Bad asks: refused before anything is queued, with what is wrong.
    let still = studio.upload(
        "still.png",
        &reel_image::png::encode(48, 32, 3, &[90u8; 48 * 32 * 3]),
    );
    let still_id = still.json()["id"].as_u64().unwrap();
    let before = studio.get_json("/api/jobs").as_array().unwrap().len();
    for (asked, says) in [
        (
            json!({"command": "restyle", "input": still_id, "options": {"prompt": "x"}}),
            "still image",
        ),
        (
            json!({"command": "restyle", "input": clip_id, "options": {"prompt": "x", "strength": 3}}),
            "strength 3",
        ),
        (
            json!({"command": "restyle", "input": clip_id, "options": {"prompt": "x", "window": 8}}),
            "4k+1",
        ),
        (
            json!({"command": "restyle", "input": clip_id, "options": {"prompt": "x", "colour": 1}}),
            "has no option colour",
        ),
        (
            json!({"command": "restyle", "input": clip_id, "options": {}}),
            "needs a prompt",
        ),
        (
            json!({"command": "generate", "options": {"prompt": "x", "loop": true}}),
            "a loop needs image",
        ),
        (
            json!({"command": "bridge", "input": clip_id, "options": {}}),
            "two clips",
        ),
        (
            json!({"command": "animate", "input": still_id, "options": {"prompt": "x"}}),
            "needs click",
        ),
        (
            json!({"command": "animate", "input": still_id, "options": {"prompt": "x", "click": "ten,3"}}),
            "X,Y",
        ),
    ] {
        let r = studio.post_json("/api/jobs", &asked);
        assert_eq!(r.status, 400, "{asked}: {}", r.text());
        assert!(r.error().contains(says), "{asked}: {}", r.error());
    }
    assert_eq!(
        studio.get_json("/api/jobs").as_array().unwrap().len(),
        before
    );

    // A model of the wrong kind fails as a job, with the library's message (a text-to-video
    // folder cannot extend backward).
    let failed = studio
        .post_json(
            "/api/jobs",
            &json!({"command": "extend", "input": clip_id, "options": {"seconds": 0.2, "backward": true, "steps": 2, "size": "48x32"}}),
        )
        .json();
    let ended = studio.wait(failed["id"].as_u64().unwrap(), Duration::from_secs(120));
    assert_eq!(ended["state"], "failed", "{ended}");
    assert!(!ended["error"].as_str().unwrap_or("").is_empty(), "{ended}");
}
