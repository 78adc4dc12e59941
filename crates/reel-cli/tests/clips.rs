//! `reel join`, `concat`, `trim` and `retime` end to end: exact frame counts and times, every
//! source frame where it belongs, the sound in step with the picture across the joins.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Scratch, ffmpeg, frames, reel, s, sample};
use reel_image::Image;

/// Presentation times of every video frame, in seconds.
fn times(path: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "frame=pts_time", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect()
}

/// A stream's duration as ffprobe reads it (`v:0`, `a:0`).
fn duration(path: &Path, stream: &str) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream])
        .args(["-show_entries", "stream=duration", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{} has no {stream}", path.display()))
}

/// A black clip with one white frame at `flash`, and a 1 kHz beep starting at that frame's
/// time (or no sound).
fn flash_clip(
    dir: &Scratch,
    name: &str,
    size: &str,
    fps: u32,
    frames: u32,
    flash: u32,
    sound: bool,
) -> PathBuf {
    let path = dir.path(name);
    let seconds = frames as f64 / fps as f64;
    let video = format!(
        "color=c=black:s={size}:r={fps}:d={seconds},drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='eq(n\\,{flash})'"
    );
    let at = flash as f64 / fps as f64;
    let audio = format!(
        "sine=f=1000:r=48000:d={seconds},volume=0:enable='not(between(t\\,{at}\\,{}))'",
        at + 0.1
    );
    let mut args = vec!["-f", "lavfi", "-i", &video];
    if sound {
        args.extend(["-f", "lavfi", "-i", &audio, "-c:a", "aac", "-b:a", "192k"]);
    }
    args.extend(["-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", "-t"]);
    let length = format!("{seconds}");
    args.push(&length);
    args.push(s(&path));
    ffmpeg(&args);
    path
}

fn brightness(image: &Image) -> f64 {
    image.data.iter().map(|&v| v as f64).sum::<f64>() / image.data.len() as f64
}

/// Where the beeps start, in seconds: the first loud sample after each quiet stretch.
fn onsets(path: &Path) -> Vec<f64> {
    let rate = 16_000;
    let sound = reel_video::read_audio(path, rate).unwrap();
    let mut found = Vec::new();
    let mut quiet = 0usize;
    for (i, v) in sound.iter().enumerate() {
        // (lavfi's sine is at an eighth of full scale)
        if v.abs() > 0.05 {
            if quiet > rate as usize / 10 {
                found.push(i as f64 / rate as f64);
            }
            quiet = 0;
        } else {
            quiet += 1;
        }
    }
    found
}

/// Mean squared difference of two frames.
fn distance(a: &Image, b: &Image) -> f64 {
    a.data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.data.len() as f64
}

/// Every output frame in `range` is closer to its own source frame than to the source
/// frames either side of it: none repeated, none dropped.
fn each_in_place(
    output: &[Image],
    source: &[Image],
    out_start: usize,
    src_start: usize,
    count: usize,
) {
    for k in 0..count {
        let out = &output[out_start + k];
        let own = distance(out, &source[src_start + k]);
        let before = (src_start + k).checked_sub(1);
        for other in [before, Some(src_start + k + 1)].into_iter().flatten() {
            if let Some(o) = source.get(other) {
                let d = distance(out, o);
                assert!(
                    own < d,
                    "output frame {} is closer to source {other} ({d:.1}) than to {} ({own:.1})",
                    out_start + k,
                    src_start + k
                );
            }
        }
    }
}

#[test]
fn a_crossfade_join_keeps_every_frame_and_the_sound_in_step() {
    let dir = Scratch::new("join-sync");
    let a = flash_clip(&dir, "a.mp4", "320x240", 25, 50, 30, true);
    let b = flash_clip(&dir, "b.mp4", "320x240", 25, 50, 20, true);
    // Another shape and rate, no sound: letterboxed, resampled, silent.
    let c = flash_clip(&dir, "c.mp4", "480x240", 30, 30, 100, false);
    let out = dir.path("joined.mp4");
    let run = reel(&[
        "join",
        s(&a),
        s(&b),
        s(&c),
        "--transition",
        "crossfade",
        "--seconds",
        "0.4",
        "-o",
        s(&out),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("480x240 is another shape"), "{stderr}");
    assert!(stderr.contains("30 fps resampled to 25 fps"), "{stderr}");
    // 50 + 50 + 25 frames, two transitions of 10 shared frames.
    let shown = frames(&out);
    assert_eq!(shown.len(), 105);
    let t = times(&out);
    assert_eq!(t.len(), 105);
    for (j, time) in t.iter().enumerate() {
        assert!((time - j as f64 / 25.0).abs() < 1e-3, "frame {j} at {time}");
    }
    // The flashes where the clips put them: a's frame 30, b's frame 20 after a's 40 unshared.
    let light: Vec<f64> = shown.iter().map(brightness).collect();
    let flashes: Vec<usize> = (0..light.len()).filter(|&j| light[j] > 200.0).collect();
    assert_eq!(flashes, vec![30, 60], "brightness {light:?}");
    // And the beeps under them, within one frame.
    let beeps = onsets(&out);
    assert_eq!(beeps.len(), 2, "beeps at {beeps:?}");
    for (beep, frame) in beeps.iter().zip([30, 60]) {
        assert!(
            (beep - frame as f64 / 25.0).abs() < 0.04,
            "beep at {beep}, flash at frame {frame}"
        );
    }
    assert!((duration(&out, "a:0") - 105.0 / 25.0).abs() < 0.04);
    // The letterboxed clip: bars at the top and bottom of the last frames.
    let last = shown.last().unwrap();
    assert_eq!((last.width, last.height), (320, 240));
}

#[test]
fn concat_of_real_clips_is_frame_exact() {
    let dir = Scratch::new("concat");
    // Motion in every frame (24 fps), then a clip of another size and rate (30.12 fps).
    let scrolling = sample("scrolling.mp4");
    let speaker = sample("speaker.mp4");
    let out = dir.path("both.mp4");
    let run = reel(&["concat", s(&scrolling), s(&speaker), "-o", s(&out)]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let source = frames(&scrolling);
    assert_eq!(source.len(), 240);
    let shown = frames(&out);
    // All of the first clip, then the second's 237 frames at 30.12 fps as 24 fps.
    let rest = shown.len() - 240;
    assert!(
        (rest as f64 - 237.0 / 30.12 * 24.0).abs() <= 1.0,
        "{} frames",
        shown.len()
    );
    each_in_place(&shown, &source, 0, 0, 240);
    let t = times(&out);
    assert_eq!(t.len(), shown.len());
    for (j, time) in t.iter().enumerate() {
        assert!((time - j as f64 / 24.0).abs() < 1e-3, "frame {j} at {time}");
    }
    let seconds = shown.len() as f64 / 24.0;
    let sound = duration(&out, "a:0");
    assert!(
        (sound - seconds).abs() < 0.042,
        "sound {sound} s, picture {seconds} s"
    );
    // The credentials name both clips.
    let verify = reel(&["verify", s(&out), "--json"]);
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        report.contains("scrolling.mp4") && report.contains("speaker.mp4"),
        "{report}"
    );
}

#[test]
fn trim_keeps_exactly_the_frames_asked_for() {
    let dir = Scratch::new("trim");
    let scrolling = sample("scrolling.mp4");
    let source = frames(&scrolling);
    let out = dir.path("cut.mp4");
    let run = reel(&[
        "trim",
        s(&scrolling),
        "--from",
        "30f",
        "--to",
        "90f",
        "-o",
        s(&out),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let shown = frames(&out);
    assert_eq!(shown.len(), 60);
    each_in_place(&shown, &source, 0, 30, 60);
    let t = times(&out);
    assert!(t[0].abs() < 1e-3, "starts at {}", t[0]);
    assert!((duration(&out, "a:0") - 60.0 / 24.0).abs() < 0.042);
    // By time: the frames shown from 1.5 s to 3.5 s (frames 36 to 83 at 24 fps).
    let timed = dir.path("timed.mp4");
    let run = reel(&[
        "trim",
        s(&scrolling),
        "--from",
        "1.5",
        "--length",
        "2",
        "-o",
        s(&timed),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let shown = frames(&timed);
    assert_eq!(shown.len(), 48);
    each_in_place(&shown, &source, 0, 36, 48);
}

#[test]
fn retime_doubles_the_rate_and_slows_the_sound_without_changing_its_pitch() {
    let dir = Scratch::new("retime");
    let head = sample("talking_head.mp4");
    let out = dir.path("double.mp4");
    let run = reel(&["retime", s(&head), "--fps", "2x", "-o", s(&out)]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let source = frames(&head);
    let shown = frames(&out);
    // Each source frame, and one made after it (the last is held for its own length).
    assert_eq!(shown.len(), 2 * source.len());
    for (j, frame) in shown.iter().enumerate().step_by(2) {
        let d = distance(frame, &source[j / 2]);
        assert!(d < 12.0, "frame {j} is not source frame {}: {d:.1}", j / 2);
    }
    // The clip is at 29.97 (2997/100) fps.
    let seconds = shown.len() as f64 * 100.0 / 5994.0;
    assert!((duration(&out, "a:0") - seconds).abs() < 0.034);

    // Half speed: twice as long, and a 440 Hz tone stays at 440 Hz.
    let tone = dir.path("tone.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x120:r=25:d=1",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:r=48000:d=1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-t",
        "1",
        s(&tone),
    ]);
    let slow = dir.path("slow.mp4");
    let run = reel(&["retime", s(&tone), "--speed", "0.5", "-o", s(&slow)]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(frames(&slow).len(), 50);
    assert!((duration(&slow, "a:0") - 2.0).abs() < 0.04);
    let sound = reel_video::read_audio(&slow, 48_000).unwrap();
    let middle = &sound[24_000..72_000];
    let crossings = middle
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    assert!(
        (crossings as f64 - 440.0).abs() < 6.0,
        "{crossings} cycles in a second"
    );
}

#[test]
fn bad_joins_are_refused_and_leave_nothing() {
    let dir = Scratch::new("join-bad");
    let a = flash_clip(&dir, "a.mp4", "160x120", 25, 20, 5, true);
    let still = sample("portrait.jpg");
    let out = dir.path("out.mp4");
    let cases: Vec<Vec<&str>> = vec![
        // A transition longer than a clip.
        vec!["join", s(&a), s(&a), "--seconds", "2", "-o", s(&out)],
        // No length at all.
        vec!["join", s(&a), s(&a), "--seconds", "0", "-o", s(&out)],
        // A still where a clip is needed.
        vec!["join", s(&a), s(&still), "-o", s(&out)],
        // One clip.
        vec!["join", s(&a), "-o", s(&out)],
        // The output is an input.
        vec!["concat", s(&a), s(&a), "-o", s(&a)],
        // Nothing between the points.
        vec!["trim", s(&a), "--from", "10f", "--to", "5f", "-o", s(&out)],
        vec!["retime", s(&a), "--speed", "0", "-o", s(&out)],
    ];
    for args in cases {
        let run = reel(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    assert_eq!(dir.listing(), vec!["a.mp4"]);
}

#[test]
fn flow_and_morph_transitions_move_smoothly_from_one_shot_to_the_next() {
    let dir = Scratch::new("join-flow");
    // A second and a half of each sample: the transitions' frames and a few either side.
    let (head, speaker) = (dir.path("head.mp4"), dir.path("speaker.mp4"));
    for (from, to) in [("talking_head.mp4", &head), ("speaker.mp4", &speaker)] {
        ffmpeg(&[
            "-i",
            s(&sample(from)),
            "-frames:v",
            "45",
            "-c:a",
            "copy",
            s(to),
        ]);
    }
    let cut = dir.path("cut.mp4");
    assert!(
        reel(&["concat", s(&head), s(&speaker), "-o", s(&cut)])
            .status
            .success()
    );
    let cut = frames(&cut);
    // The cut jumps from one shot to the other; every step of a transition is a fraction of it.
    let jump = distance(&cut[44], &cut[45]);
    for transition in ["flow", "morph"] {
        let out = dir.path(&format!("{transition}.mp4"));
        let run = reel(&[
            "join",
            s(&head),
            s(&speaker),
            "--transition",
            transition,
            "--seconds",
            "0.5",
            "-o",
            s(&out),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let shown = frames(&out);
        // 15 frames shared.
        assert_eq!(shown.len(), cut.len() - 15);
        let steps: Vec<f64> = (28..46)
            .map(|j| distance(&shown[j], &shown[j + 1]))
            .collect();
        let largest = steps.iter().cloned().fold(0.0, f64::max);
        assert!(
            largest < jump / 4.0,
            "{transition}: steps {steps:?}, the cut's jump {jump:.0}"
        );
    }
}

#[test]
fn a_clip_whose_sound_starts_after_its_picture_stays_in_step() {
    let dir = Scratch::new("join-offset");
    // The flash at frame 30 (1.2 s); the beep 0.7 s into a sound stream that starts at 0.5 s.
    let picture = flash_clip(&dir, "picture.mp4", "160x120", 25, 50, 30, false);
    let sound = flash_clip(&dir, "sound.mp4", "160x120", 25, 50, 1000, true);
    let beep = dir.path("beep.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=f=1000:r=48000:d=1.5,volume=0:enable='not(between(t\\,0.7\\,0.8))'",
        s(&beep),
    ]);
    let late = dir.path("late.mp4");
    ffmpeg(&[
        "-i",
        s(&picture),
        "-itsoffset",
        "0.5",
        "-i",
        s(&beep),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        s(&late),
    ]);
    let out = dir.path("joined.mp4");
    let run = reel(&["concat", s(&late), s(&sound), "-o", s(&out)]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let beeps = onsets(&out);
    assert!(
        !beeps.is_empty() && (beeps[0] - 1.2).abs() < 0.04,
        "beeps at {beeps:?}, the flash at 1.2 s"
    );
}
