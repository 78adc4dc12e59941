//! Training a swap model in the studio and swapping with it, over the API: the job's loss
//! curve and preview grid while it trains, a cancel and a retry that goes on from the
//! checkpoint, the model as media (its grid shown, its folder downloaded), and a swap with it
//! refused without its face's consent. Grace Hopper's portrait, moved about by ffmpeg, onto the
//! talking head. Needs `reel setup`.

mod common;

use std::time::{Duration, Instant};

use common::studio::{Studio, events, scratch};
use common::{count, grace_clip, performer_clip, sample};
use serde_json::{Value, json};

/// A PNG's width and height, from its header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn a_model_trains_in_the_studio_with_its_curve_and_grid_and_swaps_with_consent() {
    let dir = scratch("training");
    let studio = Studio::start(&dir.join("store"), &dir.join("data"), &[]);
    let grace = dir.join("grace.mp4");
    grace_clip(&grace);
    let performer = dir.join("jon.mp4");
    performer_clip(&performer);
    let up = |path: &std::path::Path| {
        let name = path.file_name().unwrap().to_str().unwrap();
        let r = studio.upload(name, &std::fs::read(path).unwrap());
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_u64().unwrap()
    };
    let (grace_id, jon_id) = (up(&grace), up(&performer));

    // Refused before anything is queued, with the command line's words.
    let refused = |options: Value, words: &str| {
        let r = studio.post_json(
            "/api/jobs",
            &json!({"command": "train", "input": jon_id, "options": options}),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.error().contains(words), "{}", r.error());
    };
    refused(json!({}), "train needs source");
    let still = up(&sample("portrait.jpg"));
    let r = studio.post_json(
        "/api/jobs",
        &json!({"command": "train", "input": still, "options": {"source": grace_id}}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.error()
            .contains("is a still image; train takes a video clip"),
        "{}",
        r.error()
    );
    refused(
        json!({"source": grace_id, "resolution": 40}),
        "multiple of 16",
    );
    refused(
        json!({"source": grace_id, "learning_rate": 2}),
        "learning-rate",
    );
    refused(
        json!({"source": grace_id, "architecture": "sae"}),
        "df or liae",
    );
    refused(
        json!({"source": grace_id, "epochs": 3}),
        "train has no option epochs",
    );
    assert!(studio.get_json("/api/jobs").as_array().unwrap().is_empty());

    let watch = events(&studio);
    let options =
        json!({"source": grace_id, "iterations": 60, "resolution": 32, "batch": 4, "every": 2});
    let train = studio.post_json(
        "/api/jobs",
        &json!({"command": "train", "input": jon_id, "options": options}),
    );
    assert_eq!(train.status, 201, "{}", train.text());
    let id = train.json()["id"].as_u64().unwrap();

    // The curve comes while it trains; cancelled, it keeps its checkpoint.
    let until = Instant::now() + Duration::from_secs(300);
    let live = loop {
        assert!(Instant::now() < until, "no loss curve came while training");
        let Ok(job) = watch.recv_timeout(Duration::from_secs(5)) else {
            continue;
        };
        if job["id"] == id
            && job["state"] == "running"
            && job["detail"]["iteration"].as_u64().unwrap_or(0) >= 3
        {
            break job;
        }
        assert_ne!(job["state"], "failed", "{job}");
    };
    assert!(
        !live["detail"]["loss"].as_array().unwrap().is_empty(),
        "{live}"
    );
    assert!(
        studio
            .post_json(&format!("/api/jobs/{id}/cancel"), &json!({}))
            .status
            == 200
    );
    let cancelled = studio.wait(id, Duration::from_secs(60));
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    let stopped_at = cancelled["detail"]["iteration"].as_u64().unwrap();
    assert!(cancelled["output"].is_null());

    // Retried, it goes on from where it stopped: the new run's curve starts past it.
    assert_eq!(
        studio
            .post_json(&format!("/api/jobs/{id}/retry"), &json!({}))
            .status,
        200
    );
    let done = studio.wait(id, Duration::from_secs(300));
    assert_eq!(done["state"], "done", "{done}");
    let detail = &done["detail"];
    assert_eq!(detail["iteration"], 60, "{detail}");
    let loss: Vec<(u64, f64)> = detail["loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    println!("stopped at {stopped_at}; loss after the retry: {loss:?}");
    assert!(
        loss[0].0 > stopped_at.min(59),
        "the retry started again: {loss:?}"
    );
    assert_eq!(loss.last().unwrap().0, 60);
    // Held-back quality over the whole training, first to last, as the model records it.
    let quality = detail["quality"].as_array().unwrap();
    let (first, last) = (&quality[0], quality.last().unwrap());
    println!("held-back SSIM: {quality:?}");
    for person in [1, 2] {
        assert!(
            last[person].as_f64().unwrap() > first[person].as_f64().unwrap() + 0.05,
            "held-back quality of person {person}: {quality:?}"
        );
    }
    assert!(
        done["notes"].to_string().contains("no consent is recorded"),
        "{done}"
    );

    // The preview grid: both people as drawn and the swap, five faces wide.
    let grid = studio.call("GET", &format!("/api/jobs/{id}/preview"), None);
    assert_eq!(grid.status, 200);
    assert_eq!(png_size(&grid.body).0, 5 * 32);
    assert_eq!(
        studio
            .call("GET", &format!("/api/jobs/{}/preview", id + 100), None)
            .status,
        404
    );

    // The model is media: shown by its grid, downloaded as one folder.
    let model_id = done["output"].as_u64().unwrap();
    let model = studio.get_json(&format!("/api/media/{model_id}"));
    assert_eq!(
        (model["kind"].as_str(), model["width"].as_u64()),
        (Some("model"), Some(32))
    );
    assert_eq!(model["name"], "jon.train.model");
    let shown = studio.call("GET", &format!("/api/media/{model_id}/file"), None);
    assert_eq!(shown.headers["content-type"], "image/png");
    let tar = studio.call("GET", &format!("/api/media/{model_id}/download"), None);
    assert_eq!(tar.status, 200);
    assert_eq!(
        tar.body.len() as u64,
        tar.headers["content-length"].parse::<u64>().unwrap()
    );
    std::fs::write(dir.join("model.tar"), &tar.body).unwrap();
    let unpacked = std::process::Command::new("tar")
        .args(["-xf", "model.tar"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(unpacked.success());
    let info: Value =
        serde_json::from_slice(&std::fs::read(dir.join("jon.train.model/model.json")).unwrap())
            .unwrap();
    assert_eq!(info["iterations"], 60);

    // A model is not an input to edit, and a swap with it needs its face's consent.
    let r = studio.post_json(
        "/api/jobs",
        &json!({"command": "beauty", "input": model_id}),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.error().contains("is a trained swap model"),
        "{}",
        r.error()
    );
    let swap = |options: Value| {
        studio.post_json(
            "/api/jobs",
            &json!({"command": "swap", "input": jon_id, "options": options}),
        )
    };
    let r = swap(json!({"model": model_id}));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.error().contains(
            "no consent is recorded for the person in the source face set of jon.train.model"
        ),
        "{}",
        r.error()
    );
    let r = swap(json!({"model": jon_id}));
    assert!(
        r.error()
            .contains("model: jon.mp4 is not a model trained by a train job"),
        "{}",
        r.error()
    );
    let r = swap(json!({"model": model_id, "photo": grace_id}));
    assert!(r.error().contains("not both"), "{}", r.error());
    let r = swap(json!({"photo": grace_id, "steady": 0.5}));
    assert!(r.error().contains("give them with model"), "{}", r.error());

    let r =
        swap(json!({"model": model_id, "steady": 0.3, "no_consent_check": "a test of the studio"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let swapped = studio.wait(r.json()["id"].as_u64().unwrap(), Duration::from_secs(300));
    assert_eq!(swapped["state"], "done", "{swapped}");
    let out = swapped["output"].as_u64().unwrap();
    let file = dir.join("swapped.mp4");
    studio.download(out, &file);
    assert_eq!(count(&file, "v:0"), "40");
    let provenance = studio.get_json(&format!("/api/media/{out}/provenance"));
    let text = provenance.to_string();
    assert!(
        text.contains("model-swap") && text.contains("jon.train.model"),
        "{provenance}"
    );
    assert!(text.contains("a test of the studio"), "{provenance}");
    assert_eq!(provenance["watermark"]["found"], true, "{provenance}");
}
