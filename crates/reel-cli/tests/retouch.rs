//! `reel beauty`, `reel deage` and `reel process` end to end on the sample footage.
//! Needs `reel setup`.

use std::path::Path;

mod common;
use common::*;

#[test]
fn processors_keep_every_frame_and_the_audio() {
    let dir = Scratch::new("frames");
    let input = sample("talking_head.mp4");
    let photo = sample("grace_hopper.jpg");
    for (name, args) in [
        (
            "swap.mp4",
            vec!["swap", "--photo", s(&photo), "--no-consent-check", "test"],
        ),
        (
            "swap-histogram.mp4",
            vec![
                "swap",
                "--photo",
                s(&photo),
                "--color",
                "histogram",
                "--no-consent-check",
                "test",
            ],
        ),
        ("beauty.mp4", vec!["beauty", "--strength", "0.8"]),
        ("deage.mov", vec!["deage", "--years", "15"]),
        (
            "both.mp4",
            vec!["process", "--beauty", "0.5", "--deage", "15"],
        ),
    ] {
        let out = dir.path(name);
        let mut a = args.clone();
        a.extend([s(&input), "-o", s(&out), "--quiet"]);
        let r = reel(&a);
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert_eq!(count(&out, "v:0"), count(&input, "v:0"), "{name}: frames");
        assert_eq!(
            count(&out, "a:0"),
            count(&input, "a:0"),
            "{name}: audio packets"
        );
    }
}

#[test]
fn compare_sheets_show_one_frame_before_and_after() {
    let dir = Scratch::new("sheet");
    let sheet = dir.path("sheet.png");
    let r = reel(&[
        "deage",
        s(&sample("talking_head.mp4")),
        "--years",
        "25",
        "--frame",
        "90",
        "--compare",
        s(&sheet),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let img = &frames(&sheet)[0];
    assert_eq!((img.width, img.height), (640 * 2 + 4, 480));
    let (left, right) = (frames(&sample("talking_head.mp4")).swap_remove(90), img);
    // The left half is the untouched frame 90, but for the watermark over the whole sheet.
    let mut se = 0.0;
    for y in 0..480 {
        for x in 0..640 {
            let (a, b) = (left.pixel(x, y), right.pixel(x, y));
            se += (0..3)
                .map(|c| (a[c] as f64 - b[c] as f64).powi(2))
                .sum::<f64>();
        }
    }
    let psnr = 10.0 * (255.0f64.powi(2) / (se / (480.0 * 640.0 * 3.0))).log10();
    assert!(
        psnr > 40.0,
        "the left half is frame 90 as decoded ({psnr:.1} dB)"
    );
}

#[test]
fn bad_settings_are_refused_with_exit_code_2() {
    let input = sample("portrait.jpg");
    for args in [
        vec!["beauty", s(&input), "-o", "x.png", "--strength", "1.5"],
        vec!["beauty", s(&input), "-o", "x.png", "--under-eye", "-1"],
        vec!["deage", s(&input), "-o", "x.png", "--years", "0"],
        vec!["deage", s(&input), "-o", "x.png", "--years", "90"],
        vec!["process", s(&input), "-o", "x.png"],
    ] {
        let r = reel(&args);
        assert_eq!(
            r.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(!Path::new("x.png").exists());
    }
}

#[test]
fn only_the_person_in_the_reference_photo_is_edited() {
    let dir = Scratch::new("choose");
    // Two people side by side: Grace Hopper (a still) on the left, the talking head on the right.
    let pair = dir.path("pair.mkv");
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        s(&sample("grace_hopper.jpg")),
        "-i",
        s(&sample("talking_head.mp4")),
        "-filter_complex",
        "[0]scale=300:352,setsar=1[a];[1]scale=470:352,setsar=1[b];[a][b]hstack",
        "-frames:v",
        "30",
        "-an",
        "-c:v",
        "ffv1",
        s(&pair),
    ]);
    // The reference: the same man in other footage (the speaker clip).
    let reference = dir.path("speaker.png");
    ffmpeg(&[
        "-i",
        s(&sample("speaker.mp4")),
        "-vf",
        "select=eq(n\\,150)",
        "-frames:v",
        "1",
        s(&reference),
    ]);
    let photo = sample("portrait.jpg");
    // Every output is watermarked: the baseline is the clip with the same mark and nothing
    // else, so that any difference from it is the processor's.
    let id = "00c0ffee00c0ffee";
    let marked = dir.path("marked");
    let r = reel(&[
        "mark",
        s(&pair),
        "-o",
        s(&marked),
        "--watermark-id",
        id,
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let a = frames(&marked.join("frame_%06d.png"));
    let changes_by = |edit: &[&str], reference: Option<&Path>| -> (f64, f64) {
        // A PNG sequence: lossless, so any change is the processor's.
        let out = dir.path("out");
        let _ = std::fs::remove_dir_all(&out);
        let mut args = edit.to_vec();
        args.extend([s(&pair), "-o", s(&out), "--quiet", "--watermark-id", id]);
        if let Some(r) = reference {
            args.extend(["--reference", s(r)]);
        }
        let r = reel(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let b = frames(&out.join("frame_%06d.png"));
        assert_eq!(a.len(), b.len());
        // Values that moved by more than the mark can move them: its corrections for the
        // picture (informed embedding) follow an edit anywhere in the frame, by a few levels.
        let diff = |x0: usize, x1: usize| -> f64 {
            let mut moved = 0.0;
            for (p, q) in a.iter().zip(&b) {
                for y in 0..p.height {
                    for x in x0..x1 {
                        for c in 0..3 {
                            let d = (p.pixel(x, y)[c] as f64 - q.pixel(x, y)[c] as f64).abs();
                            if d > 8.0 {
                                moved += d;
                            }
                        }
                    }
                }
            }
            moved
        };
        (diff(0, 300), diff(300, 770))
    };
    let changes = |reference: &Path| changes_by(&["beauty", "--strength", "1"], Some(reference));
    let (left, right) = changes(&reference);
    println!(
        "reference of the talking head: change on the left {left:.0}, on the right {right:.0}"
    );
    assert_eq!(left, 0.0, "Grace Hopper is untouched");
    assert!(right > 0.0, "the talking head was edited");
    // Someone who is in neither half: nobody is edited.
    let (left, right) = changes(&sample("astronaut.png"));
    assert_eq!(
        (left, right),
        (0.0, 0.0),
        "a stranger's photo selects nobody"
    );
    // Face replacement on the same two people: everyone by default, or only the chosen one.
    let swap = ["swap", "--photo", s(&photo), "--no-consent-check", "test"];
    let (left, right) = changes_by(&swap, None);
    assert!(left > 0.0 && right > 0.0, "both faces swapped");
    let (left, right) = changes_by(&swap, Some(&reference));
    assert_eq!(left, 0.0, "Grace Hopper keeps her face");
    assert!(right > 0.0, "the talking head's face was swapped");
}
