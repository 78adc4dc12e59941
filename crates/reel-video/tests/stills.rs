//! Stills decoded as the standard libraries decode them: JPEG against libjpeg's own `djpeg`,
//! the EXIF orientation applied, 16-bit PNG and TIFF and lossless WebP. Needs `reel setup` (the
//! sample photos) and `djpeg`.

use std::path::{Path, PathBuf};
use std::process::Command;

use reel_image::Image;
use reel_video::{Decoder, Frame};

fn sample(name: &str) -> PathBuf {
    reel_assets::catalogue::samples_dir().join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reel-stills-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn decode(path: &Path) -> Image {
    let mut decoder = Decoder::open(path).unwrap();
    let mut frame = Frame::default();
    assert!(
        decoder.next_frame(&mut frame).unwrap(),
        "{}",
        path.display()
    );
    assert!(
        !decoder.next_frame(&mut Frame::default()).unwrap(),
        "a still is one frame"
    );
    assert_eq!(
        (decoder.info().width, decoder.info().height),
        (frame.image.width, frame.image.height),
        "the size reported is the size shown"
    );
    frame.image
}

/// libjpeg's decode of a JPEG, from `djpeg` (binary PPM).
fn djpeg(path: &Path) -> Image {
    let out = Command::new("djpeg")
        .arg(path)
        .output()
        .expect("djpeg (libjpeg-turbo-progs) is installed");
    assert!(out.status.success());
    let data = out.stdout;
    // "P6\n<w> <h>\n255\n" then the pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while data[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !data[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..at]).into_owned());
    }
    assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"));
    let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    Image {
        width,
        height,
        data: data[at + 1..].to_vec(),
    }
}

/// The share of pixels whose channels are all within `levels` of the reference's, and the
/// largest difference.
fn agreement(ours: &Image, reference: &Image, levels: u8) -> (f64, u8) {
    assert_eq!(
        (ours.width, ours.height),
        (reference.width, reference.height)
    );
    let mut close = 0usize;
    let mut worst = 0u8;
    for (a, b) in ours
        .data
        .chunks_exact(3)
        .zip(reference.data.chunks_exact(3))
    {
        let d = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
        worst = worst.max(d);
        close += usize::from(d <= levels);
    }
    (close as f64 / (ours.width * ours.height) as f64, worst)
}

#[test]
fn jpeg_stills_decode_as_libjpeg_decodes_them() {
    for name in ["group.jpg", "grace_hopper.jpg", "portrait.jpg"] {
        let path = sample(name);
        let (within, worst) = agreement(&decode(&path), &djpeg(&path), 3);
        eprintln!(
            "{name}: {:.3} % of pixels within 3 levels of libjpeg's, at most {worst} off",
            within * 100.0
        );
        assert!(within >= 0.999, "{name}: {within}");
        assert!(worst <= 8, "{name}: {worst}");
    }
}

/// `jpeg` with an EXIF APP1 segment saying `orientation` put right after its start marker.
fn with_orientation(jpeg: &[u8], orientation: u8) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1]); // one entry
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next directory
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn the_exif_orientation_is_applied() {
    // A photo without EXIF of its own (512x600), so that the orientation added is its only one.
    let path = sample("grace_hopper.jpg");
    let upright = decode(&path);
    let turned = scratch("turned.jpg");
    // 6: stored turned a quarter anticlockwise, to be shown turned a quarter clockwise.
    std::fs::write(&turned, with_orientation(&std::fs::read(&path).unwrap(), 6)).unwrap();
    let shown = decode(&turned);
    assert_eq!((shown.width, shown.height), (upright.height, upright.width));
    for y in 0..shown.height {
        for x in 0..shown.width {
            // Shown (x, y) is stored (y, H - 1 - x).
            let src = ((upright.height - 1 - x) * upright.width + y) * 3;
            let dst = (y * shown.width + x) * 3;
            assert_eq!(shown.data[dst..dst + 3], upright.data[src..src + 3]);
        }
    }
}

#[test]
fn sixteen_bit_png_and_tiff_and_lossless_webp_decode() {
    let source = scratch("source.png");
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(sample("grace_hopper.jpg"))
        .arg(&source)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let eight = decode(&source);
    for (name, args) in [
        ("deep.png", &["-pix_fmt", "rgb48be"][..]),
        ("deep.tiff", &["-pix_fmt", "rgb48le"][..]),
        ("lossless.webp", &["-c:v", "libwebp", "-lossless", "1"][..]),
    ] {
        let out = scratch(name);
        let ok = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(&source)
            .args(args)
            .arg(&out)
            .status()
            .unwrap()
            .success();
        assert!(ok, "{name}");
        // ffmpeg widens 8-bit levels to 16 bits by a shift rather than by 257, so a level
        // may come back one lower; WebP lossless comes back exactly.
        let (within, worst) = agreement(&decode(&out), &eight, 0);
        let allowed = if name.ends_with(".webp") { 0 } else { 1 };
        assert!(
            worst <= allowed,
            "{name}: {worst} levels off ({within} exact)"
        );
    }
}
