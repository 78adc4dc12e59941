//! A face is put on someone only with its owner's recorded, live consent. Needs `reel setup`.

mod common;
use common::*;

#[test]
fn a_swap_needs_a_live_consent_for_the_face_it_puts_on() {
    let dir = Scratch::new("consent");
    let data = dir.path("data");
    let run = |args: &[&str]| reel_with_data(args, &data);
    let clip = dir.path("clip.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "6",
        s(&clip),
    ]);
    let hopper = sample("grace_hopper.jpg");
    let out = dir.path("out.mp4");
    let swap = |extra: &[&str]| {
        let mut args = vec!["swap", s(&clip), "--photo", s(&hopper), "-o", s(&out)];
        args.extend_from_slice(extra);
        run(&args)
    };

    // No record: refused, saying how to record one, nothing written.
    let r = swap(&[]);
    assert_eq!(r.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("no consent is recorded"), "{stderr}");
    assert!(stderr.contains("reel consent add"), "{stderr}");
    assert!(!out.exists());

    // Recorded: the swap runs and says whose consent it rests on.
    let r = run(&[
        "consent",
        "add",
        "--name",
        "Grace Hopper",
        "--photo",
        s(&hopper),
        "--granted-by",
        "her estate",
        "--scope",
        "the consent test",
        "--deceased",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let id = String::from_utf8_lossy(&r.stdout).trim().to_string();
    assert!(id.starts_with("consent-"), "{id}");
    let r = swap(&["--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(count(&out, "v:0"), "6");
    let r = swap(&[]);
    assert!(String::from_utf8_lossy(&r.stderr).contains(&id));
    // The output's credentials name the record it rests on, with the record's hash.
    let v = verify(&run, &out);
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    assert_eq!(v["c2pa"]["consent"]["records"][0]["id"], id.as_str(), "{v}");
    assert_eq!(
        v["c2pa"]["consent"]["records"][0]["sha256"],
        list_hash(&run, &id).as_str()
    );

    // Another person's face is not covered by her consent.
    let other = dir.path("other.mp4");
    let r = run(&[
        "swap",
        s(&clip),
        "--photo",
        s(&sample("astronaut.png")),
        "-o",
        s(&other),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(!other.exists());

    // The register lists it, live; revoked, the swap is refused again.
    let r = run(&["consent", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["deceased"], true);
    assert!(list[0]["revoked_at"].is_null());
    let r = run(&["consent", "revoke", &id]);
    assert!(r.status.success());
    std::fs::remove_file(&out).unwrap();
    let r = swap(&[]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("was revoked"));
    assert!(!out.exists());

    // The override needs its reason, and says it.
    let r = swap(&["--no-consent-check", " "]);
    assert_eq!(r.status.code(), Some(2));
    let r = swap(&["--no-consent-check", "the actor's own face"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("consent not checked: the actor's own face")
    );
    let v = verify(&run, &out);
    assert_eq!(
        v["c2pa"]["consent"]["override_reason"], "the actor's own face",
        "{v}"
    );
}

fn verify(
    run: &dyn Fn(&[&str]) -> std::process::Output,
    file: &std::path::Path,
) -> serde_json::Value {
    let r = run(&["verify", s(file), "--json"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    serde_json::from_slice(&r.stdout).unwrap()
}

fn list_hash(run: &dyn Fn(&[&str]) -> std::process::Output, id: &str) -> String {
    let r = run(&["consent", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let record = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    record["hash"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_consent_needs_a_face_and_real_dates() {
    let dir = Scratch::new("consent-add");
    let data = dir.path("data");
    let run = |args: &[&str]| reel_with_data(args, &data);
    let add = |extra: &[&str]| {
        let mut args = vec!["consent", "add", "--name", "A", "--granted-by", "A"];
        args.extend_from_slice(extra);
        run(&args)
    };
    let photo = sample("portrait.jpg");
    let text = dir.path("notes.txt");
    std::fs::write(&text, "not a photo").unwrap();
    assert_eq!(add(&["--photo", s(&text)]).status.code(), Some(3));
    assert_eq!(
        add(&["--photo", s(&photo), "--expires", "2001-01-01"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        add(&["--photo", s(&photo), "--expires", "soon"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        add(&[
            "--photo",
            s(&photo),
            "--document",
            s(&dir.path("nothere.pdf"))
        ])
        .status
        .code(),
        Some(3)
    );
    let r = run(&["consent", "list", "--json"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), "[]");
    let r = add(&[
        "--photo",
        s(&photo),
        "--expires",
        "2999-12-31",
        "--document",
        s(&text),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = run(&["consent", "list"]);
    assert!(String::from_utf8_lossy(&r.stdout).contains("live until 2999-12-31"));
    assert_eq!(
        run(&["consent", "revoke", "consent-nothere"]).status.code(),
        Some(2)
    );
}
