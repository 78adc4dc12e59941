//! What the end-to-end tests share: running reel, the sample media, scratch directories, ffmpeg.
// Each test file uses its own share of these.
#![allow(dead_code)]

pub mod studio;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reel_image::Image;
use reel_video::{Decoder, Frame};

/// Runs the reel program; a panic is a failure whatever the test expects.
pub fn reel(args: &[&str]) -> Output {
    let data = std::env::temp_dir().join(format!("reel-test-data-{}", std::process::id()));
    reel_with_data(args, &data)
}

/// Runs reel with its user data (the consent register) in `data`.
pub fn reel_with_data(args: &[&str], data: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_reel"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env("REEL_DATA", data)
        .output()
        .expect("reel runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "reel panicked: {stderr}");
    out
}

/// A sample from `reel setup`.
pub fn sample(name: &str) -> PathBuf {
    let p = reel_assets::samples_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `reel setup` first",
        p.display()
    );
    p
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg {args:?}");
}

/// Forty frames of Grace Hopper's portrait moved about (zoomed, panned, turned) by ffmpeg: a
/// face to learn from a still.
pub fn grace_clip(out: &Path) {
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        s(&sample("grace_hopper.jpg")),
        "-vf",
        "scale=1024:-2,zoompan=z='1.1+0.1*sin(on/9)':x='iw/2-(iw/zoom/2)+30*sin(on/7)':y='ih/2-(ih/zoom/2)+20*cos(on/5)':d=1:s=512x600:fps=25,rotate='0.08*sin(t*3)'",
        "-frames:v",
        "40",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        s(out),
    ]);
}

/// The example story of examples/film with its media, made in `dir`: its story file.
pub fn example_story(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let made = Command::new("bash")
        .arg(root.join("examples/film/make_media.sh"))
        .arg(dir)
        .env("REEL", env!("CARGO_BIN_EXE_reel"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(made, "examples/film/make_media.sh");
    dir.join("story.toml")
}

/// The first `seconds` of the Maple Leaf Rag played on the SoundFont piano, as a WAV.
pub fn rag(out: &Path, seconds: u32) {
    let r = reel(&[
        "synth",
        s(&sample("maple_leaf_rag.mid")),
        "-o",
        s(out),
        "--seconds",
        &seconds.to_string(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

/// The first forty frames of the talking head, sound and all.
pub fn performer_clip(out: &Path) {
    ffmpeg(&[
        "-i",
        s(&sample("talking_head.mp4")),
        "-frames:v",
        "40",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        s(out),
    ]);
}

/// Frames ffprobe counts in a stream (`v:0`, `a:0`).
pub fn count(path: &Path, stream: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", stream])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every frame of a video or image sequence.
pub fn frames(path: &Path) -> Vec<Image> {
    let mut d = Decoder::open(path).unwrap();
    let mut f = Frame::default();
    let mut v = Vec::new();
    while d.next_frame(&mut f).unwrap() {
        v.push(f.image.clone());
    }
    v
}

/// A directory of its own for one test, removed afterwards.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("reel-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Everything in the directory, to check that failures leave nothing behind.
    pub fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
