//! `reel film check` and `reel film render` on the example story, `reel style` and its held-out
//! evaluation, and `reel transcribe`. Needs `reel setup` and `reel style train`.

mod common;
use common::*;

use std::process::Command;

#[test]
fn the_example_story_checks_and_a_broken_one_is_reported_with_positions() {
    let dir = Scratch::new("film");
    let story = example_story(&dir.path("demo"));
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

fn example(dir: &Scratch) -> std::path::PathBuf {
    example_story(&dir.path("demo"))
}

fn log(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A performance: `seconds` of one sample piece, then 20 s of the Maple Leaf Rag, played on
/// the SoundFont piano as audio.
fn performance(dir: &Scratch, first: &str, seconds: f64) -> std::path::PathBuf {
    let (a, b, out) = (dir.path("a.wav"), dir.path("b.wav"), dir.path("perf.wav"));
    let seconds = seconds.to_string();
    for (midi, wav, secs) in [
        (first, &a, seconds.as_str()),
        ("maple_leaf_rag.mid", &b, "20"),
    ] {
        let r = reel(&["synth", s(&sample(midi)), "-o", s(wav), "--seconds", secs]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    ffmpeg(&[
        "-i",
        s(&a),
        "-i",
        s(&b),
        "-filter_complex",
        "concat=n=2:v=0:a=1",
        s(&out),
    ]);
    out
}

#[test]
fn the_music_steers_the_film_frame_exact_with_its_soundtrack_and_a_log() {
    let dir = Scratch::new("film-render");
    let story = example(&dir);
    // Maple Leaf Rag from the first second: the rag's ending, and its layers are not baroque's.
    let cases = [
        ("maple_leaf_rag.mid", "saloon", Some("ragtime")),
        ("mozart_k545_1.mid", "salon", Some("classical")),
    ];
    for (midi, ending, style) in cases {
        let out = dir.path(&format!("{ending}.mp4"));
        let r = reel(&[
            "film",
            "render",
            s(&story),
            "--audio",
            s(&sample(midi)),
            "-o",
            s(&out),
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let log = log(&dir.path(&format!("{ending}.decisions.json")));
        let d = &log["decisions"][0];
        assert_eq!(d["next"], ending, "{midi}: {d}");
        assert_eq!(d["style"].as_str(), style, "{midi}: {d}");
        // Title 4 s and prelude 5 s (a 5 s clip), then the ending: 6 s still, or the
        // 237-frame speaker clip at 30.12 fps (7.87 s) resampled to 25 fps.
        let frames = log["frames"].as_u64().unwrap();
        let expected = if ending == "saloon" { 375 } else { 225 + 197 };
        assert_eq!(frames, expected, "{midi}");
        assert_eq!(count(&out, "v:0"), expected.to_string(), "{midi}");
        // The performance is the soundtrack, cut to the film.
        let seconds = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
            .args(["stream=duration", "-of", "csv=p=0"])
            .arg(&out)
            .output()
            .unwrap();
        let seconds: f64 = String::from_utf8_lossy(&seconds.stdout)
            .trim()
            .parse()
            .unwrap();
        assert!(
            (seconds - frames as f64 / 25.0).abs() < 0.1,
            "{midi}: audio {seconds} s"
        );
        let confidence = d["confidence"].as_array().unwrap();
        assert_eq!(confidence.len(), 5);
    }
}

#[test]
fn the_render_is_deterministic_and_silence_and_noise_take_the_default() {
    let dir = Scratch::new("film-determinism");
    let story = example(&dir);
    let perf = performance(&dir, "bach_prelude_bwv846.mid", 6.0);
    let render = |name: &str, audio: &std::path::Path| {
        let out = dir.path(name);
        let r = reel(&[
            "film",
            "render",
            s(&story),
            "--audio",
            s(audio),
            "-o",
            s(&out),
            // One watermark id, so that the frames may be compared whole.
            "--watermark-id",
            "0123456789abcdef",
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        out
    };
    // A performance that is not there: a clear error, exit 3, nothing written.
    let r = reel(&[
        "film",
        "render",
        s(&story),
        "--audio",
        s(&dir.path("missing.wav")),
        "-o",
        s(&dir.path("none.mp4")),
    ]);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!dir.path("none.mp4").exists());
    let (a, b) = (render("a.mp4", &perf), render("b.mp4", &perf));
    let (la, lb) = (
        log(&dir.path("a.decisions.json")),
        log(&dir.path("b.decisions.json")),
    );
    assert_eq!(la["decisions"], lb["decisions"]);
    assert_eq!(la["readings"], lb["readings"]);
    assert_eq!(la["style_changes"], lb["style_changes"]);
    let (fa, fb) = (frames(&a), frames(&b));
    assert_eq!(fa.len() as u64, la["frames"].as_u64().unwrap());
    assert!(fa == fb, "the same performance drew different frames");

    for (name, source) in [
        ("silence", "anullsrc=r=22050:cl=mono"),
        ("noise", "anoisesrc=r=22050:c=pink:a=0.3"),
    ] {
        let wav = dir.path(&format!("{name}.wav"));
        ffmpeg(&["-f", "lavfi", "-i", source, "-t", "20", s(&wav)]);
        render(&format!("{name}.mp4"), &wav);
        let l = log(&dir.path(&format!("{name}.decisions.json")));
        assert_eq!(l["decisions"][0]["next"], "quiet_room", "{name}: {l}");
        assert!(l["decisions"][0]["style"].is_null(), "{name}");
    }
}

#[test]
fn a_change_of_style_in_the_audio_shows_within_three_seconds() {
    let dir = Scratch::new("style-latency");
    let story = example(&dir);
    // 8 s of Mozart, then the rag from 8 s on: the style the film's layers follow (the
    // recogniser's readings through the story's confidence, hysteresis and dwell rules) must
    // turn from classical to ragtime within 3 s of the change.
    let perf = performance(&dir, "mozart_k545_1.mid", 8.0);
    let out = dir.path("latency.mp4");
    let r = reel(&[
        "film",
        "render",
        s(&story),
        "--audio",
        s(&perf),
        "-o",
        s(&out),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let l = log(&dir.path("latency.decisions.json"));
    let changes: Vec<(f64, Option<String>)> = l["style_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["seconds"].as_f64().unwrap(),
                c["style"].as_str().map(String::from),
            )
        })
        .collect();
    let to_rag = changes
        .iter()
        .find(|(t, s)| *t > 8.0 && s.as_deref() == Some("ragtime"))
        .unwrap_or_else(|| panic!("no change to ragtime: {changes:?}"));
    assert!(to_rag.0 - 8.0 <= 3.0, "{changes:?}");
    let before: Vec<&(f64, Option<String>)> = changes.iter().filter(|(t, _)| *t < 8.0).collect();
    assert_eq!(
        before.last().and_then(|c| c.1.as_deref()),
        Some("classical"),
        "{changes:?}"
    );
    // The decision at 9 s heard the Mozart: the salon.
    assert_eq!(l["decisions"][0]["next"], "salon");
}

/// A confusion matrix from the evaluation's JSON, row by row.
fn rows(m: &serde_json::Value) -> Vec<Vec<u64>> {
    m.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn held_out_style_accuracy_from_audio_is_above_the_bar() {
    let json = std::env::temp_dir().join(format!("reel-eval-{}.json", std::process::id()));
    let r = reel(&["style", "evaluate", "--json", s(&json)]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let e = log(&json);
    let _ = std::fs::remove_file(&json);
    let heard = rows(&e["heard"]);
    let (mut right, mut all) = (0u64, 0u64);
    for (i, row) in heard.iter().take(4).enumerate() {
        right += row[i];
        all += row.iter().sum::<u64>();
        // Every style is mostly right on its own, not carried by the big ones.
        assert!(
            row[i] as f64 >= 0.75 * row.iter().sum::<u64>() as f64,
            "style {i}: {row:?}"
        );
    }
    assert!(all > 150, "{all} pieces");
    assert!(right as f64 >= 0.85 * all as f64, "{right} of {all}");
    // Another performance of each held-out piece on the recorded Salamander piano, which the
    // recogniser never trained on.
    let other = rows(&e["other_piano"]);
    let (mut right, mut all) = (0u64, 0u64);
    for (i, row) in other.iter().take(4).enumerate() {
        right += row[i];
        all += row.iter().sum::<u64>();
    }
    assert!(
        right as f64 >= 0.85 * all as f64,
        "other piano: {right} of {all}"
    );
    // No music is never heard as music.
    let none = &heard[4];
    assert_eq!(none[4], none.iter().sum::<u64>(), "{none:?}");
}

#[test]
fn live_playback_follows_a_performance_in_real_time_on_a_local_page() {
    use std::io::{BufRead, Read, Write};
    let dir = Scratch::new("film-live");
    let story = example(&dir);
    let rag = dir.path("rag.wav");
    common::rag(&rag, 16);
    let (record, log_path) = (dir.path("live.mp4"), dir.path("live.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_reel"))
        .args(["film", "live", s(&story), "--input", s(&rag), "--port", "0"])
        .args(["--record", s(&record), "--log", s(&log_path)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first
        .split("http://")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    std::thread::sleep(std::time::Duration::from_secs(7));
    let get = |path: &str| {
        let mut c = std::net::TcpStream::connect(&address).unwrap();
        write!(c, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
        let mut body = String::new();
        c.read_to_string(&mut body).unwrap();
        body
    };
    let page = get("/");
    assert!(page.contains("/stream"), "{page}");
    let status = get("/status");
    assert!(status.contains("scene prelude"), "{status}");
    assert!(status.contains("style ragtime"), "{status}");
    let done = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(done.success(), "{rest}");
    let l = log(&log_path);
    assert_eq!(l["decisions"][0]["next"], "saloon", "{rest}");
    assert_eq!(l["frames"], 375);
    assert_eq!(count(&record, "v:0"), "375");
    // The recording is labelled as the render is.
    let r = reel(&["verify", s(&record), "--json"]);
    let verified: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(verified["c2pa"]["state"], "valid", "{verified}");
    assert_eq!(
        verified["watermark"]["matches_manifest"], true,
        "{verified}"
    );
}
