//! reel studio's API end to end, on the reel program: its token, what it refuses (and that it
//! stores nothing then), jobs run, watched, cancelled, killed with the server and retried.

mod common;

use std::time::{Duration, Instant};

use common::studio::{Studio, events, request, scratch};
use common::{count, reel_with_data, s, sample};
use serde_json::json;

/// Everything in the studio's media folder, folders and partial files included.
fn media_files(studio: &Studio) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            out.push(path.to_string_lossy().into_owned());
            if path.is_dir() {
                walk(&path, out);
            }
        }
    }
    let mut names = Vec::new();
    walk(&studio.store.join("media"), &mut names);
    names.sort();
    names
}

#[test]
fn the_api_needs_its_token_and_refuses_what_it_cannot_use() {
    let dir = scratch("refuses");
    let studio = Studio::start(
        &dir.join("store"),
        &dir.join("data"),
        &["--max-upload-mb", "1"],
    );
    let addr = studio.address.clone();

    // No token, a wrong token, a wrong token in the page's link: 401.
    assert_eq!(request(&addr, "GET", "/api/media", &[], None).status, 401);
    let wrong = request(
        &addr,
        "GET",
        "/api/jobs",
        &[("Authorization", "Bearer 0123")],
        None,
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(request(&addr, "GET", "/?token=0123", &[], None).status, 401);
    assert_eq!(request(&addr, "GET", "/studio.js", &[], None).status, 401);
    // The right link gives the page and a cookie that is a key of its own.
    let page = request(
        &addr,
        "GET",
        &format!("/?token={}", studio.token),
        &[],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(page.text().contains("reel studio"));
    let cookie = page.headers["set-cookie"]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.contains(&studio.token) && page.headers["set-cookie"].contains("HttpOnly"));
    let by_cookie = request(&addr, "GET", "/api/media", &[("Cookie", &cookie)], None);
    assert_eq!((by_cookie.status, by_cookie.text().as_str()), (200, "[]"));

    // Not media: a clear 400, and nothing kept.
    let text = studio.upload("notes.txt", b"these are not frames\n");
    assert_eq!(text.status, 400, "{}", text.text());
    assert!(
        text.error()
            .contains("notes.txt is not a video, image, sound or MIDI file"),
        "{}",
        text.error()
    );
    // A clip cut short is not media either.
    let clip = std::fs::read(sample("talking_head.mp4")).unwrap();
    let cut = studio.upload("cut.mp4", &clip[..4000]);
    assert_eq!(cut.status, 400, "{}", cut.text());
    // Larger than the limit: 413 before the body is read.
    let big = vec![7u8; 1_500_000];
    let too_big = studio.upload("big.mp4", &big);
    assert_eq!(too_big.status, 413, "{}", too_big.text());
    // A form without the field, and a body that is no form.
    let (kind, _) = common::studio::form("x", b"");
    let no_field = studio.call(
        "POST",
        "/api/media",
        Some((&kind, b"------reel-test-boundary-7d1f\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n1\r\n------reel-test-boundary-7d1f--\r\n")),
    );
    assert_eq!(no_field.status, 400);
    assert!(
        no_field.error().contains("no field named file"),
        "{}",
        no_field.error()
    );
    let not_form = studio.call("POST", "/api/media", Some(("application/json", b"{}")));
    assert_eq!(not_form.status, 400);
    assert_eq!(studio.get_json("/api/media"), json!([]));
    assert!(
        media_files(&studio).is_empty(),
        "{:?}",
        media_files(&studio)
    );

    // A real clip is taken, with what it is.
    let up = studio.upload("talking head.mp4", &clip);
    assert_eq!(up.status, 201, "{}", up.text());
    let media = up.json();
    assert_eq!(media["name"], "talking head.mp4");
    assert_eq!(
        (
            media["kind"].as_str(),
            media["width"].as_u64(),
            media["height"].as_u64()
        ),
        (Some("video"), Some(640), Some(480))
    );
    let frames: u64 = count(&sample("talking_head.mp4"), "v:0").parse().unwrap();
    assert_eq!(media["frames"].as_u64(), Some(frames));
    assert!((media["duration"].as_f64().unwrap() - 5.77).abs() < 0.05);
    let id = media["id"].as_u64().unwrap();

    // Ids are numbers: every other path, traversal or not, is not found.
    for path in [
        "/api/media/..%2F..%2F..%2Fetc%2Fpasswd/file",
        "/api/media/../../../../etc/passwd",
        "/api/media/%2e%2e/file",
        "/api/media/1%2F..%2F..%2Fstudio.db/file",
        "/api/media/-1/file",
        "/api/media/99999999999999999999999/file",
        "/api/media/0x1/file",
        "/api/media/1.0/faces",
        "/api/jobs/..%2Fmedia",
        "/api/jobs/1;2/cancel",
        "/../studio.db",
        "/media/upload.mp4",
    ] {
        let r = studio.call("GET", path, None);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(
            !r.text().contains("root:") && !r.text().contains("SQLite"),
            "{path}"
        );
    }
    assert_eq!(studio.call("GET", "/api/media/9999", None).status, 404);

    // Bad options: 400, with the command line's own message, and no job stored.
    let bad = studio.post_json(
        "/api/jobs",
        &json!({"command": "beauty", "input": id, "options": {"strenght": 0.5}}),
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.error().contains("no setting strenght"),
        "{}",
        bad.error()
    );
    let out_of_range = studio.post_json(
        "/api/jobs",
        &json!({"command": "beauty", "input": id, "options": {"strength": 3}}),
    );
    assert_eq!(out_of_range.status, 400);
    let cli = reel_with_data(
        &[
            "beauty",
            s(&sample("talking_head.mp4")),
            "-o",
            s(&dir.join("x.mp4")),
            "--strength",
            "3",
        ],
        &dir.join("data"),
    );
    let cli_says = String::from_utf8_lossy(&cli.stderr);
    assert!(
        cli_says.contains(&out_of_range.error()),
        "the API said {:?}, the command line {cli_says:?}",
        out_of_range.error()
    );
    for (asked, says) in [
        (
            json!({"command": "warp", "input": id}),
            "no command is called warp",
        ),
        (
            json!({"command": "beauty", "input": 12345}),
            "no media has id 12345",
        ),
        (json!({"command": "beauty"}), "give the job's input"),
        (
            json!({"command": "trim", "input": id, "options": {"from": "soon"}}),
            "from soon",
        ),
        (
            json!({"command": "retime", "input": id, "options": {"fps": "fast"}}),
            "fps fast",
        ),
        (json!({"command": "join", "input": id}), "two clips or more"),
        (
            json!({"command": "deage", "input": id, "options": {}}),
            "years",
        ),
    ] {
        let r = studio.post_json("/api/jobs", &asked);
        assert_eq!(r.status, 400, "{asked}: {}", r.text());
        assert!(r.error().contains(says), "{asked}: {}", r.error());
    }
    let not_json = studio.call("POST", "/api/jobs", Some(("application/json", b"{beauty")));
    assert_eq!(not_json.status, 400);
    assert_eq!(studio.get_json("/api/jobs"), json!([]));
    assert_eq!(studio.call("POST", "/api/jobs/1/cancel", None).status, 404);

    // Many clients at once.
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let addr = addr.clone();
            let auth = format!("Bearer {}", studio.token);
            std::thread::spawn(move || {
                let path = if i % 2 == 0 {
                    "/api/media"
                } else {
                    "/api/jobs"
                };
                (0..10)
                    .map(|_| request(&addr, "GET", path, &[("Authorization", &auth)], None).status)
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap().iter().all(|&s| s == 200));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jobs_run_are_watched_cancelled_and_outlive_a_killed_server() {
    let dir = scratch("jobs");
    let store = dir.join("store");
    let data = dir.join("data");
    let mut studio = Studio::start(&store, &data, &[]);
    let clip = std::fs::read(sample("talking_head.mp4")).unwrap();
    let source = studio.upload("talking_head.mp4", &clip).json();
    let source_id = source["id"].as_u64().unwrap();

    // Trim to 24 frames: the output is new media, its frames counted, its sound kept.
    let trim = studio.post_json(
        "/api/jobs",
        &json!({"command": "trim", "input": source_id, "options": {"to": "24f"}}),
    );
    assert_eq!(trim.status, 201, "{}", trim.text());
    let trim = studio.wait(trim.json()["id"].as_u64().unwrap(), Duration::from_secs(60));
    assert_eq!(trim["state"], "done", "{trim}");
    let short = trim["output"].as_u64().unwrap();
    let download = studio.call("GET", &format!("/api/media/{short}/download"), None);
    assert_eq!(download.status, 200);
    assert!(download.headers["content-disposition"].contains("talking_head.trim.mp4"));
    let saved = dir.join("short.mp4");
    std::fs::write(&saved, &download.body).unwrap();
    assert_eq!(count(&saved, "v:0"), "24");
    assert!(
        count(&saved, "a:0").parse::<u64>().unwrap() > 0,
        "the sound is kept"
    );
    assert_eq!(
        studio.get_json(&format!("/api/media/{short}"))["frames"],
        24
    );

    // The analysis gives the player every frame's faces.
    let analyze = studio.post_json("/api/jobs", &json!({"command": "analyze", "input": short}));
    let analyze = studio.wait(
        analyze.json()["id"].as_u64().unwrap(),
        Duration::from_secs(60),
    );
    assert_eq!(analyze["state"], "done", "{analyze}");
    let faces = studio.get_json(&format!("/api/media/{short}/faces"));
    let frames = faces["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 24);
    let face = frames[12]["faces"][0]["id"]
        .as_u64()
        .expect("a face in frame 12");
    assert!(
        frames
            .iter()
            .all(|f| f["faces"].as_array().unwrap().len() == 1)
    );

    // A beauty job on that face, watched over the event stream.
    let watch = events(&studio);
    let beauty = studio.post_json(
        "/api/jobs",
        &json!({"command": "beauty", "input": short, "options": {"strength": 0.8, "face": face}}),
    );
    assert_eq!(beauty.status, 201, "{}", beauty.text());
    let beauty_id = beauty.json()["id"].as_u64().unwrap();
    let done = studio.wait(beauty_id, Duration::from_secs(120));
    assert_eq!(done["state"], "done", "{done}");
    assert!(done["notes"].as_array().unwrap().is_empty(), "{done}");
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if let Ok(job) = watch.recv_timeout(Duration::from_millis(200))
            && job["id"] == beauty_id
        {
            let ended = job["state"] == "done";
            seen.push(job);
            if ended {
                break;
            }
        }
    }
    let states: Vec<&str> = seen.iter().map(|j| j["state"].as_str().unwrap()).collect();
    assert_eq!(states.first(), Some(&"queued"), "{states:?}");
    assert_eq!(states.last(), Some(&"done"), "{states:?}");
    assert!(states.contains(&"running"), "{states:?}");
    let progress: Vec<f64> = seen
        .iter()
        .map(|j| j["progress"].as_f64().unwrap())
        .collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    let edited = done["output"].as_u64().unwrap();
    let whole = studio.call("GET", &format!("/api/media/{edited}/file"), None);
    assert_eq!(whole.headers["content-type"], "video/mp4");
    let part = studio.call_with(
        &format!("/api/media/{edited}/file"),
        ("Range", "bytes=100-1099"),
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, whole.body[100..1100]);
    assert_eq!(
        part.headers["content-range"],
        format!("bytes 100-1099/{}", whole.body.len())
    );
    let beyond = studio.call_with(
        &format!("/api/media/{edited}/file"),
        ("Range", &format!("bytes={}-", whole.body.len())),
    );
    assert_eq!(beyond.status, 416);
    let edited_file = dir.join("edited.mp4");
    std::fs::write(&edited_file, &whole.body).unwrap();
    assert_eq!(count(&edited_file, "v:0"), "24");
    // Its provenance: signed credentials naming the processor, the watermark they name.
    let p = studio.get_json(&format!("/api/media/{edited}/provenance"));
    assert_eq!(p["c2pa"]["state"], "valid", "{p}");
    assert_eq!(
        p["c2pa"]["digital_source_type"],
        "compositeWithTrainedAlgorithmicMedia"
    );
    assert_eq!(p["watermark"]["matches_manifest"], true, "{p}");
    assert!(
        !p.to_string().contains(&*store.to_string_lossy()),
        "no path of the machine: {p}"
    );

    // A swap puts a face on only with its owner's recorded consent.
    let grace = std::fs::read(sample("grace_hopper.jpg")).unwrap();
    let photo = studio.upload("grace_hopper.jpg", &grace).json();
    assert_eq!(photo["kind"], "image");
    let photo_id = photo["id"].as_u64().unwrap();
    let swap = json!({"command": "swap", "input": short, "options": {"photo": photo_id}});
    let refused = studio.post_json("/api/jobs", &swap);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused
            .error()
            .contains("no consent is recorded for the person in grace_hopper.jpg"),
        "{}",
        refused.error()
    );
    let blank = json!({"command": "swap", "input": short, "options": {"photo": photo_id, "no_consent_check": " "}});
    assert_eq!(studio.post_json("/api/jobs", &blank).status, 400);
    let added = reel_with_data(
        &[
            "consent",
            "add",
            "--name",
            "Grace Hopper",
            "--photo",
            s(&sample("grace_hopper.jpg")),
            "--granted-by",
            "the estate",
        ],
        &data,
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let swapped = studio.post_json("/api/jobs", &swap);
    assert_eq!(swapped.status, 201, "{}", swapped.text());
    let swapped = studio.wait(
        swapped.json()["id"].as_u64().unwrap(),
        Duration::from_secs(120),
    );
    assert_eq!(swapped["state"], "done", "{swapped}");
    let p = studio.get_json(&format!("/api/media/{}/provenance", swapped["output"]));
    assert_eq!(p["c2pa"]["state"], "valid", "{p}");
    assert_eq!(
        p["c2pa"]["consent"]["records"][0]["name"], "Grace Hopper",
        "{p}"
    );
    assert!(
        p["c2pa"]["ingredients"]
            .to_string()
            .contains("grace_hopper"),
        "{p}"
    );
    let out = studio.get_json(&format!("/api/media/{}", swapped["output"]));
    assert_eq!(out["frames"], 24);

    // A long job, cancelled while it runs: nothing is added.
    let before = studio.get_json("/api/media").as_array().unwrap().len();
    let slow = studio.post_json(
        "/api/jobs",
        &json!({"command": "retime", "input": source_id, "options": {"fps": "2x"}}),
    );
    let slow_id = slow.json()["id"].as_u64().unwrap();
    studio.wait_for(slow_id, "running", Duration::from_secs(30));
    // The page's calls are answered while the job uses both cores.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        studio.get_json("/api/jobs");
        slowest = slowest.max(t.elapsed());
    }
    eprintln!("slowest of 20 API calls during a retime: {slowest:?}");
    assert!(slowest < Duration::from_secs(1), "{slowest:?}");
    let cancel = studio.call("POST", &format!("/api/jobs/{slow_id}/cancel"), None);
    assert_eq!(cancel.status, 200, "{}", cancel.text());
    let cancelled = studio.wait(slow_id, Duration::from_secs(30));
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    assert_eq!(
        studio.get_json("/api/media").as_array().unwrap().len(),
        before
    );
    assert_eq!(
        studio
            .call("POST", &format!("/api/jobs/{slow_id}/cancel"), None)
            .status,
        409
    );

    // Retried, then the server is killed while it runs: the next start lists every job, the
    // one that ran is failed (interrupted), and every finished output is still there.
    assert_eq!(
        studio
            .call("POST", &format!("/api/jobs/{slow_id}/retry"), None)
            .status,
        200
    );
    studio.wait_for(slow_id, "running", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    studio.kill();
    let studio = Studio::start(&store, &data, &[]);
    let jobs = studio.get_json("/api/jobs");
    assert_eq!(jobs.as_array().unwrap().len(), 5, "{jobs}");
    let interrupted = studio.get_json(&format!("/api/jobs/{slow_id}"));
    assert_eq!(interrupted["state"], "failed", "{interrupted}");
    assert!(
        interrupted["error"]
            .as_str()
            .unwrap()
            .contains("interrupted")
    );
    for id in [short, edited, photo_id] {
        let r = studio.call("GET", &format!("/api/media/{id}/file"), None);
        assert_eq!(r.status, 200);
    }
    assert_eq!(
        studio
            .call("GET", &format!("/api/media/{edited}/file"), None)
            .body,
        whole.body
    );
    // Retried after the restart, it finishes: twice the frames.
    assert_eq!(
        studio
            .call("POST", &format!("/api/jobs/{slow_id}/retry"), None)
            .status,
        200
    );
    let retimed = studio.wait(slow_id, Duration::from_secs(300));
    assert_eq!(retimed["state"], "done", "{retimed}");
    let out = studio.get_json(&format!("/api/media/{}", retimed["output"]));
    let source_frames = source["frames"].as_u64().unwrap();
    assert_eq!(out["frames"].as_u64(), Some(2 * source_frames), "{out}");
    // What the killed run was writing is gone; only finished files are in the folder.
    assert!(
        media_files(&studio)
            .iter()
            .all(|f| !f.contains(".partial-")),
        "{:?}",
        media_files(&studio)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_folder_the_user_allowed_is_listed_and_copied_from_and_nothing_outside_it() {
    let dir = scratch("folder");
    let allowed = dir.join("allowed");
    std::fs::create_dir_all(allowed.join("interviews/.thumbnails")).unwrap();
    let take = allowed.join("interviews/take 1.mp4");
    std::fs::copy(sample("talking_head.mp4"), &take).unwrap();
    std::fs::copy(sample("portrait.jpg"), allowed.join("portrait.jpg")).unwrap();
    std::fs::copy(
        sample("portrait.jpg"),
        allowed.join("interviews/.thumbnails/t.jpg"),
    )
    .unwrap();
    std::fs::write(allowed.join("notes.txt"), "not media").unwrap();
    std::fs::copy(sample("speaker.mp4"), dir.join("secret.mp4")).unwrap();
    std::os::unix::fs::symlink(dir.join("secret.mp4"), allowed.join("link.mp4")).unwrap();
    let before = std::fs::read(&take).unwrap();
    let modified = std::fs::metadata(&take).unwrap().modified().unwrap();

    // Without --folder there is none; a folder that is not there stops the studio.
    let plain = Studio::start(&dir.join("plain"), &dir.join("data"), &[]);
    assert_eq!(plain.get_json("/api/folder")["allowed"], false);
    let none = plain.post_json("/api/folder/import", &json!({"path": "a.mp4"}));
    assert_eq!(none.status, 404);
    assert!(none.error().contains("--folder"), "{}", none.error());
    drop(plain);
    let missing = reel_with_data(
        &["studio", "--port", "0", "--folder", s(&dir.join("nowhere"))],
        &dir.join("data"),
    );
    assert_eq!(missing.status.code(), Some(3));

    let studio = Studio::start(
        &dir.join("store"),
        &dir.join("data"),
        &["--folder", s(&allowed)],
    );
    let listed = studio.get_json("/api/folder");
    assert_eq!(listed["allowed"], true);
    assert_eq!(listed["name"], "allowed");
    assert_eq!(listed["more"], false);
    let paths: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    // Media only, hidden folders and links left out.
    assert_eq!(paths, ["interviews/take 1.mp4", "portrait.jpg"]);

    // Outside the folder, through a link, not media, not there: refused, nothing added.
    for bad in [
        "../secret.mp4",
        "interviews/../../secret.mp4",
        "link.mp4",
        "/etc/passwd",
        "notes.txt",
        "interviews",
        "gone.mp4",
        "",
    ] {
        let r = studio.post_json("/api/folder/import", &json!({ "path": bad }));
        assert_eq!(r.status, 404, "{bad}: {}", r.text());
    }
    assert_eq!(studio.get_json("/api/media"), json!([]));
    assert!(
        media_files(&studio).is_empty(),
        "{:?}",
        media_files(&studio)
    );

    // A file of the folder: copied into the library under its name, the original untouched.
    let added = studio.post_json(
        "/api/folder/import",
        &json!({"path": "interviews/take 1.mp4"}),
    );
    assert_eq!(added.status, 201, "{}", added.text());
    let media = added.json();
    assert_eq!(media["name"], "take 1.mp4");
    let frames: u64 = count(&take, "v:0").parse().unwrap();
    assert_eq!(media["frames"].as_u64(), Some(frames));
    let copy = studio.call("GET", &format!("/api/media/{}/file", media["id"]), None);
    assert_eq!(copy.body, before, "the library's copy is the file");
    assert_eq!(std::fs::read(&take).unwrap(), before);
    assert_eq!(
        std::fs::metadata(&take).unwrap().modified().unwrap(),
        modified
    );
    // It is media like any upload: a trim of it runs.
    let job = studio
        .post_json(
            "/api/jobs",
            &json!({"command": "trim", "input": media["id"], "options": {"to": "24f"}}),
        )
        .json();
    let done = studio.wait(job["id"].as_u64().unwrap(), Duration::from_secs(60));
    assert_eq!(done["state"], "done", "{done}");
    drop(studio);
    let _ = std::fs::remove_dir_all(&dir);
}
