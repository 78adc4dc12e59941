//! What a user owns is never lost to an output: folders, links, devices, inputs. Needs
//! `reel setup`.

use std::collections::BTreeMap;
use std::path::Path;

mod common;
use common::*;

/// Every file under `dir` with its contents, to show that nothing changed.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                todo.push(p);
            } else if m.file_type().is_symlink() {
                out.insert(p.display().to_string(), b"->".to_vec());
            } else {
                out.insert(p.display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn a_folder_given_as_the_output_is_refused_and_kept() {
    let dir = Scratch::new("outputs-folder");
    let clip = dir.path("clip.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "5",
        s(&clip),
    ]);
    let target = dir.path("important.mp4");
    std::fs::create_dir_all(target.join("sub")).unwrap();
    std::fs::write(target.join("sub/file.txt"), "data").unwrap();
    let before = snapshot(&dir.0);
    let r = reel(&["beauty", s(&clip), "-o", s(&target)]);
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("is a directory"));
    assert_eq!(snapshot(&dir.0), before);

    // A frame sequence goes only where nothing but frames would be replaced.
    let frames = dir.path("frames");
    std::fs::create_dir_all(&frames).unwrap();
    std::fs::write(frames.join("mine.txt"), "mine").unwrap();
    let before = snapshot(&dir.0);
    let r = reel(&["beauty", s(&clip), "-o", s(&frames)]);
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(snapshot(&dir.0), before);
    // Into a new folder, and again over its own frames, it works.
    let fresh = dir.path("fresh");
    for _ in 0..2 {
        let r = reel(&["beauty", s(&clip), "-o", s(&fresh), "--quiet"]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert_eq!(std::fs::read_dir(&fresh).unwrap().count(), 5);
    }
    assert!(!dir.listing().iter().any(|n| n.contains(".partial-")));
}

#[test]
fn links_are_followed_streams_written_through_and_inputs_refused() {
    let dir = Scratch::new("outputs-links");
    let wav = dir.path("a.wav");
    let r = reel(&[
        "synth",
        s(&sample("maple_leaf_rag.mid")),
        "--seconds",
        "3",
        "-o",
        s(&wav),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // The output is the input: refused, the input kept.
    let before = snapshot(&dir.0);
    let r = reel(&["transcribe", s(&wav), "--json", s(&wav)]);
    assert_eq!(r.status.code(), Some(2));
    let linked = dir.path("link.wav");
    std::os::unix::fs::symlink(&wav, &linked).unwrap();
    let r = reel(&["transcribe", s(&wav), "--midi", s(&linked)]);
    assert_eq!(r.status.code(), Some(2));
    let mut after = snapshot(&dir.0);
    after.remove(&linked.display().to_string());
    assert_eq!(after, before);

    // A link to a file: the target is written, the link stays a link.
    let target = dir.path("notes.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path("notes-link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let r = reel(&["transcribe", s(&wav), "--json", s(&link), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert!(!v["notes"].as_array().unwrap().is_empty());

    // A device is written through, not replaced.
    let r = reel(&["transcribe", s(&wav), "--json", "/dev/null", "--quiet"]);
    assert!(r.status.success());
    assert!(!Path::new("/dev/null").is_file());
}

#[test]
fn synth_takes_seconds_as_at_most_and_refuses_bad_numbers() {
    let dir = Scratch::new("outputs-synth");
    let wav = dir.path("o.wav");
    let r = reel(&[
        "synth",
        s(&sample("maple_leaf_rag.mid")),
        "--seconds",
        "inf",
        "-o",
        s(&wav),
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for bad in [
        ["--start", "nan"],
        ["--seconds", "nan"],
        ["--seconds", "-1"],
    ] {
        let r = reel(&[
            "synth",
            s(&sample("maple_leaf_rag.mid")),
            bad[0],
            bad[1],
            "-o",
            s(&dir.path("x.wav")),
        ]);
        assert_eq!(r.status.code(), Some(2), "{bad:?}");
    }
    assert!(!dir.path("x.wav").exists());
}

#[test]
fn bad_learning_rates_are_refused_before_any_checkpoint_is_touched() {
    let dir = Scratch::new("outputs-train");
    let model = dir.path("m");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("model.json"), "{}").unwrap();
    let before = snapshot(&dir.0);
    for lr in ["nan", "inf", "1e30", "-1", "0"] {
        let lr = format!("--learning-rate={lr}");
        let r = reel(&[
            "train",
            "--src",
            s(&dir.path("a")),
            "--dst",
            s(&dir.path("b")),
            "-o",
            s(&model),
            &lr,
        ]);
        assert_eq!(r.status.code(), Some(2), "{lr}");
        assert!(String::from_utf8_lossy(&r.stderr).contains("--learning-rate"));
    }
    assert_eq!(snapshot(&dir.0), before);
}

#[test]
fn a_face_set_being_written_is_refused_and_a_rerun_goes_on_without_duplicates() {
    let dir = Scratch::new("outputs-faceset");
    let clip = dir.path("clip.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "8",
        s(&clip),
    ]);
    let set = dir.path("set");
    let extract = || {
        reel(&[
            "faceset",
            "extract",
            s(&clip),
            "-o",
            s(&set),
            "--min-change",
            "0",
            "--quiet",
        ])
    };
    let r = extract();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let faces = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                let n = e
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .into_owned();
                n.ends_with(".json") && n.starts_with('0')
            })
            .count()
    };
    let kept = faces(&set);
    assert!(kept >= 4, "{kept}");
    // Run again on the same footage: every frame is already there.
    let r = extract();
    assert!(r.status.success());
    assert_eq!(faces(&set), kept);
    // While another run (here: this test, holding the set's lock) writes into the set, a second
    // run is refused, naming the first's process.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(set.join(".reel-lock"))
        .unwrap();
    lock.try_lock().unwrap();
    std::io::Write::write_all(&mut &lock, std::process::id().to_string().as_bytes()).unwrap();
    let before = snapshot(&set);
    let r = extract();
    assert_eq!(r.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains(&format!("process {}", std::process::id())),
        "{stderr}"
    );
    assert_eq!(snapshot(&set), before);
}

#[test]
fn a_one_frame_video_gives_a_one_frame_output() {
    let dir = Scratch::new("outputs-one-frame");
    let clip = dir.path("one.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "1",
        "-an",
        s(&clip),
    ]);
    let out = dir.path("out.mp4");
    let r = reel(&["beauty", s(&clip), "-o", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(count(&out, "v:0"), "1");
    assert_eq!(frames(&out).len(), 1);
}

#[test]
fn faces_json_gives_the_size_of_the_frame_as_shown() {
    let dir = Scratch::new("outputs-rotated");
    let clip = dir.path("rotated.mp4");
    // A phone clip: stored landscape, shown portrait.
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "3",
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        s(&clip),
    ]);
    let json = dir.path("faces.json");
    let r = reel(&["faces", "analyze", s(&clip), "--json", s(&json), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(480), Some(640))
    );
    for face in v["frames"][0]["faces"].as_array().unwrap() {
        for l in face["landmarks"].as_array().unwrap() {
            assert!(l[0].as_f64().unwrap() < 480.0);
        }
    }
}
