//! `reel faceset extract`, `reel faceset stats` and `reel cast` on the sample footage.
//! Needs `reel setup`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::*;

use serde_json::Value;

fn records(dir: &Path) -> Vec<Value> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_stem()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .chars()
                    .all(|c| c.is_ascii_digit())
        })
        .collect();
    v.sort();
    v.iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

#[test]
fn extract_keeps_aligned_faces_with_everything_beside_them() {
    let dir = Scratch::new("extract");
    let set = dir.path("jon");
    let r = reel(&[
        "faceset",
        "extract",
        s(&sample("talking_head.mp4")),
        "-o",
        s(&set),
        "--size",
        "192",
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let recs = records(&set);
    assert!(
        recs.len() >= 30 && recs.len() < 173,
        "{} faces kept of 173 frames (near-duplicates dropped)",
        recs.len()
    );
    for (i, rec) in recs.iter().enumerate() {
        assert_eq!(rec["landmarks"].as_array().unwrap().len(), 468);
        assert_eq!(rec["identity"].as_array().unwrap().len(), 128);
        assert_eq!(rec["size"], 192);
        for suffix in ["png", "mask.png"] {
            let f = set.join(format!("{i:06}.{suffix}"));
            let bytes = std::fs::read(&f).unwrap();
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", f.display());
            // Width and height from the PNG header.
            assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 192);
            assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 192);
        }
        // The eyes sit level in the aligned crop.
        let lm = rec["landmarks"].as_array().unwrap();
        let y = |i: usize| lm[i][1].as_f64().unwrap();
        assert!((y(33) - y(263)).abs() < 6.0, "eyes level in face {i}");
    }
    // ffmpeg reads what was written.
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(set.join("000000.png"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "192,192");
    let stats = reel(&["faceset", "stats", s(&set)]);
    assert!(stats.status.success());
    let text = String::from_utf8_lossy(&stats.stdout);
    assert!(
        text.contains(&format!("{} faces", recs.len()))
            && text.contains("yaw")
            && text.contains("light"),
        "{text}"
    );
}

#[test]
fn too_few_faces_is_a_clear_error() {
    let dir = Scratch::new("empty");
    let shelf = dir.path("shelf.mp4");
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(sample("speaker.mp4"))
        .args(["-vf", "crop=120:200:0:0", "-frames:v", "10"])
        .arg(&shelf)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let r = reel(&["faceset", "extract", s(&shelf), "-o", s(&dir.path("none"))]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("kept 0 faces"));
    let r = reel(&["faceset", "stats", s(&dir.path("none"))]);
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
fn casting_ranks_the_same_man_first_and_strangers_last() {
    let dir = Scratch::new("cast");
    let set = dir.path("jon");
    assert!(
        reel(&[
            "faceset",
            "extract",
            s(&sample("talking_head.mp4")),
            "-o",
            s(&set),
            "--every",
            "5",
            "--quiet"
        ])
        .status
        .success()
    );
    let sheet = dir.path("sheet.png");
    let r = reel(&[
        "cast",
        "--target",
        s(&set),
        s(&sample("astronaut.png")),
        s(&sample("portrait.jpg")),
        s(&sample("speaker.mp4")),
        s(&sample("grace_hopper.jpg")),
        "--json",
        "--sheet",
        s(&sheet),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let ranked: Value = serde_json::from_slice(&r.stdout).unwrap();
    let names: Vec<&str> = ranked
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    println!("{ranked:#}");
    assert!(
        names[0].ends_with("speaker.mp4"),
        "the same man in other footage first: {names:?}"
    );
    assert!(
        names[1].ends_with("portrait.jpg"),
        "then the other bearded man: {names:?}"
    );
    assert!(ranked[0]["identity"].as_f64().unwrap() < 0.6);
    // The sheet shows people's faces: marked and labelled as every still reel writes.
    let r = reel(&["verify", s(&sheet), "--json"]);
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    assert_eq!(v["watermark"]["matches_manifest"], true, "{v}");
}
