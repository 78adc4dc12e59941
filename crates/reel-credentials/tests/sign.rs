//! Credentials signed into real files read back valid, name what was signed, and report a
//! change to the media as a mismatch.

use std::path::{Path, PathBuf};
use std::process::Command;

use reel_credentials::{Credentials, Identity, Sealer, SourceType, State, read::read};
use serde_json::json;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reel-credentials-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn make(path: &Path, args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
        .args(args)
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg made no {}", path.display());
}

fn identity(dir: &Path) -> Identity {
    // The local identity lives under REEL_DATA; each test process has its own.
    unsafe { std::env::set_var("REEL_DATA", dir.join("data")) };
    Identity::local().unwrap()
}

#[test]
fn every_format_reads_back_valid_and_a_changed_byte_is_caught() {
    let dir = scratch("formats");
    let identity = identity(&dir);
    let key = Identity::local_dir().join("signer.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let source = dir.join("source.mp4");
    make(
        &source,
        &[
            "testsrc=size=160x120:rate=10:duration=1",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    for (name, args) in [
        (
            "out.mp4",
            vec![
                "testsrc2=size=160x120:rate=10:duration=1",
                "-pix_fmt",
                "yuv420p",
            ],
        ),
        (
            "out.mov",
            vec![
                "testsrc2=size=160x120:rate=10:duration=1",
                "-c:v",
                "prores_ks",
            ],
        ),
        ("out.png", vec!["testsrc2=size=160x120", "-frames:v", "1"]),
        ("out.jpg", vec!["testsrc2=size=160x120", "-frames:v", "1"]),
        ("out.wav", vec!["sine=frequency=440:duration=1"]),
    ] {
        let file = dir.join(name);
        make(&file, &args);
        let sealer = Sealer::new(
            Credentials {
                action: "c2pa.edited",
                source_type: SourceType::CompositeWithTrainedAlgorithmicMedia,
                parameters: json!({ "processors": [{ "name": "beauty", "strength": 0.7 }] }),
                sources: vec![source.clone()],
                watermark: Some(0x0123_4567_89AB_CDEF),
                consent: Some(json!({ "records": [{ "id": 4, "sha256": "ab" }] })),
            },
            identity.clone(),
        );
        assert!(sealer.sign(&file, &file).unwrap(), "{name}");
        let report = read(&file);
        assert_eq!(report.state, State::Valid, "{name}: {:?}", report.problems);
        assert!(!report.trusted, "a local root is not on any trust list");
        assert_eq!(report.watermark, Some(0x0123_4567_89AB_CDEF), "{name}");
        assert_eq!(
            report.source_type.as_deref(),
            Some("compositeWithTrainedAlgorithmicMedia")
        );
        assert_eq!(report.ingredients, vec!["source.mp4".to_string()], "{name}");
        assert!(
            report
                .signer
                .as_deref()
                .unwrap_or("")
                .starts_with("reel signer")
        );
        assert_eq!(report.consent.as_ref().unwrap()["records"][0]["id"], 4);
        // Flip bytes near the end, in the media data, not the manifest.
        let mut bytes = std::fs::read(&file).unwrap();
        let at = bytes.len() - 40;
        for b in &mut bytes[at..at + 8] {
            *b ^= 0x5A;
        }
        std::fs::write(&file, &bytes).unwrap();
        let tampered = read(&file);
        assert_eq!(
            tampered.state,
            State::Invalid,
            "{name}: {:?}",
            tampered.problems
        );
        assert!(!tampered.problems.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
