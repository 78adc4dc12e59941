//! The film in the studio, over the API: the story given to `--film` checked as `reel film
//! check` checks it (its problems named by line), sounds and MIDI files taken as performances,
//! the film rendered from a MIDI performance as `reel film render` renders it, and the live film
//! shown on its own page as a performance plays in real time, stopped, its recording kept and
//! labelled. Needs `reel setup` and `reel style train`.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::studio::{Studio, scratch};
use common::{count, example_story, s, sample};
use serde_json::json;

/// A GET on the live film's own page server (HTTP/1.0, no token: it listens on loopback).
fn get(page: &str, path: &str) -> String {
    let address = page.trim_start_matches("http://").trim_end_matches('/');
    let mut c = std::net::TcpStream::connect(address).unwrap();
    write!(c, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut body = String::new();
    c.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn the_story_is_checked_rendered_from_a_performance_and_played_live() {
    let dir = scratch("film");
    let story = example_story(&dir.join("demo"));
    let studio = Studio::start(
        &dir.join("store"),
        &dir.join("data"),
        &["--film", s(&story)],
    );

    // The story, checked: its shape as the command line prints it.
    let film = studio.get_json("/api/film");
    assert_eq!(
        (film["ok"].as_bool(), film["nodes"].as_u64()),
        (Some(true), Some(8)),
        "{film}"
    );
    let outline = film["outline"].to_string();
    assert!(
        outline.contains("jazz -> club") && outline.contains("video media/"),
        "{film}"
    );
    let commands = studio.get_json("/api/commands");
    let names: Vec<&str> = commands
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["film"] == true)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["film", "film_live"]);

    // Performances: a MIDI file and a sound.
    let midi = studio.upload(
        "maple_leaf_rag.mid",
        &std::fs::read(sample("maple_leaf_rag.mid")).unwrap(),
    );
    assert_eq!(midi.status, 201, "{}", midi.text());
    let midi = midi.json();
    assert_eq!(midi["kind"], "audio");
    assert!(midi["duration"].as_f64().unwrap() > 60.0, "{midi}");
    let rag = dir.join("rag.wav");
    common::rag(&rag, 16);
    let wav = studio
        .upload("rag.wav", &std::fs::read(&rag).unwrap())
        .json();
    assert_eq!(wav["kind"], "audio");
    assert!(
        (wav["duration"].as_f64().unwrap() - 16.0).abs() < 0.1,
        "{wav}"
    );
    let (midi_id, wav_id) = (midi["id"].as_u64().unwrap(), wav["id"].as_u64().unwrap());
    let still = studio
        .upload(
            "portrait.jpg",
            &std::fs::read(sample("portrait.jpg")).unwrap(),
        )
        .json();

    // Refused before anything is queued.
    let refused = |body: serde_json::Value, words: &str| {
        let r = studio.post_json("/api/jobs", &body);
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.error().contains(words), "{}", r.error());
    };
    refused(
        json!({"command": "film", "input": []}),
        "film takes one performance",
    );
    refused(
        json!({"command": "film", "input": still["id"]}),
        "portrait.jpg is not a performance",
    );
    refused(
        json!({"command": "film", "input": midi_id, "options": {"fps": 30}}),
        "film has no option fps",
    );
    refused(
        json!({"command": "film_live", "input": [], "options": {"listen": "file"}}),
        "choose the performance",
    );
    refused(
        json!({"command": "film_live", "input": wav_id, "options": {"listen": "radio"}}),
        "use file, live or keyboard",
    );
    refused(
        json!({"command": "film_live", "input": midi_id}),
        "not a MIDI file",
    );
    refused(
        json!({"command": "film", "input": midi_id, "options": {"size": "5x5"}}),
        "--size 5x5: give WIDTHxHEIGHT",
    );
    refused(
        json!({"command": "beauty", "input": wav_id}),
        "rag.wav is a sound, not a clip or a still",
    );

    // The render: the rag's ending, every frame, the performance played on the piano under it.
    let job = studio.post_json("/api/jobs", &json!({"command": "film", "input": midi_id}));
    assert_eq!(job.status, 201, "{}", job.text());
    let done = studio.wait(job.json()["id"].as_u64().unwrap(), Duration::from_secs(300));
    assert_eq!(done["state"], "done", "{done}");
    let path = done["detail"]["path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), "saloon", "{done}");
    assert!(
        !done["detail"]["decisions"].as_array().unwrap().is_empty(),
        "{done}"
    );
    let out = done["output"].as_u64().unwrap();
    let file = dir.join("film.mp4");
    studio.download(out, &file);
    assert_eq!(count(&file, "v:0"), "375");
    assert!(
        count(&file, "a:0").parse::<u64>().unwrap() > 0,
        "the piano is heard"
    );
    let provenance = studio.get_json(&format!("/api/media/{out}/provenance"));
    assert_eq!(provenance["c2pa"]["state"], "valid", "{provenance}");
    assert_eq!(
        provenance["watermark"]["matches_manifest"], true,
        "{provenance}"
    );

    // Live: the sound played in real time, shown on the film's own page, then stopped.
    let live = studio.post_json(
        "/api/jobs",
        &json!({"command": "film_live", "input": wav_id}),
    );
    assert_eq!(live.status, 201, "{}", live.text());
    let live_id = live.json()["id"].as_u64().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    let page = loop {
        let job = studio.get_json(&format!("/api/jobs/{live_id}"));
        if let Some(page) = job["detail"]["page"].as_str()
            && job["detail"]["frame"].as_u64().unwrap_or(0) >= 100
        {
            break page.to_string();
        }
        assert!(job["state"] != "failed" && Instant::now() < until, "{job}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(get(&page, "/").contains("/stream"));
    let status = get(&page, "/status");
    assert!(
        status.contains("scene prelude") && status.contains("style ragtime"),
        "{status}"
    );
    assert_eq!(
        studio
            .post_json(&format!("/api/jobs/{live_id}/cancel"), &json!({}))
            .status,
        200
    );
    let stopped = studio.wait(live_id, Duration::from_secs(60));
    assert_eq!(
        stopped["state"], "done",
        "a stopped live film keeps what it played: {stopped}"
    );
    assert!(
        stopped["notes"].to_string().contains("was stopped"),
        "{stopped}"
    );
    let recorded = stopped["output"].as_u64().unwrap();
    let frames = studio.get_json(&format!("/api/media/{recorded}"))["frames"]
        .as_u64()
        .unwrap();
    assert!((100..375).contains(&frames), "{frames} frames recorded");
    let provenance = studio.get_json(&format!("/api/media/{recorded}/provenance"));
    assert_eq!(provenance["c2pa"]["state"], "valid", "{provenance}");
    assert_eq!(provenance["watermark"]["found"], true, "{provenance}");

    // A broken story is reported by line, named by its file, not where it is kept.
    let text = std::fs::read_to_string(&story).unwrap();
    std::fs::write(
        &story,
        text.replace("media/club.mp4", "media/club_take2.mp4"),
    )
    .unwrap();
    let film = studio.get_json("/api/film");
    assert_eq!(film["ok"], false);
    let problems = film["problems"].to_string();
    assert!(
        problems.contains("story.toml:60:11: missing picture"),
        "{film}"
    );
    assert!(!problems.contains(s(&dir)), "{film}");
    refused(
        json!({"command": "film", "input": midi_id}),
        "story.toml:60:11: missing picture",
    );
}
