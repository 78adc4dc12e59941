//! The consent register on disk: records whole, found by likeness, revoked and expired ones
//! refused, and a process killed while writing leaves it sound.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use reel_consent::{Date, NewConsent, Register};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reel-consent-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A descriptor near `base` (as two photos of one person are), or far from it.
fn descriptor(base: f32, spread: f32) -> Vec<f32> {
    (0..128)
        .map(|i| base + spread * ((i * 7 % 13) as f32 / 13.0))
        .collect()
}

fn consent<'a>(name: &'a str, d: Vec<f32>, expires: Option<Date>) -> NewConsent<'a> {
    NewConsent {
        name,
        granted_by: "the person",
        scope: Some("one film"),
        expires,
        document: Some(b"signed"),
        deceased: false,
        photos: vec![("a.jpg".into(), b"photo bytes".to_vec(), d)],
    }
}

#[test]
fn consents_are_found_by_likeness_and_refused_once_revoked_or_expired() {
    let dir = scratch("match");
    let path = dir.join("consent.sqlite");
    let mut r = Register::open(&path).unwrap();
    let today = reel_consent::today();
    let a = r.add(&consent("Ada", descriptor(0.0, 0.01), None)).unwrap();
    let past = Date::parse("2001-01-01").unwrap();
    r.add(&consent("Bo", descriptor(0.3, 0.01), Some(past)))
        .unwrap();
    // Another photo of Ada (close), and a stranger (far).
    let (found, d) = r
        .matching(&descriptor(0.001, 0.01), today)
        .unwrap()
        .unwrap();
    assert_eq!(found.id, a.id);
    assert!(d < 0.1);
    assert!(r.matching(&descriptor(0.9, 0.3), today).unwrap().is_none());
    // Bo's consent has expired: no match, but the record is there to say so.
    assert!(r.matching(&descriptor(0.3, 0.01), today).unwrap().is_none());
    assert!(r.any_matching(&descriptor(0.3, 0.01)).unwrap().is_some());
    // Revoked, Ada's face is refused; the record stays, with its time.
    let revoked = r.revoke(&a.id).unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(r.matching(&descriptor(0.0, 0.01), today).unwrap().is_none());
    assert!(r.revoke("consent-nothere").is_err());
    // What was recorded reads back whole, after reopening.
    drop(r);
    let r = Register::open(&path).unwrap();
    let all = r.all().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].photos[0].descriptor, descriptor(0.0, 0.01));
    assert_eq!(all[0].hash.len(), 64);
    assert!(all[0].document_sha256.is_some());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_record_without_a_name_or_a_photo_is_refused() {
    let dir = scratch("refuse");
    let mut r = Register::open(&dir.join("c.sqlite")).unwrap();
    assert!(r.add(&consent(" ", descriptor(0.0, 0.0), None)).is_err());
    let mut none = consent("Cy", descriptor(0.0, 0.0), None);
    none.photos.clear();
    assert!(r.add(&none).is_err());
    assert!(r.all().unwrap().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Run as a child by the test below: records consents until it is killed.
#[test]
fn writer_until_killed() {
    let Some(path) = std::env::var_os("REEL_CONSENT_WRITER") else {
        return;
    };
    let mut r = Register::open(&PathBuf::from(path)).unwrap();
    for i in 0.. {
        let name = format!("person {i}");
        let mut c = consent(&name, descriptor(i as f32, 0.1), None);
        c.photos
            .push(("b.jpg".into(), vec![i as u8; 64], descriptor(i as f32, 0.2)));
        r.add(&c).unwrap();
    }
}

#[test]
fn a_process_killed_while_writing_leaves_the_register_sound() {
    let dir = scratch("kill");
    let path = dir.join("consent.sqlite");
    Register::open(&path).unwrap();
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "writer_until_killed", "--nocapture"])
            .env("REEL_CONSENT_WRITER", &path)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700 + 300 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let r = Register::open(&path).unwrap();
        let all = r.all().unwrap();
        assert!(!all.is_empty(), "round {round}: nothing was written");
        // Every record is whole: both of its photos are there.
        for c in &all {
            assert_eq!(c.photos.len(), 2, "{} is half-written", c.id);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
