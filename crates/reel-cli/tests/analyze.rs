//! `reel faces analyze` end to end on the real sample footage and on bad or unusual inputs made
//! from it. Needs `reel setup` (models and samples).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::*;

use serde_json::Value;

fn streams(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-print_format",
            "json",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stream<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_str()
        .and_then(|s| s.parse().ok())
        .or(v[key].as_f64())
        .unwrap_or(f64::NAN)
}

fn analyze_json(input: &Path, dir: &Scratch, extra: &[&str]) -> (Output, Option<Value>) {
    let json = dir.path("faces.json");
    let _ = std::fs::remove_file(&json);
    let mut args = vec!["faces", "analyze", s(input), "--json", s(&json), "--quiet"];
    args.extend_from_slice(extra);
    let out = reel(&args);
    let parsed = std::fs::read(&json)
        .ok()
        .map(|b| serde_json::from_slice(&b).expect("valid JSON"));
    (out, parsed)
}

#[test]
fn preview_keeps_every_frame_the_duration_and_the_audio() {
    let dir = Scratch::new("roundtrip");
    let input = sample("talking_head.mp4");
    let preview = dir.path("preview.mp4");
    let (out, json) = analyze_json(&input, &dir, &["--preview", s(&preview)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (src, dst) = (streams(&input), streams(&preview));
    let (sv, dv) = (
        stream(&src, "video").unwrap(),
        stream(&dst, "video").unwrap(),
    );
    assert_eq!(sv["nb_read_frames"], dv["nb_read_frames"], "frame count");
    let frame = 1.0 / 29.97;
    assert!(
        (num(sv, "duration") - num(dv, "duration")).abs() <= frame,
        "video duration"
    );
    let (sa, da) = (
        stream(&src, "audio").unwrap(),
        stream(&dst, "audio").expect("audio kept"),
    );
    assert_eq!(sa["codec_name"], da["codec_name"]);
    assert_eq!(sa["nb_read_frames"], da["nb_read_frames"], "audio packets");
    assert_eq!(sa["sample_rate"], da["sample_rate"]);

    let json = json.unwrap();
    let frames = json["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 173);
    for f in frames {
        let faces = f["faces"].as_array().unwrap();
        assert_eq!(faces.len(), 1, "frame {}", f["index"]);
        assert_eq!(faces[0]["id"], 1, "one stable id");
        assert_eq!(faces[0]["landmarks"].as_array().unwrap().len(), 468);
        let yaw = faces[0]["pose"]["yaw"].as_f64().unwrap();
        assert!(yaw.abs() < 30.0, "a frontal speaker, yaw {yaw}");
    }
    assert_eq!(dir.listing(), ["faces.json", "preview.mp4"]);

    // A video of reel's making like any other: signed, and marked in its pixels.
    let r = reel(&["verify", s(&preview), "--json"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["c2pa"]["state"], "valid", "{v}");
    assert_eq!(v["watermark"]["matches_manifest"], true, "{v}");
}

#[test]
fn stills_and_image_sequences_work() {
    let dir = Scratch::new("stills");
    let (out, json) = analyze_json(
        &sample("portrait.jpg"),
        &dir,
        &["--preview", s(&dir.path("marked.png"))],
    );
    assert!(out.status.success());
    let json = json.unwrap();
    assert_eq!(json["frames"][0]["faces"].as_array().unwrap().len(), 1);
    assert!(dir.path("marked.png").exists());

    let seq = dir.path("seq");
    std::fs::create_dir_all(&seq).unwrap();
    ffmpeg(&[
        "-i",
        s(&sample("speaker.mp4")),
        "-frames:v",
        "12",
        s(&seq.join("f_%03d.png")),
    ]);
    let (out, json) = analyze_json(&seq.join("f_%03d.png"), &dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json.unwrap()["frames"].as_array().unwrap().len(), 12);
}

#[test]
fn unreadable_inputs_fail_clearly_and_leave_nothing() {
    let dir = Scratch::new("bad");
    let cases: Vec<(PathBuf, &str)> = {
        let text = dir.path("notes.mp4");
        std::fs::write(&text, "not a video at all").unwrap();
        let empty = dir.path("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        let bytes = std::fs::read(sample("talking_head.mp4")).unwrap();
        let truncated = dir.path("truncated.mp4");
        // The sample keeps its index at the end: cut it off and the file has no index at all.
        std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
        vec![
            (dir.path("missing.mp4"), "does not exist"),
            (text, "not a video"),
            (empty, "not a video"),
            (truncated, "not a video"),
        ]
    };
    for (input, message) in cases {
        let preview = dir.path("out.mp4");
        let out = reel(&[
            "faces",
            "analyze",
            s(&input),
            "--json",
            s(&dir.path("out.json")),
            "--preview",
            s(&preview),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{}: {stderr}", input.display());
        assert!(stderr.contains(message), "{}: {stderr}", input.display());
        assert!(!preview.exists() && !dir.path("out.json").exists());
        assert!(
            !dir.listing().iter().any(|n| n.contains("partial")),
            "{:?}",
            dir.listing()
        );
    }
    let out = reel(&[
        "faces",
        "analyze",
        s(&sample("portrait.jpg")),
        "--max-faces",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_video_with_no_frames_or_no_faces_is_reported() {
    let dir = Scratch::new("noface");
    let zero = dir.path("zero.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("speaker.mp4")),
        "-frames:v",
        "0",
        "-an",
        s(&zero),
    ]);
    let out = reel(&["faces", "analyze", s(&zero)]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The bookshelf behind the speaker: real footage, nobody in it.
    let shelf = dir.path("shelf.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("speaker.mp4")),
        "-vf",
        "crop=120:200:0:0",
        "-frames:v",
        "20",
        s(&shelf),
    ]);
    let (out, json) = analyze_json(&shelf, &dir, &[]);
    assert!(out.status.success());
    let json = json.unwrap();
    assert_eq!(json["summary"]["frames"], 20);
    assert_eq!(json["summary"]["frames_with_faces"], 0);
}

#[test]
fn many_faces_get_distinct_ids() {
    let dir = Scratch::new("crowd");
    // Twenty people: the portrait tiled 5 x 4 with varied brightness, as a short clip.
    let crowd = dir.path("crowd.mp4");
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        s(&sample("portrait.jpg")),
        "-filter_complex",
        "[0]scale=200:200,split=5[a][b][c][d][e];[a]eq=brightness=0.05[a1];[b]eq=brightness=-0.05[b1];\
         [a1][c][d][e][b1]hstack=5[r];[r]split=4[r1][r2][r3][r4];[r1][r2][r3][r4]vstack=4,format=yuv420p",
        "-frames:v",
        "6",
        s(&crowd),
    ]);
    let (out, json) = analyze_json(&crowd, &dir, &["--max-faces", "24", "--small-faces"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json.unwrap();
    for f in json["frames"].as_array().unwrap() {
        let faces = f["faces"].as_array().unwrap();
        assert_eq!(faces.len(), 20, "frame {}", f["index"]);
        let mut ids: Vec<u64> = faces.iter().map(|x| x["id"].as_u64().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 20);
    }
    assert_eq!(
        json["summary"]["tracks"].as_object().unwrap().len(),
        20,
        "ids stay the same"
    );
}

#[test]
fn unusual_frames_analyze_correctly() {
    let dir = Scratch::new("unusual");
    let src = sample("speaker.mp4");
    let cases = [
        ("uhd.mp4", "scale=3840:2160"),
        ("odd.mkv", "scale=641:481"),
        ("gray.mp4", "format=gray"),
        ("alpha.mov", "format=rgba"),
        ("clip.webm", "scale=320:240"),
        ("clip.gif", "scale=320:240"),
    ];
    for (name, filter) in cases {
        let input = dir.path(name);
        let codec: &[&str] = match name {
            "alpha.mov" => &["-c:v", "png"],
            "odd.mkv" => &["-c:v", "ffv1"],
            "clip.webm" => &["-c:v", "libvpx-vp9", "-b:v", "1M"],
            "clip.gif" => &[],
            _ => &["-c:v", "libx264"],
        };
        let mut args = vec!["-i", s(&src), "-vf", filter, "-frames:v", "8", "-an"];
        args.extend_from_slice(codec);
        args.push(s(&input));
        ffmpeg(&args);
        let preview = dir.path(&format!("preview-{name}.mp4"));
        let (out, json) = analyze_json(&input, &dir, &["--preview", s(&preview)]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = json.unwrap();
        assert_eq!(json["summary"]["frames"], 8, "{name}");
        assert_eq!(json["summary"]["frames_with_faces"], 8, "{name}");
        let info = streams(&preview);
        let v = stream(&info, "video").unwrap();
        assert_eq!(v["nb_read_frames"], "8", "{name}");
        assert_eq!(
            (v["width"].clone(), v["height"].clone()),
            (json["width"].clone(), json["height"].clone()),
            "{name}"
        );
    }
}

#[test]
fn a_small_face_is_found_by_default_and_the_short_range_detector_alone_gives_a_hint() {
    let dir = Scratch::new("tiny");
    // The speaker shrunk into a corner of a 1280x720 frame: the face is about 40 px across.
    let small = dir.path("small.mp4");
    ffmpeg(&[
        "-i",
        s(&sample("speaker.mp4")),
        "-vf",
        "scale=264:216,pad=1280:720:900:450",
        "-frames:v",
        "8",
        "-an",
        s(&small),
    ]);
    let out = reel(&["faces", "analyze", s(&small), "--short-range"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--small-faces"),
        "a hint names the remedy"
    );
    let (out, json) = analyze_json(&small, &dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = json.unwrap()["summary"]["frames_with_faces"]
        .as_u64()
        .unwrap();
    assert_eq!(
        found, 8,
        "the default search finds the small face in every frame"
    );
}

/// The centres of the six faces of the group photo (1280x886), checked by eye, and their size.
const GROUP: [(f32, f32); 6] = [
    (115.0, 337.0),
    (323.0, 214.0),
    (520.0, 347.0),
    (795.0, 421.0),
    (962.0, 142.0),
    (1182.0, 342.0),
];
const GROUP_FACE: f32 = 110.0;

/// How many of `truth` (face centres, with the faces' size) the analysis found, and how many
/// faces it found that are none of them.
fn matched(json: &Value, truth: &[(f32, f32)], size: f32) -> (usize, usize) {
    let centres: Vec<(f32, f32)> = json["frames"][0]["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let b: Vec<f32> = f["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0)
        })
        .collect();
    let near = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1) < size / 2.0;
    let found = truth
        .iter()
        .filter(|&&t| centres.iter().any(|&c| near(c, t)))
        .count();
    let stray = centres
        .iter()
        .filter(|&&c| !truth.iter().any(|&t| near(c, t)))
        .count();
    (found, stray)
}

#[test]
fn every_face_of_a_group_photo_and_of_a_crowd_is_found_by_default() {
    let dir = Scratch::new("group");
    let group = sample("group.jpg");
    // MediaPipe's own default, the short-range model, sees none of the six.
    let (out, json) = analyze_json(&group, &dir, &["--short-range"]);
    assert!(out.status.success());
    assert_eq!(matched(&json.unwrap(), &GROUP, GROUP_FACE), (0, 0));
    let (out, json) = analyze_json(&group, &dir, &[]);
    assert!(out.status.success());
    assert_eq!(
        matched(&json.unwrap(), &GROUP, GROUP_FACE),
        (6, 0),
        "six of six by default"
    );

    // Crowds made of the photo: four copies side by side in a 2560x1772 frame (larger than
    // 1080p), and nine at half size in 1920x1329 (faces about 55 px across).
    let crowd = |copies: usize, scale: f32| -> Vec<(f32, f32)> {
        let (w, h) = (1280.0 * scale, 886.0 * scale);
        (0..copies * copies)
            .flat_map(|i| {
                let (dx, dy) = ((i % copies) as f32 * w, (i / copies) as f32 * h);
                GROUP
                    .iter()
                    .map(move |&(x, y)| (x * scale + dx, y * scale + dy))
            })
            .collect()
    };
    // The photo laid out by an ffmpeg filter, then analysed for up to 100 faces.
    let analysed = |name: &str, layout: &str| -> Value {
        let path = dir.path(name);
        ffmpeg(&["-i", s(&group), "-filter_complex", layout, s(&path)]);
        let (out, json) = analyze_json(&path, &dir, &["--max-faces", "100"]);
        assert!(out.status.success(), "{name}");
        json.unwrap()
    };
    let four = analysed(
        "four.png",
        "[0]split=4[a][b][c][d];[a][b]hstack[t];[c][d]hstack[u];[t][u]vstack",
    );
    assert_eq!(matched(&four, &crowd(2, 1.0), GROUP_FACE), (24, 0));
    let nine = analysed(
        "nine.png",
        "[0]scale=640:443,split=3[a][b][c];[a][b][c]hstack=3,split=3[r][s][t];[r][s][t]vstack=3",
    );
    let (found, stray) = matched(&nine, &crowd(3, 0.5), GROUP_FACE / 2.0);
    assert!(
        found >= 52 && stray == 0,
        "{found} of 54 found, {stray} strays"
    );
}

#[test]
fn a_killed_run_leaves_no_output_and_the_next_run_cleans_up() {
    let dir = Scratch::new("killed");
    let long = dir.path("long.mp4");
    ffmpeg(&[
        "-stream_loop",
        "3",
        "-i",
        s(&sample("talking_head.mp4")),
        "-c",
        "copy",
        s(&long),
    ]);
    let preview = dir.path("preview.mp4");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reel"))
        .args([
            "faces",
            "analyze",
            s(&long),
            "--preview",
            s(&preview),
            "--quiet",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let finished = child.try_wait().unwrap().is_some();
    child.kill().unwrap();
    child.wait().unwrap();
    if !finished {
        assert!(
            !preview.exists(),
            "no output under the final name after a kill"
        );
    }
    let out = reel(&[
        "faces",
        "analyze",
        s(&long),
        "--preview",
        s(&preview),
        "--quiet",
    ]);
    assert!(out.status.success());
    assert!(preview.exists());
    let left: Vec<String> = dir
        .listing()
        .into_iter()
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(
        left.is_empty(),
        "stale partial files were cleaned: {left:?}"
    );
}

#[test]
fn ids_survive_a_crossing() {
    let dir = Scratch::new("crossing");
    // Grace Hopper slides right and passes behind the astronaut, who slides left.
    let clip = dir.path("crossing.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=800x400:r=25:d=3",
        "-loop",
        "1",
        "-i",
        s(&sample("grace_hopper.jpg")),
        "-loop",
        "1",
        "-i",
        s(&sample("astronaut.png")),
        "-filter_complex",
        "[1]crop=400:400:60:20,scale=280:280[a];[2]crop=260:260:130:10,scale=280:280[b];\
         [0][a]overlay=x='20+t*170':y=60:shortest=1[ab];[ab][b]overlay=x='500-t*170':y=60:shortest=1",
        "-t",
        "3",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        s(&clip),
    ]);
    let (out, json) = analyze_json(&clip, &dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json.unwrap();
    let frames = json["frames"].as_array().unwrap();
    let ids_by_x = |f: &Value| -> Vec<(f64, u64)> {
        let mut v: Vec<(f64, u64)> = f["faces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["bbox"][0].as_f64().unwrap(), x["id"].as_u64().unwrap()))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let (first, last) = (ids_by_x(&frames[0]), ids_by_x(frames.last().unwrap()));
    assert_eq!(first.len(), 2);
    assert_eq!(last.len(), 2);
    // Each face ends on the other side with the id it started with.
    assert_eq!(
        first[0].1, last[1].1,
        "Grace Hopper keeps her id through being hidden"
    );
    assert_eq!(first[1].1, last[0].1, "the astronaut keeps hers");
    assert_eq!(json["summary"]["tracks"].as_object().unwrap().len(), 2);
}
