use reel_image::Image;
use reel_watermark::{Embedder, detect_image};

fn textured(w: usize, h: usize, seed: u64) -> Image {
    let mut img = Image::new(w, h);
    let mut s = seed;
    for y in 0..h {
        for x in 0..w {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((s >> 40) % 40) as f32;
            let v = 100.0 + 40.0 * ((x as f32 / 37.0).sin() * (y as f32 / 23.0).cos()) + noise;
            let i = (y * w + x) * 3;
            img.data[i..i + 3].fill(v.clamp(0.0, 255.0) as u8);
        }
    }
    img
}

#[test]
fn finds_its_payload_on_untouched_frames() {
    for (w, h) in [(512, 512), (640, 480), (1280, 720), (300, 451)] {
        let mut img = textured(w, h, 3);
        let clean = detect_image(&img);
        assert!(!clean.found(), "{w}x{h} unmarked: {clean:?}");
        Embedder::new(0xABCD_EF01_2345_6789).mark(&mut img);
        let d = detect_image(&img);
        eprintln!("{w}x{h}: clean sync {:.1}, marked {d:?}", clean.sync);
        assert_eq!(d.payload, Some(0xABCD_EF01_2345_6789), "{w}x{h}: {d:?}");
    }
}

#[test]
#[ignore = "a timing probe, not a test: cargo test --release -- --ignored --nocapture"]
fn marking_time_at_720p() {
    let mut img = textured(1280, 720, 5);
    let mut e = Embedder::new(1);
    e.mark(&mut img);
    let t = std::time::Instant::now();
    for _ in 0..50 {
        e.mark(&mut img);
    }
    eprintln!(
        "marking 720p: {:.2} ms a frame",
        t.elapsed().as_secs_f64() * 20.0
    );
}
