//! Draws every mesh landmark with its index on an enlarged aligned crop of a face, for choosing
//! landmark groups. Usage: landmark_chart IMAGE OUT.png [x0 y0 w h] (a window of the 2000 px crop)
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = Path::new(&args[1]);
    let window: Vec<usize> = args[3..].iter().map(|a| a.parse().unwrap()).collect();
    let (x0, y0, w, h) = match window.as_slice() {
        [x, y, w, h] => (*x, *y, *w, *h),
        _ => (0, 0, 2000, 2000),
    };
    let mut dec = reel_video::Decoder::open(input).unwrap();
    let mut f = reel_video::Frame::default();
    dec.next_frame(&mut f).unwrap();
    let settings = reel_face::TrackerSettings {
        detect_every_frame: true,
        ..Default::default()
    };
    let mut t = reel_face::FaceTracker::new(
        reel_face::FaceDetector::new(reel_face::Search::Only(reel_face::Range::Short), 1).unwrap(),
        reel_face::FaceMesh::new(1).unwrap(),
        settings,
    );
    let lm = t.track(&f.image).unwrap()[0].landmarks.clone();
    let a = reel_face::Alignment::new(&lm, 2000, 0.25).unwrap();
    let mut crop = reel_image::Image::default();
    a.crop(&f.image, &mut crop);
    let mut canvas = reel_image::Canvas { image: &mut crop };
    for (i, l) in lm.iter().enumerate() {
        let p = a.to_crop.apply(l.point());
        canvas.dot(p, 3, [0, 255, 0]);
        canvas.text(
            p.x as isize + 4,
            p.y as isize - 8,
            &i.to_string(),
            3,
            [255, 255, 0],
        );
    }
    let mut out = reel_image::Image::new(w, h);
    for y in 0..h {
        let s = ((y0 + y) * 2000 + x0) * 3;
        out.data[y * w * 3..(y + 1) * w * 3].copy_from_slice(&crop.data[s..s + w * 3]);
    }
    let info = reel_video::probe(input).unwrap();
    let settings = reel_video::EncoderSettings::like_source(reel_video::Codec::Image, &info);
    let mut e = reel_video::Encoder::create(Path::new(&args[2]), w, h, &settings).unwrap();
    e.write(&out, None).unwrap();
    e.finish().unwrap();
}
