//! Times the identity descriptor of one face.
use std::time::Instant;

fn main() {
    let mut rec = reel_face::FaceRecognizer::new(1).unwrap();
    let mut chip = reel_image::Image::new(150, 150);
    for (i, v) in chip.data.iter_mut().enumerate() {
        *v = (i * 31 % 251) as u8;
    }
    for _ in 0..5 {
        rec.describe_chip(&chip).unwrap();
    }
    let mut ts: Vec<f64> = (0..30)
        .map(|_| {
            let t = Instant::now();
            rec.describe_chip(&chip).unwrap();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ts.sort_by(f64::total_cmp);
    println!("descriptor: median {:.2} ms", ts[15]);
}
