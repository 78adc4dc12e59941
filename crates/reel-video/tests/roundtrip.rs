//! Decode -> encode round trips on clips ffmpeg makes for the test: frame counts, timestamps
//! (variable frame rate too), sizes and audio must survive.

use std::path::{Path, PathBuf};
use std::process::Command;

use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame, probe};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reel-video-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg runs")
        .success();
    assert!(ok, "ffmpeg {args:?} failed");
}

/// Presentation times of the video packets, in seconds, sorted.
fn frame_times(path: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    let mut t: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t
}

fn copy_through(input: &Path, output: &Path, codec: Codec) -> u64 {
    let mut dec = Decoder::open(input).unwrap();
    let info = dec.info().clone();
    let mut enc: Option<Encoder> = None;
    let mut frame = Frame::default();
    while dec.next_frame(&mut frame).unwrap() {
        let e = enc.get_or_insert_with(|| {
            Encoder::create(
                output,
                frame.image.width,
                frame.image.height,
                &EncoderSettings::like_source(codec, &info),
            )
            .unwrap()
        });
        e.write(&frame.image, frame.time).unwrap();
    }
    let e = enc.unwrap();
    let n = e.written();
    e.finish().unwrap();
    n
}

#[test]
fn variable_frame_rate_and_audio_survive() {
    let src = scratch("vfr.mp4");
    // 40 frames whose durations alternate 1/30 s and 1/10 s, with a tone.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=30:duration=1.3333",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-vf",
        "setpts='(floor(N/2)*4+mod(N,2))/30/TB'",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-video_track_timescale",
        "30000",
        src.to_str().unwrap(),
    ]);
    let out = scratch("vfr-out.mp4");
    let n = copy_through(&src, &out, Codec::H264);
    assert_eq!(n, 40);
    let (a, b) = (frame_times(&src), frame_times(&out));
    assert_eq!(a.len(), 40);
    assert_eq!(b.len(), 40);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-3, "frame time {x} became {y}");
    }
    let info = probe(&out).unwrap();
    assert_eq!(info.audio_codec.as_deref(), Some("aac"));
    assert_eq!((info.width, info.height), (320, 240));
}

#[test]
fn odd_sizes_prores_and_png_sequences_keep_every_frame() {
    let src = scratch("odd.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=321x239:rate=25:duration=0.4",
        "-pix_fmt",
        "yuv444p",
        "-c:v",
        "ffv1",
        src.to_str().unwrap(),
    ]);
    for (name, codec) in [
        ("odd.mp4", Codec::H264),
        ("odd.mov", Codec::ProRes),
        ("odd_frames", Codec::PngSequence),
    ] {
        let out = scratch(name);
        assert_eq!(copy_through(&src, &out, codec), 10);
        if codec == Codec::PngSequence {
            assert_eq!(std::fs::read_dir(&out).unwrap().count(), 10);
        } else {
            let info = probe(&out).unwrap();
            assert_eq!((info.width, info.height), (321, 239));
            assert_eq!(frame_times(&out).len(), 10);
        }
    }
}

#[test]
fn bad_inputs_give_errors_not_outputs() {
    let text = scratch("notes.mp4");
    std::fs::write(&text, "this is not a video").unwrap();
    assert!(Decoder::open(&text).is_err());
    assert!(Decoder::open(&scratch("missing.mp4")).is_err());

    // A clip cut in half: what decodes is returned, the rest is reported, never a panic.
    let whole = scratch("whole.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
        "-c:v",
        "libx264",
        "-movflags",
        "+faststart",
        whole.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = scratch("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    if let Ok(mut dec) = Decoder::open(&cut) {
        let mut frame = Frame::default();
        let mut n = 0;
        while let Ok(true) = dec.next_frame(&mut frame) {
            n += 1;
        }
        assert!(n < 50);
    }

    // An encoder dropped before finish leaves nothing behind.
    let out = scratch("abandoned.mp4");
    let info = probe(&whole).unwrap();
    let mut enc = Encoder::create(
        &out,
        320,
        240,
        &EncoderSettings::like_source(Codec::H264, &info),
    )
    .unwrap();
    enc.write(&reel_image::Image::new(320, 240), None).unwrap();
    drop(enc);
    assert!(!out.exists());
    let leftovers = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("abandoned")
        })
        .count();
    assert_eq!(leftovers, 0);
}

/// Every frame of `path` as RGB, through the decoder.
fn rgb_frames(path: &Path) -> Vec<Vec<u8>> {
    let mut dec = Decoder::open(path).unwrap();
    let mut frame = Frame::default();
    let mut out = Vec::new();
    while dec.next_frame(&mut frame).unwrap() {
        out.push(frame.image.data.clone());
    }
    out
}

#[test]
fn colour_matrix_and_range_survive_decoding_and_encoding() {
    // Colour bars (saturated colours, where the matrices differ most) as RGB, then as YUV 4:4:4
    // under each tagging, decoded to RGB and written again as H.264 and ProRes.
    let bars = scratch("bars.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "smptehdbars=size=320x180",
        "-frames:v",
        "1",
        "-pix_fmt",
        "rgb24",
        s(&bars),
    ]);
    let truth = rgb_frames(&bars).remove(0);
    for (matrix, range, primaries, transfer) in [
        ("bt709", "tv", "bt709", "bt709"),
        ("bt709", "pc", "bt709", "bt709"),
        ("smpte170m", "tv", "smpte170m", "smpte170m"),
        ("bt470bg", "pc", "bt470bg", "gamma28"),
    ] {
        let name = format!("{matrix}-{range}");
        let input = scratch(&format!("{name}.mkv"));
        let scale_matrix = if matrix == "bt470bg" { "bt470" } else { matrix };
        ffmpeg(&[
            "-loop",
            "1",
            "-framerate",
            "25",
            "-i",
            s(&bars),
            "-frames:v",
            "3",
            "-vf",
            &format!("scale=out_color_matrix={scale_matrix}:out_range={range},format=yuv444p"),
            "-c:v",
            "libx264",
            "-qp",
            "0",
            "-colorspace",
            matrix,
            "-color_range",
            range,
            "-color_primaries",
            primaries,
            "-color_trc",
            transfer,
            s(&input),
        ]);
        let info = probe(&input).unwrap();
        assert_eq!(info.colour.matrix.as_deref(), Some(matrix), "{name}");
        assert_eq!(info.colour.range.as_deref(), Some(range), "{name}");
        let decoded = rgb_frames(&input);
        let worst = decoded
            .iter()
            .flat_map(|f| f.iter().zip(&truth).map(|(x, y)| x.abs_diff(*y)))
            .max()
            .unwrap();
        assert!(
            worst <= 3,
            "{name}: decoded through its tags, {worst} levels off"
        );
        for (codec, ext) in [(Codec::H264, "mp4"), (Codec::ProRes, "mov")] {
            let output = scratch(&format!("{name}.out.{ext}"));
            copy_through(&input, &output, codec);
            let out = probe(&output).unwrap();
            // ProRes is limited range only: a full-range source comes back limited.
            let mut kept = info.colour.clone();
            if codec == Codec::ProRes {
                kept.range = Some("tv".into());
            }
            assert_eq!(out.colour, kept, "{name} {ext}: the tags are kept");
            // Compression leaves its error at the bars' edges; a wrong matrix would move
            // every saturated bar as a whole (by 10 to 30 levels).
            let again = rgb_frames(&output);
            let values = again.iter().flatten().zip(decoded.iter().flatten());
            let (count, mean) = values.fold((0usize, 0f64), |(n, sum), (x, y)| {
                (n + 1, sum + x.abs_diff(*y) as f64)
            });
            let mean = mean / count as f64;
            eprintln!("{name} {ext}: {mean:.2} levels off on average");
            assert!(mean < 1.0, "{name} {ext}: {mean:.2} levels off on average");
        }
    }
}
