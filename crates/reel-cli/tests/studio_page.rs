//! The studio's page in a real browser (Debian's Chromium, driven over WebDriver by
//! chromedriver): a clip uploaded, its faces found, one chosen by clicking it in the player, a
//! beauty job run and watched in the queue, the result opened with its provenance, played and
//! downloaded, its frames counted, and a still added from the folder the user allowed; and with
//! a model folder, a clip generated from a prompt with
//! nothing chosen, and a still animated where it was clicked; and a swap model trained from two
//! clips, its loss curve and preview grid watched as it trains, then swapped with; and with a
//! film's story, the story shown checked, and the live film played from a sound, watched in the
//! queue and stopped. The page must log no script error. Screenshots of each step are kept in
//! the test's scratch folder (target/tmp/studio-page/, target/tmp/studio-generation-page/,
//! target/tmp/studio-training-page/ and target/tmp/studio-film-page/).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::studio::{Studio, request};
use common::{count, example_story, ffmpeg, grace_clip, performer_clip, s, sample};
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    driver: Child,
    address: String,
    session: String,
    shots: PathBuf,
    step: usize,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = request(&self.address, "DELETE", &path, &[], None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    fn start(downloads: &Path, shots: &Path) -> Browser {
        let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("chromedriver is installed by scripts/setup.sh (Debian's chromium-driver)");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let address = format!("127.0.0.1:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver never listened"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,1000",
                         "--autoplay-policy=no-user-gesture-required"],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let body = caps.to_string();
        let r = request(
            &address,
            "POST",
            "/session",
            &[],
            Some(("application/json", body.as_bytes())),
        );
        assert_eq!(r.status, 200, "no browser session: {}", r.text());
        let session = r.json()["value"]["sessionId"].as_str().unwrap().to_string();
        std::fs::create_dir_all(shots).unwrap();
        Browser {
            driver,
            address,
            session,
            shots: shots.to_path_buf(),
            step: 0,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let text = body.map(|b| b.to_string());
        let r = request(
            &self.address,
            method,
            &path,
            &[],
            text.as_deref().map(|t| ("application/json", t.as_bytes())),
        );
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
        r.json()["value"].clone()
    }

    fn script(&self, source: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": source, "args": []})),
        )
    }

    fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    fn click(&self, css: &str) {
        let el = self.find(css);
        self.call("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.call("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits until `source` (a script returning a value) is truthy, and returns its value.
    fn until(&self, what: &str, source: &str, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let v = self.script(source);
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return v;
            }
            assert!(
                start.elapsed() < limit,
                "{what}: not so after {limit:?} (status: {}; job error: {})",
                self.text("#status"),
                self.text("#job-error")
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Saves a screenshot as NN-name.png.
    fn shot(&mut self, name: &str) -> PathBuf {
        self.step += 1;
        let data = self.call("GET", "/screenshot", None);
        let png = base64(data.as_str().unwrap());
        assert_eq!(&png[1..4], b"PNG");
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// Opens `studio`'s page in `browser`, gathering script errors from its first line on, and
/// waits until it is ready.
fn open_page(browser: &mut Browser, studio: &Studio) {
    browser.call(
        "POST",
        "/goog/cdp/execute",
        Some(json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source":
            "window.__errors = []; addEventListener('error', e => __errors.push(String(e.message))); addEventListener('unhandledrejection', e => __errors.push(String(e.reason)));"}})),
    );
    browser.call("POST", "/url", Some(json!({"url": studio.url()})));
    browser.until(
        "the page is ready",
        "return document.getElementById('status').textContent === 'ready'",
        Duration::from_secs(20),
    );
}

/// Asserts that the page logged no script error and the browser no severe one.
fn no_errors(browser: &Browser) {
    let errors = browser.script("return window.__errors");
    assert_eq!(errors, json!([]), "the page logged script errors");
    let log = request(
        &browser.address,
        "POST",
        &format!("/session/{}/se/log", browser.session),
        &[],
        Some(("application/json", br#"{"type": "browser"}"#)),
    );
    if log.status == 200 {
        let severe: Vec<Value> = log.json()["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .collect();
        assert!(severe.is_empty(), "the browser logged errors: {severe:?}");
    }
}

/// Sets the panel's setting `name` as a user would (a checkbox ticked for true).
fn set(browser: &Browser, name: &str, value: Value) {
    browser.script(&format!(
        "const i = document.getElementById('settings').elements.namedItem({name}); \
         if (i.type === 'checkbox') i.checked = {value}; else i.value = {value}; \
         i.dispatchEvent(new Event('input'));",
        name = json!(name),
        value = if value.is_string() {
            value.to_string()
        } else {
            json!(value.to_string()).to_string()
        },
    ));
}

/// Chooses `command` in the panel's list.
fn choose(browser: &Browser, command: &str) {
    browser.script(&format!(
        "const c = document.getElementById('command'); c.value = {}; c.dispatchEvent(new Event('change'));",
        json!(command)
    ));
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let n = chunk.iter().fold(0u32, |acc, &c| {
            (acc << 6) | if c == b'=' { 0 } else { value(c) }
        }) << (6 * (4 - chunk.len()));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad.min(2)]);
    }
    out
}

#[test]
fn a_user_uploads_picks_a_face_runs_beauty_and_gets_the_result() {
    let dir = std::env::temp_dir().join(format!("reel-studio-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("studio-page");
    let _ = std::fs::remove_dir_all(&shots);
    // Two seconds of the talking head, sound and all.
    let clip = dir.join("interview.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "48",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        s(&clip),
    ]);
    let frames = count(&clip, "v:0");
    // A folder of the user's, allowed to the page.
    let allowed = dir.join("footage");
    std::fs::create_dir_all(allowed.join("headshots")).unwrap();
    std::fs::copy(
        sample("portrait.jpg"),
        allowed.join("headshots/portrait.jpg"),
    )
    .unwrap();

    let studio = Studio::start(
        &dir.join("store"),
        &dir.join("data"),
        &["--folder", s(&allowed)],
    );
    let mut browser = Browser::start(&downloads, &shots);
    open_page(&mut browser, &studio);
    browser.shot("empty");

    // Upload through the file picker.
    let picker = browser.find("#file");
    browser.call(
        "POST",
        &format!("/element/{picker}/value"),
        Some(json!({"text": s(&clip)})),
    );
    browser.until("the clip is in the library and chosen", "return state.selected && state.selected.name === 'interview.mp4' && document.getElementById('video').readyState >= 2", Duration::from_secs(30));
    assert!(browser.text("#media").contains("interview.mp4"));
    assert!(browser.text("#media").contains(&format!("{frames} frames")));
    browser.shot("uploaded");

    // Find the faces; step through frames; click the face to choose it.
    browser.click("#analyze");
    browser.until(
        "the faces are drawn",
        "return state.faces && state.faces.frames.length",
        Duration::from_secs(60),
    );
    for _ in 0..6 {
        browser.click("#forward");
    }
    browser.until(
        "frame 6 is shown",
        "return document.getElementById('frame-number').textContent === 'frame 6'",
        Duration::from_secs(10),
    );
    let face = browser.until(
        "a face is in frame 6",
        "const f = facesNow()[0]; if (!f) return null; const c = document.getElementById('overlay'); return {id: f.id, x: (f.bbox[0] + f.bbox[2] / 2) * c.width / state.selected.width - c.width / 2, y: (f.bbox[1] + f.bbox[3] / 2) * c.height / state.selected.height - c.height / 2};",
        Duration::from_secs(10),
    );
    browser.shot("faces-found");
    let overlay = browser.find("#overlay");
    browser.call(
        "POST",
        "/actions",
        Some(json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
            {"type": "pointerMove", "duration": 0, "origin": {ELEMENT: overlay}, "x": face["x"].as_f64().unwrap().round() as i64, "y": face["y"].as_f64().unwrap().round() as i64},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]}]})),
    );
    let id = face["id"].as_u64().unwrap();
    assert_eq!(
        browser.text("#chosen"),
        format!("Face {id} chosen: only it is edited.")
    );
    browser.shot("face-chosen");

    // The instant preview of this frame, before and after, with its slider.
    browser.click("#preview");
    let took = browser.until("the preview is shown", "return !document.getElementById('compare').hidden && document.getElementById('preview-time').textContent", Duration::from_secs(60));
    eprintln!("preview: {took}");
    // The retouch is in the chosen face: the pixels inside its box change more than the rest
    // of the frame, which only the watermark touches (by a level or so).
    let changed = browser.script(
        "const d = (img) => { const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0); return g.getImageData(0, 0, c.width, c.height).data; }; \
         const before = document.getElementById('before'), after = document.getElementById('after'); \
         const a = d(before), b = d(after), w = after.naturalWidth, [x0, y0, bw, bh] = facesNow()[0].bbox; \
         let inside = 0, ni = 0, outside = 0, no = 0; \
         for (let i = 0; i < a.length; i += 4) { const x = (i / 4) % w, y = Math.floor(i / 4 / w); \
           const diff = Math.abs(a[i] - b[i]) + Math.abs(a[i+1] - b[i+1]) + Math.abs(a[i+2] - b[i+2]); \
           if (x >= x0 && x < x0 + bw && y >= y0 && y < y0 + bh) { inside += diff; ni++; } else { outside += diff; no++; } } \
         return {w, same: a.length === b.length, inside: inside / ni / 3, outside: outside / no / 3};",
    );
    assert_eq!(changed["w"], 640, "{changed}");
    assert_eq!(changed["same"], true, "{changed}");
    let (inside, outside) = (
        changed["inside"].as_f64().unwrap(),
        changed["outside"].as_f64().unwrap(),
    );
    assert!(outside < 3.0 && inside > outside + 0.5, "{changed}");
    browser.script("const s = document.getElementById('split'); s.value = 30; s.dispatchEvent(new Event('input'));");
    browser.shot("preview");

    // Run the beauty fix and watch it in the queue.
    assert_eq!(
        browser.script("return document.getElementById('command').value"),
        "beauty"
    );
    browser.click("#run");
    browser.until("the job runs", "return [...document.querySelectorAll('#queue li')].some(li => li.textContent.includes('beauty') && (li.classList.contains('state-running') || li.classList.contains('state-done')))", Duration::from_secs(30));
    browser.shot("running");
    browser.until("the job is done", "return [...document.querySelectorAll('#queue li.state-done')].some(li => li.textContent.includes('beauty'))", Duration::from_secs(120));
    let job = &studio.get_json("/api/jobs")[0];
    assert_eq!(job["command"], "beauty");
    assert_eq!(
        job["options"]["face"].as_u64(),
        Some(id),
        "the clicked face was asked for: {job}"
    );
    browser.shot("done");

    // Open the result: it plays, with its provenance shown.
    browser.click("#queue li.state-done .open");
    browser.until("the result is open", "return state.selected && state.selected.name.includes('beauty') && document.getElementById('video').readyState >= 2", Duration::from_secs(30));
    let provenance = browser.until("its provenance is shown", "const p = document.getElementById('provenance'); return !p.hidden && p.textContent.includes('watermark') && p.textContent", Duration::from_secs(60));
    let provenance = provenance.as_str().unwrap();
    assert!(
        provenance.contains("content credentials: valid"),
        "{provenance}"
    );
    assert!(
        provenance.contains("the one the credentials name"),
        "{provenance}"
    );
    browser.click("#play");
    browser.until(
        "it plays",
        "return document.getElementById('video').currentTime > 0.3",
        Duration::from_secs(20),
    );
    browser.shot("result-playing");

    // Download it and count its frames.
    browser.click("#queue li.state-done .download");
    let start = Instant::now();
    let file = loop {
        let done: Vec<PathBuf> = std::fs::read_dir(&downloads)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
            .collect();
        if let Some(f) = done.first() {
            break f.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing was downloaded"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(file.file_name().unwrap(), "interview.beauty.mp4");
    assert_eq!(count(&file, "v:0"), frames, "the download has every frame");
    assert!(
        count(&file, "a:0").parse::<u64>().unwrap() > 0,
        "and its sound"
    );

    // A still from the allowed folder: listed, clicked, in the library and shown.
    let listed = browser.until(
        "the folder is listed",
        "return [...document.querySelectorAll('#folder-files li')].map(li => li.textContent).join('|')",
        Duration::from_secs(10),
    );
    assert_eq!(listed, "headshots/portrait.jpg");
    browser.click("#folder-files li");
    browser.until("the folder's still is in the library and shown", "return state.selected && state.selected.name === 'portrait.jpg' && document.getElementById('still').complete && [...document.querySelectorAll('#media li')].some(li => li.textContent.includes('portrait.jpg'))", Duration::from_secs(30));
    browser.shot("from-folder");

    no_errors(&browser);
    eprintln!("screenshots in {}", shots.display());
    drop(browser);
    drop(studio);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_user_generates_from_a_prompt_and_animates_a_clicked_still() {
    let dir = std::env::temp_dir().join(format!("reel-studio-gen-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("studio-generation-page");
    let _ = std::fs::remove_dir_all(&shots);
    // The small random text-to-video folder of the diffusion crate's parity tests.
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reel-diffusion/tests/fixtures/wan-t2v");
    let studio = Studio::start(
        &dir.join("store"),
        &dir.join("data"),
        &["--model", s(&model)],
    );
    let mut browser = Browser::start(&dir.join("downloads"), &shots);
    open_page(&mut browser, &studio);

    // Text to video: nothing chosen in the library, the prompt and a few settings.
    choose(&browser, "generate");
    assert!(
        browser.text("#about").contains("(model: wan-t2v)"),
        "{}",
        browser.text("#about")
    );
    assert_eq!(
        browser.script("return document.getElementById('run').disabled"),
        json!(false)
    );
    for (name, value) in [
        ("prompt", json!("a red ball rolls")),
        ("frames", json!(5)),
        ("fps", json!(8)),
        ("size", json!("48x32")),
        ("steps", json!(2)),
        ("seed", json!(5)),
    ] {
        set(&browser, name, value);
    }
    browser.shot("generate-settings");
    browser.click("#run");
    browser.until("the generation is done", "return [...document.querySelectorAll('#queue li.state-done')].some(li => li.textContent.includes('generate'))", Duration::from_secs(120));
    let job = &studio.get_json("/api/jobs")[0];
    assert_eq!(job["command"], "generate");
    assert_eq!(job["input"], json!([]), "{job}");
    assert_eq!(
        (
            &job["options"]["prompt"],
            &job["options"]["frames"],
            &job["options"]["size"],
            &job["options"]["seed"]
        ),
        (
            &json!("a red ball rolls"),
            &json!(5),
            &json!("48x32"),
            &json!(5)
        ),
        "{job}"
    );
    let made = studio.get_json(&format!("/api/media/{}", job["output"]));
    assert_eq!(
        (made["frames"].as_u64(), made["width"].as_u64()),
        (Some(5), Some(48)),
        "{made}"
    );
    browser.click("#queue li.state-done .open");
    browser.until("the generated clip is open", "return state.selected && state.selected.name === 'generated.generate.mp4' && document.getElementById('video').readyState >= 2", Duration::from_secs(30));
    browser.shot("generated");

    // Animate a still: upload it, click its disc on the player, tick by colour, run.
    let (w, h) = (160usize, 120usize);
    let mut pixels = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let inside = (x as f32 - 80.0).hypot(y as f32 - 60.0) <= 30.0;
            let t = ((x * 7 + y * 13) % 23) as u8;
            let p = if inside {
                [210, 40, 30]
            } else {
                [100 + t, 110 + t, 120 + t]
            };
            pixels[(y * w + x) * 3..][..3].copy_from_slice(&p);
        }
    }
    let still = dir.join("disc.png");
    std::fs::write(&still, reel_image::png::encode(w, h, 3, &pixels)).unwrap();
    let picker = browser.find("#file");
    browser.call(
        "POST",
        &format!("/element/{picker}/value"),
        Some(json!({"text": s(&still)})),
    );
    browser.until("the still is chosen", "return state.selected && state.selected.name === 'disc.png' && document.getElementById('still').complete", Duration::from_secs(30));
    choose(&browser, "animate");
    // The middle of the player is the middle of the still: the disc.
    let overlay = browser.find("#overlay");
    browser.call(
        "POST",
        "/actions",
        Some(json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
            {"type": "pointerMove", "duration": 0, "origin": {ELEMENT: overlay}, "x": 0, "y": 0},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]}]})),
    );
    let click = browser
        .script("return document.getElementById('settings').elements.namedItem('click').value");
    let point: Vec<f64> = click
        .as_str()
        .unwrap()
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect();
    assert!(
        (point[0] - 80.0).abs() <= 3.0 && (point[1] - 60.0).abs() <= 3.0,
        "the click was read as {click}"
    );
    for (name, value) in [
        ("prompt", json!("the ball glows")),
        ("by_colour", json!(true)),
        ("frames", json!(5)),
        ("size", json!("48x32")),
        ("steps", json!(2)),
    ] {
        set(&browser, name, value);
    }
    browser.shot("animate-settings");
    browser.click("#run");
    browser.until("the animation is done", "return [...document.querySelectorAll('#queue li.state-done')].some(li => li.textContent.includes('animate'))", Duration::from_secs(120));
    let job = &studio.get_json("/api/jobs")[0];
    assert_eq!(job["command"], "animate");
    assert_eq!(job["options"]["by_colour"], json!(true), "{job}");
    assert_eq!(job["options"]["click"], click, "{job}");
    let made = studio.get_json(&format!("/api/media/{}", job["output"]));
    assert_eq!(
        (
            made["frames"].as_u64(),
            made["width"].as_u64(),
            made["height"].as_u64()
        ),
        (Some(5), Some(160), Some(120)),
        "{made}"
    );
    browser.click("#queue li.state-done .open");
    browser.until("the animation is open", "return state.selected && state.selected.name === 'disc.animate.mp4' && document.getElementById('video').readyState >= 2", Duration::from_secs(30));
    browser.shot("animated");

    no_errors(&browser);
    eprintln!("screenshots in {}", shots.display());
    drop(browser);
    drop(studio);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Uploads `path` through the page's file picker and waits until it is chosen.
fn upload(browser: &Browser, path: &Path) {
    let picker = browser.find("#file");
    browser.call(
        "POST",
        &format!("/element/{picker}/value"),
        Some(json!({"text": s(path)})),
    );
    let name = path.file_name().unwrap().to_str().unwrap();
    browser.until(
        &format!("{name} is in the library and chosen"),
        &format!(
            "return state.selected && state.selected.name === {}",
            json!(name)
        ),
        Duration::from_secs(30),
    );
}

#[test]
fn a_user_trains_a_model_watches_it_learn_and_swaps_with_it() {
    let dir = std::env::temp_dir().join(format!("reel-studio-train-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("studio-training-page");
    let _ = std::fs::remove_dir_all(&shots);
    let grace = dir.join("grace.mp4");
    grace_clip(&grace);
    let performer = dir.join("performer.mp4");
    performer_clip(&performer);
    let studio = Studio::start(&dir.join("store"), &dir.join("data"), &[]);
    let mut browser = Browser::start(&dir.join("downloads"), &shots);
    open_page(&mut browser, &studio);
    upload(&browser, &grace);
    upload(&browser, &performer);

    // Train: the performer chosen in the library, the source picked in the panel.
    choose(&browser, "train");
    let grace_id = studio
        .get_json("/api/media")
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "grace.mp4")
        .unwrap()["id"]
        .clone();
    for (name, value) in [
        ("source", json!(grace_id.to_string())),
        ("iterations", json!(100)),
        ("resolution", json!(32)),
        ("batch", json!(4)),
        ("every", json!(2)),
    ] {
        set(&browser, name, value);
    }
    assert_eq!(
        browser.script(
            "return document.getElementById('settings').elements.namedItem('iterations').type"
        ),
        "number",
        "a count is typed, not a slider"
    );
    browser.shot("train-settings");
    browser.click("#run");
    browser.until("the loss curve is drawn as it trains", "const l = document.querySelector('#queue li.state-running .training polyline'); return l && l.getAttribute('points').split(' ').length >= 3", Duration::from_secs(240));
    browser.until("the preview grid is shown as it trains", "const g = document.querySelector('#queue li .training img.grid'); return g && g.complete && g.naturalWidth === 160", Duration::from_secs(120));
    browser.script("document.getElementById('queue-section').scrollIntoView()");
    browser.shot("training");
    browser.until("the training is done", "return [...document.querySelectorAll('#queue li.state-done')].some(li => li.textContent.includes('train'))", Duration::from_secs(300));
    let caption = browser.text("#queue li.state-done .training");
    assert!(
        caption.contains("iteration 100 of 100") && caption.contains("held-back SSIM"),
        "{caption}"
    );
    // The library changed (the model came): the panel kept what the user set.
    for (name, value) in [
        ("iterations", "100"),
        ("resolution", "32"),
        ("source", grace_id.to_string().as_str()),
    ] {
        assert_eq!(
            browser.script(&format!(
                "return document.getElementById('settings').elements.namedItem('{name}').value"
            )),
            json!(value),
            "{name}"
        );
    }
    browser.script("document.getElementById('queue-section').scrollIntoView()");
    browser.shot("trained");

    // The model in the library: opened, it shows its grid.
    browser.click("#queue li.state-done .open");
    browser.until("the model is open", "return state.selected && state.selected.kind === 'model' && document.getElementById('still').naturalWidth === 160", Duration::from_secs(30));
    assert!(browser.text("#media").contains("swap model, 32 px faces"));
    assert_eq!(
        browser.script("return document.getElementById('analyze').disabled"),
        json!(true)
    );

    // Swap with it on the performer; the model's own settings show once it is picked.
    browser.script("const li = [...document.querySelectorAll('#media li')].find(li => li.textContent.includes('performer.mp4')); li.click();");
    browser.until(
        "the performer is chosen",
        "return state.selected && state.selected.name === 'performer.mp4'",
        Duration::from_secs(10),
    );
    choose(&browser, "swap");
    let hidden = "return document.getElementById('settings').elements.namedItem('steady').closest('label').hidden";
    assert_eq!(
        browser.script(hidden),
        json!(true),
        "steady is hidden without a model"
    );
    let model_id = studio.get_json("/api/jobs").as_array().unwrap()[0]["output"].clone();
    browser.script(&format!("const m = document.getElementById('settings').elements.namedItem('model'); m.value = {}; m.dispatchEvent(new Event('change'));", json!(model_id.to_string())));
    assert_eq!(
        browser.script(hidden),
        json!(false),
        "steady shows with a model"
    );
    set(&browser, "no_consent_check", json!("the studio's own test"));
    browser.shot("swap-settings");
    browser.click("#run");
    browser.until("the swap is done", "return [...document.querySelectorAll('#queue li.state-done')].some(li => li.textContent.includes('swap of performer.mp4'))", Duration::from_secs(300));
    let job = &studio.get_json("/api/jobs")[0];
    assert_eq!(
        (job["command"].as_str(), &job["options"]["model"]),
        (Some("swap"), &model_id),
        "{job}"
    );
    assert!(
        job["options"].get("photo").is_none(),
        "no photo was sent: {job}"
    );
    browser.click("#queue li.state-done .open");
    browser.until("the swapped clip is open", "return state.selected && state.selected.name === 'performer.swap.mp4' && document.getElementById('video').readyState >= 2", Duration::from_secs(30));
    assert_eq!(
        studio.get_json(&format!("/api/media/{}", job["output"]))["frames"],
        40
    );
    browser.shot("swapped");

    no_errors(&browser);
    eprintln!("screenshots in {}", shots.display());
    drop(browser);
    drop(studio);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_user_checks_the_story_and_watches_the_film_play_live() {
    let dir = std::env::temp_dir().join(format!("reel-studio-film-page-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("studio-film-page");
    let _ = std::fs::remove_dir_all(&shots);
    let story = example_story(&dir.join("demo"));
    let rag = dir.join("rag.wav");
    common::rag(&rag, 16);
    let studio = Studio::start(
        &dir.join("store"),
        &dir.join("data"),
        &["--film", s(&story)],
    );
    let mut browser = Browser::start(&dir.join("downloads"), &shots);
    open_page(&mut browser, &studio);

    // The story, checked, beside the library.
    let verdict = browser.until("the story is shown", "const f = document.getElementById('film'); return !f.hidden && document.getElementById('film-verdict').textContent", Duration::from_secs(10));
    assert!(verdict.as_str().unwrap().contains("8 nodes"), "{verdict}");
    assert!(browser.text("#film-outline").contains("jazz -> club"));

    // The live film from a sound, played in real time: the film's frames in the queue.
    upload(&browser, &rag);
    assert!(
        browser.text("#media").contains("sound, 16.0 s"),
        "{}",
        browser.text("#media")
    );
    choose(&browser, "film_live");
    assert!(
        browser.text("#about").contains("(story: story.toml)"),
        "{}",
        browser.text("#about")
    );
    browser.shot("film-settings");
    browser.click("#run");
    // The film lasts 15 s of real time: on a loaded machine it may end before it is stopped.
    browser.until(
        "the live film shows in the queue",
        "const i = document.querySelector('#queue li .live img'); return i && i.naturalWidth > 0",
        Duration::from_secs(60),
    );
    let heard = browser.until("what it hears is shown", "const p = document.querySelector('#queue li .live pre'); return p && p.textContent.includes('scene') && p.textContent", Duration::from_secs(30));
    let heard = heard.as_str().unwrap();
    assert!(
        heard.contains("listening to rag.wav (played in real time)"),
        "{heard}"
    );
    browser.script("document.getElementById('queue-section').scrollIntoView()");
    browser.shot("film-live");
    // Found and clicked in one step: the queue is drawn again at every event.
    let stop = browser.script("const b = document.querySelector('#queue li.state-running .cancel'); if (!b) return 'ended first'; const t = b.textContent; b.click(); return t;");
    assert!(stop == "Stop" || stop == "ended first", "{stop}");
    eprintln!("the live film: {stop}");
    browser.until("the film is stopped and kept", "return [...document.querySelectorAll('#queue li.state-done')].some(li => li.textContent.includes('film_live'))", Duration::from_secs(60));
    let job = &studio.get_json("/api/jobs")[0];
    assert_eq!(
        (
            job["command"].as_str(),
            job["input"].as_array().map(Vec::len)
        ),
        (Some("film_live"), Some(1)),
        "{job}"
    );
    browser.click("#queue li.state-done .open");
    browser.until("the recording is open", "return state.selected && state.selected.name === 'rag.film_live.mp4' && document.getElementById('video').readyState >= 2", Duration::from_secs(30));
    browser.shot("film-recorded");

    no_errors(&browser);
    eprintln!("screenshots in {}", shots.display());
    drop(browser);
    drop(studio);
    let _ = std::fs::remove_dir_all(&dir);
}
