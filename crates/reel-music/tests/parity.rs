//! Transcription parity with Spotify's basic-pitch itself (the Python package on the ONNX model,
//! `tools/reference/basic_pitch_reference.py`): the same activations and the same notes on a
//! tone arpeggio ending in a chord, and on the talking head's speech. Needs `reel setup`.

use std::path::{Path, PathBuf};
use std::process::Command;

use reel_music::transcribe::SAMPLE_RATE;
use reel_music::{NoteSettings, Transcriber, notes};
use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("reel-music-{name}-{}", std::process::id()))
}

/// A harmonic tone of `hz` with a piano-like decay.
fn tone(hz: &[f32], seconds: f32) -> String {
    let partials: Vec<String> = hz
        .iter()
        .map(|f| format!("sin(2*PI*{f}*t)+0.5*sin(4*PI*{f}*t)+0.25*sin(6*PI*{f}*t)"))
        .collect();
    format!(
        "aevalsrc=exprs='0.3*exp(-2.5*t)*({})':s=44100:d={seconds}",
        partials.join("+")
    )
}

/// C4, E4, G4, C5, then the C major chord: the audio the reference was made from.
fn arpeggio(path: &Path) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-y"]);
    for hz in [&[261.63][..], &[329.63], &[392.00], &[523.25]] {
        cmd.args(["-f", "lavfi", "-i", &tone(hz, 0.6)]);
    }
    cmd.args(["-f", "lavfi", "-i", &tone(&[261.63, 329.63, 392.00], 1.2)]);
    cmd.args(["-filter_complex", "[0][1][2][3][4]concat=n=5:v=0:a=1"]);
    cmd.args(["-c:a", "pcm_s16le"]).arg(path);
    assert!(cmd.status().unwrap().success());
}

#[test]
fn activations_and_notes_match_basic_pitch() {
    let reference: Value =
        serde_json::from_str(include_str!("fixtures/basic_pitch_reference.json")).unwrap();
    let every = reference["every"].as_u64().unwrap() as usize;
    let dir = scratch("parity");
    std::fs::create_dir_all(&dir).unwrap();
    let arp = dir.join("arp.wav");
    arpeggio(&arp);
    let speech = reel_assets::samples_dir().join("talking_head.mp4");
    assert!(speech.exists(), "run `reel setup` first");
    let mut transcriber = Transcriber::new(2).unwrap();
    for (name, path) in [("arp", &arp), ("speech", &speech)] {
        let expected = &reference["inputs"][name];
        let audio = reel_video::read_audio(path, SAMPLE_RATE).unwrap();
        let a = transcriber.activations(&audio).unwrap();
        assert_eq!(
            a.frames as u64,
            expected["frames"].as_u64().unwrap(),
            "{name}: frames"
        );
        let mut worst = 0f32;
        for (key, ours) in [("note", &a.note), ("onset", &a.onset)] {
            for (row, values) in expected[key].as_array().unwrap().iter().enumerate() {
                let t = row * every;
                for (k, v) in values.as_array().unwrap().iter().enumerate() {
                    worst = worst.max((ours[t * 88 + k] - v.as_f64().unwrap() as f32).abs());
                }
            }
        }
        println!(
            "{name}: {} frames, worst activation difference {worst:.2e}",
            a.frames
        );
        assert!(worst < 1e-3, "{name}: activations differ by {worst}");

        let mut found = notes(&a, &NoteSettings::default());
        found.sort_by_key(|n| (n.start_frame, n.pitch));
        let theirs: Vec<(u64, u64, u64)> = expected["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["start_frame"].as_u64().unwrap(),
                    n["end_frame"].as_u64().unwrap(),
                    n["pitch"].as_u64().unwrap(),
                )
            })
            .collect();
        let ours: Vec<(u64, u64, u64)> = found
            .iter()
            .map(|n| (n.start_frame as u64, n.end_frame as u64, n.pitch as u64))
            .collect();
        assert_eq!(ours, theirs, "{name}: notes");
        for (n, e) in found.iter().zip(expected["notes"].as_array().unwrap()) {
            assert!((n.amplitude as f64 - e["amplitude"].as_f64().unwrap()).abs() < 1e-3);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the arpeggio's notes should be, whatever any reference says: each pitch played is found
/// at its time, and the chord's three keys sound together.
#[test]
fn the_arpeggio_is_heard_as_played() {
    let dir = scratch("heard");
    std::fs::create_dir_all(&dir).unwrap();
    let arp = dir.join("arp.wav");
    arpeggio(&arp);
    let audio = reel_video::read_audio(&arp, SAMPLE_RATE).unwrap();
    let a = Transcriber::new(2).unwrap().activations(&audio).unwrap();
    let found = notes(&a, &NoteSettings::default());
    for (pitch, from, to) in [
        (60, 0.0, 0.6),
        (64, 0.6, 1.2),
        (67, 1.2, 1.8),
        (72, 1.8, 2.4),
    ] {
        assert!(
            found.iter().any(|n| n.pitch == pitch
                && (n.start() - from).abs() < 0.05
                && (n.end() - to).abs() < 0.1),
            "{pitch} at {from} s: {found:?}"
        );
    }
    for pitch in [60, 64, 67] {
        assert!(
            found
                .iter()
                .any(|n| n.pitch == pitch && (n.start() - 2.4).abs() < 0.05)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file without audio, or not a media file at all, is a clear error.
#[test]
fn unreadable_audio_is_reported() {
    let dir = scratch("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.wav");
    std::fs::write(&text, "not audio").unwrap();
    let e = reel_video::read_audio(&text, SAMPLE_RATE).unwrap_err();
    assert!(
        e.to_string().contains("not a video or image reel can read"),
        "{e}"
    );
    let still = reel_assets::samples_dir().join("grace_hopper.jpg");
    let e = reel_video::read_audio(&still, SAMPLE_RATE).unwrap_err();
    assert!(e.to_string().contains("has no audio stream"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
