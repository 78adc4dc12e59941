//! A region of a still animated on the small random text-to-video folder of the diffusion
//! crate's tests: outside the region every frame is the still, byte for byte; inside, the
//! frames move.

use std::path::PathBuf;

use candle_core::{DType, Device};
use reel_clips::Output;
use reel_diffusion::pipelines::wan::{Noise, Request, WanVideo};
use reel_generate::region::grow;
use reel_generate::{AnimateSettings, animate};
use reel_image::Image;
use reel_video::{Codec, Decoder, Frame};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reel-diffusion/tests/fixtures/wan-t2v")
}

/// A 100x60 still (another shape than the video's): a textured grey with a red disc.
fn still() -> Image {
    let (w, h) = (100, 60);
    let mut img = Image::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 - 50.0).powi(2) + (y as f32 - 30.0).powi(2)).sqrt();
            let p = if d <= 18.0 {
                [210, 40, 30]
            } else {
                let t = ((x * 7 + y * 13) % 23) as u8;
                [100 + t, 110 + t, 120 + t]
            };
            img.data[(y * w + x) * 3..][..3].copy_from_slice(&p);
        }
    }
    img
}

#[test]
fn outside_the_region_every_frame_is_the_still_exactly() {
    let pipeline = WanVideo::open(&fixture(), &Device::Cpu, DType::F32).unwrap();
    let still = still();
    let mask = grow(&still, &[(50, 30)], 12.0).unwrap();
    assert!(mask.coverage() > 0.05 && mask.coverage() < 0.5);
    let base = Request {
        prompt: "the ball glows".into(),
        negative: String::new(),
        width: 48,
        height: 32,
        frames: 5,
        steps: 3,
        guidance: 5.0,
        guidance_low: None,
        shift: None,
        scheduler: None,
        noise: Noise::Seed(4),
        image: None,
        last_image: None,
        video: None,
        region: None,
        vae_tiling: None,
        offload: None,
    };
    let dir = std::env::temp_dir().join(format!("reel-generate-animate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let output = Output {
        path: dir.clone(),
        codec: Codec::PngSequence,
        crf: 18,
        seal: None,
    };
    let settings = AnimateSettings {
        frames: 5,
        fps: 16,
        feather: 4.0,
    };
    let report = animate(
        &pipeline,
        &base,
        (&still, &mask),
        &settings,
        &output,
        &mut |_, _| {},
        &mut |_| true,
    )
    .unwrap();
    assert_eq!((report.frames, report.width, report.height), (5, 100, 60));

    let mut decoder = Decoder::open(&dir.join("frame_%06d.png")).unwrap();
    let mut frame = Frame::default();
    let mut frames = Vec::new();
    while decoder.next_frame(&mut frame).unwrap() {
        frames.push(frame.image.clone());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(frames.len(), 5);
    let mut moved = 0.0f64;
    for f in &frames {
        assert_eq!((f.width, f.height), (100, 60));
        for (i, m) in mask.data.iter().enumerate() {
            let (a, b) = (&f.data[i * 3..][..3], &still.data[i * 3..][..3]);
            if *m == 0 {
                assert_eq!(a, b, "pixel {i} outside the region changed");
            } else {
                moved += a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| x.abs_diff(*y) as f64)
                    .sum::<f64>();
            }
        }
    }
    assert!(moved > 0.0, "nothing inside the region moved");
}
