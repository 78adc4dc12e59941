//! Frames rebuilt between real frames: every other frame of the sample clips dropped, made
//! again from its neighbours, and measured against the real one (PSNR), beside ffmpeg's
//! motion-compensated `minterpolate` and plain blending on the same frames.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use reel_clips::flow::{FlowSettings, Pyramid};
use reel_clips::retime::Between;
use reel_image::Image;
use reel_video::{Decoder, Frame};

fn sample(name: &str) -> std::path::PathBuf {
    let p = reel_assets::samples_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `reel setup` first",
        p.display()
    );
    p
}

fn frames(name: &str, count: usize) -> Vec<Image> {
    let mut decoder = Decoder::open(&sample(name)).unwrap();
    let mut frame = Frame::default();
    let mut all = Vec::new();
    while all.len() < count && decoder.next_frame(&mut frame).unwrap() {
        all.push(frame.image.clone());
    }
    all
}

fn psnr(a: &Image, b: &Image) -> f64 {
    let mse = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.data.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-10)).log10()
}

/// The odd frames as ffmpeg's `minterpolate` makes them from the even ones (its default,
/// motion-compensated mode).
fn minterpolate(evens: &[Image]) -> Vec<Image> {
    let (w, h) = (evens[0].width, evens[0].height);
    let mut child = Command::new("ffmpeg")
        .args([
            "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        ])
        .args(["-s", &format!("{w}x{h}"), "-r", "15", "-i", "-"])
        .args([
            "-vf",
            "minterpolate=fps=30",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input: Vec<Vec<u8>> = evens.iter().map(|f| f.data.clone()).collect();
    let writer = std::thread::spawn(move || {
        for f in input {
            stdin.write_all(&f).unwrap();
        }
    });
    let mut bytes = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    let made: Vec<Image> = bytes
        .chunks_exact(w * h * 3)
        .map(|c| Image {
            width: w,
            height: h,
            data: c.to_vec(),
        })
        .collect();
    // Its even frames are the ones it was given.
    for (k, even) in evens.iter().enumerate().take(made.len() / 2) {
        assert!(
            psnr(&made[2 * k], even) > 45.0,
            "minterpolate's frame {} is not the source's",
            2 * k
        );
    }
    // (it ends at the last frame it was given, so it may make one fewer between)
    (0..evens.len() - 1)
        .take_while(|k| 2 * k + 1 < made.len())
        .map(|k| made[2 * k + 1].clone())
        .collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn rebuilt(name: &str, count: usize) -> (f64, f64, f64) {
    let all = frames(name, count);
    let evens: Vec<Image> = all.iter().step_by(2).cloned().collect();
    let (w, h) = (all[0].width, all[0].height);
    let settings = FlowSettings::default();
    let mut between = Between::new(settings, 2);
    let levels = between.pyramid_levels(w, h);
    let theirs = minterpolate(&evens);
    let (mut flow, mut blend, mut reference) = (Vec::new(), Vec::new(), Vec::new());
    let mut made = Image::new(w, h);
    for k in 0..theirs.len() {
        let (a, b, truth) = (&evens[k], &evens[k + 1], &all[2 * k + 1]);
        let (mut pa, mut pb) = (Pyramid::default(), Pyramid::default());
        pa.build(&a.data, w, h, levels);
        pb.build(&b.data, w, h, levels);
        between.measure(&pa, &pb);
        between.make(a, b, 0.5, &mut made);
        flow.push(psnr(&made, truth));
        reel_clips::Transition::Crossfade.blend(&a.data, &b.data, w, 0.5, &mut made.data);
        blend.push(psnr(&made, truth));
        reference.push(psnr(&theirs[k], truth));
    }
    let (flow, blend, reference) = (mean(&flow), mean(&blend), mean(&reference));
    eprintln!(
        "{name}: {} frames rebuilt; PSNR flow {flow:.2} dB, minterpolate {reference:.2} dB, blend {blend:.2} dB",
        theirs.len()
    );
    (flow, blend, reference)
}

#[test]
fn flow_rebuilds_dropped_frames_better_than_minterpolate_and_blending() {
    for name in ["scrolling.mp4", "talking_head.mp4", "speaker.mp4"] {
        let (flow, blend, reference) = rebuilt(name, usize::MAX);
        assert!(
            flow > blend,
            "{name}: flow {flow:.2} dB, blend {blend:.2} dB"
        );
        assert!(
            flow > reference,
            "{name}: flow {flow:.2} dB, minterpolate {reference:.2} dB"
        );
    }
}
