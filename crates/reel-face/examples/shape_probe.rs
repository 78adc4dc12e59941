fn main() {
    let mut faces = Vec::new();
    for (name, every) in [
        ("talking_head.mp4", 40),
        ("speaker.mp4", 50),
        ("portrait.jpg", 1),
    ] {
        let mut d = reel_video::Decoder::open(&reel_models::samples_dir().join(name)).unwrap();
        let mut f = reel_video::Frame::default();
        let mut i = 0;
        let mut t = reel_face::FaceTracker::new(
            reel_face::FaceDetector::new(reel_face::Range::Short, 1).unwrap(),
            reel_face::FaceMesh::new(1).unwrap(),
            reel_face::TrackerSettings {
                detect_every_frame: true,
                ..Default::default()
            },
        );
        while d.next_frame(&mut f).unwrap() {
            if i % every == 0 && faces.len() < 20 {
                let lm = t.track(&f.image).unwrap()[0].landmarks.clone();
                faces.push((name, lm));
            }
            i += 1;
        }
    }
    let rigid: Vec<usize> = vec![
        1, 4, 6, 168, 197, 195, 5, 98, 327, 33, 133, 362, 263, 10, 109, 67, 103, 54, 21, 162, 127,
        234, 338, 297, 332, 284, 251, 389, 356, 454, 151, 9, 8,
    ];
    let faces: Vec<(&str, Vec<reel_face::Landmark>)> = faces
        .into_iter()
        .map(|(n, l)| (n, rigid.iter().map(|&i| l[i]).collect()))
        .collect();
    for (a, la) in &faces {
        let row: Vec<String> = faces
            .iter()
            .map(|(_, lb)| format!("{:.3}", reel_face::shape_distance(la, lb)))
            .collect();
        println!("{:>16} {}", &a[..8], row.join(" "));
    }
}
