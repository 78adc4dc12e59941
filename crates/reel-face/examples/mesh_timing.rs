//! Times the mesh model alone and the crop that feeds it.
use std::time::Instant;

fn median(mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let mut ts: Vec<f64> = (0..300)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ts.sort_by(f64::total_cmp);
    ts[150]
}

fn main() {
    let mut img = reel_image::Image::new(640, 480);
    for (i, v) in img.data.iter_mut().enumerate() {
        *v = (i % 251) as u8;
    }
    let spec = reel_image::TensorSpec {
        width: 192,
        height: 192,
        scale: 1.0 / 255.0,
        offset: 0.0,
        border: reel_image::Border::Replicate,
    };
    let map = reel_image::Affine::from_rotated_rect(
        reel_image::Point::new(320.0, 240.0),
        (200.0, 200.0),
        0.2,
        192,
        192,
    );
    let mut buf = Vec::new();
    println!(
        "crop   {:.3} ms",
        median(|| reel_image::warp_to_tensor(&img, &map, &spec, &mut buf))
    );
    let mut net = reel_runtime::Net::load(reel_assets::ModelId::FaceMesh, 1).unwrap();
    let mut out = Vec::new();
    println!(
        "model  {:.3} ms",
        median(|| net.run(&buf, &mut out).unwrap())
    );
    println!(
        "crop   {:.3} ms (after the model)",
        median(|| reel_image::warp_to_tensor(&img, &map, &spec, &mut buf))
    );
}
