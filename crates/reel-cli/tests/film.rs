//! `reel film check` on the example story, and `reel transcribe`. Needs `reel setup`.

mod common;
use common::*;

use std::process::Command;

#[test]
fn the_example_story_checks_and_a_broken_one_is_reported_with_positions() {
    let dir = Scratch::new("film");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ok = Command::new("bash")
        .arg(root.join("examples/film/make_media.sh"))
        .arg(dir.path("demo"))
        .env("REEL", env!("CARGO_BIN_EXE_reel"))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let story = dir.path("demo/story.toml");
    let r = reel(&["film", "check", s(&story)]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(out.contains("8 nodes"), "{out}");
    assert!(out.contains("jazz -> club"), "{out}");

    // A missing clip and an unknown style, both reported, nothing else done.
    let text = std::fs::read_to_string(&story)
        .unwrap()
        .replace("media/club.mp4", "media/club_take2.mp4")
        .replace("style = \"baroque\"", "style = \"bebop\"");
    let broken = dir.path("demo/broken.toml");
    std::fs::write(&broken, text).unwrap();
    let r = reel(&["film", "check", s(&broken)]);
    assert_eq!(r.status.code(), Some(3));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("broken.toml:35:9: unknown style \"bebop\""),
        "{err}"
    );
    assert!(err.contains("broken.toml:60:11: missing picture"), "{err}");
}

#[test]
fn transcribe_finds_the_notes_of_an_arpeggio() {
    let dir = Scratch::new("transcribe");
    let wav = dir.path("arp.wav");
    let tone = |hz: f32| {
        format!(
            "aevalsrc=exprs='0.3*exp(-2.5*t)*(sin(2*PI*{hz}*t)+0.5*sin(4*PI*{hz}*t))':s=44100:d=0.6"
        )
    };
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &tone(261.63),
        "-f",
        "lavfi",
        "-i",
        &tone(329.63),
        "-f",
        "lavfi",
        "-i",
        &tone(392.0),
        "-filter_complex",
        "[0][1][2]concat=n=3:v=0:a=1",
        s(&wav),
    ]);
    let r = reel(&["transcribe", s(&wav), "--json", "-", "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let pitches: Vec<u64> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["pitch"].as_u64().unwrap())
        .collect();
    assert_eq!(pitches, [60, 64, 67]);
    // The same notes as a MIDI file.
    let mid = dir.path("arp.mid");
    let r = reel(&["transcribe", s(&wav), "--midi", s(&mid), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = reel(&["transcribe", s(&mid), "--json", "-", "--quiet"]);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let again: Vec<u64> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["pitch"].as_u64().unwrap())
        .collect();
    assert_eq!(again, [60, 64, 67]);
    // A still has no sound: a clear error, exit code 3.
    let r = reel(&["transcribe", s(&sample("grace_hopper.jpg"))]);
    assert_eq!(r.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&r.stderr).contains("has no audio stream"));
}
