//! The compositor: a layer over a picture held past its end blends at its opacity on every
//! frame, instead of compounding onto the frame before. Needs ffmpeg.

use std::process::Command;

use reel_film::Style;
use reel_film::compose::Compositor;
use reel_film::story::{Layer, Picture};
use reel_film::timeline::{FrameState, Shot};

fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg {args:?}");
}

#[test]
fn a_layer_over_a_held_frame_blends_at_its_opacity() {
    let dir = std::env::temp_dir().join(format!("reel-film-compose-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A grey clip of two frames (so the scene holds its last frame after them), a red layer.
    let clip = dir.join("grey.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x808080:s=64x48:r=25",
        "-frames:v",
        "2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv444p",
        "-qp",
        "0",
        clip.to_str().unwrap(),
    ]);
    let red = dir.join("red.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=64x48",
        "-frames:v",
        "1",
        red.to_str().unwrap(),
    ]);
    let shot = Shot {
        node: "a".into(),
        picture: Picture::Video(clip),
        layers: vec![Layer {
            style: Style::Ragtime,
            picture: Picture::Still(red),
            opacity: 0.4,
        }],
        first_frame: 0,
        frames: 100,
    };
    let mut compositor = Compositor::new(64, 48, 25);
    let mut reds = Vec::new();
    for frame in 0..100 {
        let state = FrameState {
            frame,
            shot: 0,
            frame_in_shot: frame,
            style: Some(Style::Ragtime),
        };
        let image = compositor.draw(&shot, &state).unwrap();
        let px = image.pixel(32, 24);
        reds.push((px[0], px[1]));
    }
    // Faded in over half a second, then steady at 40 % red over grey: red ~ 0.6*128 + 0.4*255,
    // green ~ 0.6*128.
    for &(r, g) in &reds[20..] {
        assert!(
            (r as i32 - 179).abs() <= 4,
            "red {r} (compounding would reach 255)"
        );
        assert!(
            (g as i32 - 77).abs() <= 4,
            "green {g} (compounding would reach 0)"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
