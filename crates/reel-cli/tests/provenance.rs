//! Everything reel writes says so: signed content credentials that validate and catch a changed
//! byte, and a watermark that names the same payload and outlives re-encoding, scaling,
//! cropping and a screenshot. Needs `reel setup`.

mod common;
use common::*;

use serde_json::Value;

fn verify(file: &std::path::Path) -> Value {
    let r = reel(&["verify", s(file), "--json"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    serde_json::from_slice(&r.stdout).unwrap()
}

#[test]
fn an_edit_is_signed_and_marked_and_survives_what_platforms_do() {
    let dir = Scratch::new("provenance-edit");
    let clip = dir.path("clip.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-t",
        "3",
        "-c:a",
        "copy",
        s(&clip),
    ]);
    let out = dir.path("beauty.mp4");
    let r = reel(&["beauty", s(&clip), "-o", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(count(&out, "v:0"), count(&clip, "v:0"));
    assert_eq!(count(&out, "a:0"), count(&clip, "a:0"), "audio kept");

    let v = verify(&out);
    let c2pa = &v["c2pa"];
    assert_eq!(c2pa["state"], "valid", "{v}");
    assert_eq!(c2pa["trusted"], false, "a local root is on no trust list");
    assert_eq!(
        c2pa["digital_source_type"],
        "compositeWithTrainedAlgorithmicMedia"
    );
    assert_eq!(c2pa["ingredients"][0], "clip.mp4");
    let actions: Vec<&str> = c2pa["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["c2pa.opened", "c2pa.edited"]);
    assert_eq!(
        c2pa["actions"][1]["parameters"]["processors"][0]["name"],
        "beauty"
    );
    let payload = c2pa["watermark_payload"].as_str().unwrap().to_string();
    assert_eq!(v["watermark"]["found"], true, "{v}");
    assert_eq!(v["watermark"]["payload"], payload.as_str());

    // The source itself carries neither.
    let v = verify(&clip);
    assert_eq!(v["c2pa"]["state"], "absent");
    assert_eq!(v["watermark"]["found"], false, "{v}");

    // Re-encoded at CRF 28, cropped, or one frame taken as a screenshot: the credentials
    // are gone, the watermark is not.
    let crf28 = dir.path("crf28.mp4");
    ffmpeg(&["-i", s(&out), "-c:v", "libx264", "-crf", "28", s(&crf28)]);
    let crop = dir.path("crop.mp4");
    ffmpeg(&["-i", s(&out), "-vf", "crop=454:340", "-crf", "23", s(&crop)]);
    let shot = dir.path("shot.png");
    ffmpeg(&["-ss", "1", "-i", s(&out), "-frames:v", "1", s(&shot)]);
    for attacked in [&crf28, &crop, &shot] {
        let v = verify(attacked);
        assert_eq!(
            v["watermark"]["payload"],
            payload.as_str(),
            "{}: {v}",
            attacked.display()
        );
    }

    // A changed byte in the media data is caught.
    let mut bytes = std::fs::read(&out).unwrap();
    let at = bytes.len() / 2;
    for b in &mut bytes[at..at + 16] {
        *b ^= 0xA5;
    }
    let tampered = dir.path("tampered.mp4");
    std::fs::write(&tampered, &bytes).unwrap();
    let v = verify(&tampered);
    assert_eq!(v["c2pa"]["state"], "invalid", "{v}");
    assert!(
        v["c2pa"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap_or("").contains("mismatch")),
        "{v}"
    );
}

#[test]
fn every_output_kind_is_labelled() {
    let dir = Scratch::new("provenance-kinds");
    let clip = dir.path("clip.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "4",
        s(&clip),
    ]);
    // Video in each codec, a still, and a before/after sheet.
    for name in ["out.mp4", "out.mov", "out.png", "out.jpg"] {
        let input = if name.ends_with("mp4") || name.ends_with("mov") {
            clip.clone()
        } else {
            sample("portrait.jpg")
        };
        let out = dir.path(name);
        let r = reel(&[
            "deage",
            s(&input),
            "-o",
            s(&out),
            "--years",
            "10",
            "--quiet",
        ]);
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let v = verify(&out);
        assert_eq!(v["c2pa"]["state"], "valid", "{name}: {v}");
        assert_eq!(v["watermark"]["found"], true, "{name}: {v}");
        assert_eq!(v["watermark"]["matches_manifest"], true, "{name}: {v}");
    }
    let sheet = dir.path("sheet.png");
    let r = reel(&["beauty", s(&clip), "--compare", s(&sheet), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v = verify(&sheet);
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    assert_eq!(v["watermark"]["matches_manifest"], true, "{v}");

    // A PNG sequence: every frame its own manifest.
    let frames = dir.path("frames");
    let r = reel(&["beauty", s(&clip), "-o", s(&frames), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let mut names: Vec<_> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4);
    for f in &names {
        assert_eq!(verify(f)["c2pa"]["state"], "valid", "{}", f.display());
    }

    // A piece played on the piano: made by reel, its MIDI file its ingredient.
    let wav = dir.path("piece.wav");
    let r = reel(&[
        "synth",
        s(&sample("maple_leaf_rag.mid")),
        "-o",
        s(&wav),
        "--seconds",
        "2",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v = verify(&wav);
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    assert!(v.to_string().contains("maple_leaf_rag.mid"), "{v}");

    // Matroska has no place for credentials: said so, and the watermark still goes in.
    let mkv = dir.path("out.mkv");
    let r = reel(&["beauty", s(&clip), "-o", s(&mkv)]);
    assert!(r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("no place for C2PA"));
    let v = verify(&mkv);
    assert_eq!(v["c2pa"]["state"], "unsupported", "{v}");
    assert_eq!(v["watermark"]["found"], true, "{v}");
}

#[test]
fn label_burns_a_disclosure_into_the_first_two_seconds_and_says_so() {
    let dir = Scratch::new("provenance-label");
    // Three seconds at 25 fps: frames 0-49 are the first two seconds.
    let clip = dir.path("clip.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=480x270:rate=25",
        "-frames:v",
        "75",
        "-pix_fmt",
        "yuv420p",
        s(&clip),
    ]);
    let id = "00c0ffee00c0ffee";
    let plain = dir.path("plain.mp4");
    let labelled = dir.path("labelled.mp4");
    for (out, label) in [(&plain, false), (&labelled, true)] {
        let mut args = vec![
            "mark",
            s(&clip),
            "-o",
            s(out),
            "--watermark-id",
            id,
            "--quiet",
        ];
        if label {
            args.push("--label");
        }
        let r = reel(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let (a, b) = (frames(&plain), frames(&labelled));
    assert_eq!((a.len(), b.len()), (75, 75));
    // The corner where the label goes, against the same file marked without it.
    let corner_difference = |x: &reel_image::Image, y: &reel_image::Image| {
        let mut sum = 0.0;
        for row in 0..40 {
            for col in 0..160 {
                let i = (row * x.width + col) * 3;
                sum += (x.data[i] as f64 - y.data[i] as f64).abs();
            }
        }
        sum / (40.0 * 160.0)
    };
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        let d = corner_difference(x, y);
        if k < 50 {
            assert!(d > 20.0, "frame {k} should be labelled: {d}");
        } else {
            assert!(d < 3.0, "frame {k} should not be labelled: {d}");
        }
    }
    let v = verify(&labelled);
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    let edited = &v["c2pa"]["actions"][1];
    assert_eq!(edited["parameters"]["visible_label"], "AI-MODIFIED", "{v}");
    assert_eq!(v["watermark"]["payload"], id, "{v}");
}

#[test]
fn mark_labels_a_file_made_elsewhere() {
    let dir = Scratch::new("provenance-mark");
    let input = sample("portrait.jpg");
    let out = dir.path("marked.png");
    let r = reel(&["mark", s(&input), "-o", s(&out), "--generated", "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v = verify(&out);
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    assert_eq!(v["c2pa"]["digital_source_type"], "trainedAlgorithmicMedia");
    assert_eq!(v["watermark"]["matches_manifest"], true, "{v}");
    // The pixels are the input's but for the mark: close, not equal.
    let (a, b) = (&frames(&input)[0], &frames(&out)[0]);
    let mse = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        / a.data.len() as f64;
    assert!(
        mse > 0.1 && 10.0 * (255.0f64.powi(2) / mse).log10() > 40.0,
        "mse {mse}"
    );

    // Marking an output of reel's again keeps its credentials as the ingredient's.
    let again = dir.path("again.png");
    let r = reel(&["mark", s(&out), "-o", s(&again), "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(verify(&again)["c2pa"]["state"], "valid");

    // Not media: a clear error, nothing written.
    let text = dir.path("notes.txt");
    std::fs::write(&text, "not a picture").unwrap();
    let bad = dir.path("bad.png");
    let r = reel(&["mark", s(&text), "-o", s(&bad)]);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!bad.exists());
    let r = reel(&["verify", s(&dir.path("missing.mp4"))]);
    assert_eq!(r.status.code(), Some(3));
}
