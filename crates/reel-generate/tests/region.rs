//! A click's region on a real photograph: on the face, the face; on the person below it, the
//! person; on the background, the colour under the click.

use reel_face::{AnalyzerSettings, FaceAnalyzer};
use reel_generate::region::{Found, select};
use reel_video::{Decoder, Frame};

#[test]
fn a_click_takes_the_face_the_person_or_the_colour_under_it() {
    let path = reel_assets::samples_dir().join("grace_hopper.jpg");
    assert!(
        path.exists(),
        "{} is missing: run `reel setup` first",
        path.display()
    );
    let mut decoder = Decoder::open(&path).unwrap();
    let mut frame = Frame::default();
    assert!(decoder.next_frame(&mut frame).unwrap());
    let still = frame.image;
    let (w, h) = (still.width, still.height);
    let face = FaceAnalyzer::new(AnalyzerSettings::default())
        .unwrap()
        .analyze(&still, 0.0)
        .unwrap()[0]
        .clone();
    let nose = face.landmarks[1].point();
    let chin = face.landmarks[152].point();
    let [bx, by, bw, bh] = face.bbox;
    let at = |p: reel_image::Point| (p.x.round() as usize, p.y.round() as usize);
    let inside = |m: &reel_generate::region::Mask, (x, y): (usize, usize)| m.data[y * w + x] > 0;

    let (on_face, found) = select(&still, &[at(nose)], 12.0, false).unwrap();
    assert_eq!(found, [Found::Face]);
    assert!(inside(&on_face, at(nose)));
    let face_area = (bw * bh) as f64 / (w * h) as f64;
    eprintln!(
        "face: {:.3} of the picture, its box {face_area:.3}",
        on_face.coverage()
    );
    assert!(on_face.coverage() > 0.4 * face_area && on_face.coverage() < 1.2 * face_area);
    // Nothing outside the face's box (and a margin) is in it.
    for y in 0..h {
        for x in 0..w {
            let out = (x as f32) < bx - 4.0
                || (x as f32) > bx + bw + 4.0
                || (y as f32) < by - 4.0
                || (y as f32) > by + bh + 4.0;
            assert!(
                !(out && on_face.data[y * w + x] > 0),
                "{x},{y} is off the face"
            );
        }
    }

    // Below the chin, on her uniform: the person, face and all.
    let body = (
        chin.x.round() as usize,
        ((chin.y + 0.5 * bh) as usize).min(h - 1),
    );
    let (person, found) = select(&still, &[body], 12.0, false).unwrap();
    eprintln!("person: {:.3} of the picture", person.coverage());
    assert_eq!(found, [Found::Person]);
    assert!(inside(&person, at(nose)) && person.coverage() > 2.0 * on_face.coverage());

    // By colour, the same click takes only what looks like the click's place.
    let (colour, found) = select(&still, &[body], 12.0, true).unwrap();
    assert_eq!(found, [Found::Colour]);
    assert!(!inside(&colour, at(nose)));
}
