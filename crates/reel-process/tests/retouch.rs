//! The beauty fix and retouch de-aging measured on real faces from the sample footage.
//! Needs `reel setup`. Band definitions are those of `reel_process::retouch`.

use reel_face::mask::{Mask, Region, draw_face_region};
use reel_face::{AnalyzerSettings, Face, FaceAnalyzer, FaceMesh, Landmark, Roi};
use reel_image::blur::gaussian;
use reel_image::{Affine, Image};
use reel_process::beauty::work_rect;
use reel_process::retouch::band_sigmas;
use reel_process::{
    Beauty, BeautySettings, Chain, Deage, DeageSettings, FrameProcessor, deage, face_size, pipeline,
};
use reel_video::{Decoder, Frame};

fn frames(name: &str, n: usize, every: usize) -> Vec<Image> {
    let path = reel_assets::samples_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `reel setup` first",
        path.display()
    );
    let mut dec = Decoder::open(&path).unwrap();
    let mut out = Vec::new();
    let mut f = Frame::default();
    let mut i = 0;
    while out.len() < n && dec.next_frame(&mut f).unwrap() {
        if i % every == 0 {
            out.push(f.image.clone());
        }
        i += 1;
    }
    out
}

/// Real faces: frames from both clips and the portrait.
fn faces_sample() -> Vec<Image> {
    let mut v = frames("talking_head.mp4", 4, 40);
    v.extend(frames("speaker.mp4", 4, 50));
    v.extend(frames("portrait.jpg", 1, 1));
    v
}

fn analyze_still(image: &Image) -> Vec<Face> {
    let mut settings = AnalyzerSettings::default();
    settings.tracker.detect_every_frame = true;
    let mut a = FaceAnalyzer::new(settings).unwrap();
    a.analyze(image, 0.0).unwrap().to_vec()
}

fn luma(img: &Image, rect: (usize, usize, usize, usize)) -> Vec<f32> {
    let (x0, y0, w, h) = rect;
    let mut v = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            v.push(img.luma_at(x0 + x, y0 + y));
        }
    }
    v
}

/// Energy of the wrinkle/blemish band and of the pore band inside the core of the skin mask.
fn band_energies(img: &Image, face: &Face, skin: &Mask) -> (f64, f64) {
    let rect = (skin.x0, skin.y0, skin.width, skin.height);
    let (fine, detail) = band_sigmas(face_size(face));
    let l = luma(img, rect);
    let (mut g1, mut g2, mut tmp) = (l.clone(), l.clone(), Vec::new());
    gaussian(&mut g1, rect.2, rect.3, 1, fine, &mut tmp);
    gaussian(&mut g2, rect.2, rect.3, 1, detail, &mut tmp);
    let (mut wrinkle, mut pore) = (0.0f64, 0.0f64);
    for i in 0..l.len() {
        if skin.data[i] > 0.99 {
            wrinkle += ((g1[i] - g2[i]) as f64).powi(2);
            pore += ((l[i] - g1[i]) as f64).powi(2);
        }
    }
    (wrinkle, pore)
}

fn skin_mask(face: &Face, frame: &Image) -> Mask {
    let rect = work_rect(face, frame, 0.0);
    let mut m = Mask::new(rect.0, rect.1, rect.2, rect.3);
    draw_face_region(
        &mut m,
        &face.landmarks,
        Region::Skin,
        &Affine::IDENTITY,
        0.03,
    );
    m
}

fn mean_distance(a: &[Landmark], b: &[Landmark], idx: &[usize]) -> f32 {
    idx.iter()
        .map(|&i| a[i].point().distance(b[i].point()))
        .sum::<f32>()
        / idx.len() as f32
}

#[test]
fn beauty_at_full_strength_halves_wrinkle_energy_and_keeps_pores() {
    let mut beauty = Beauty::new(BeautySettings {
        strength: 1.0,
        ..BeautySettings::default()
    })
    .unwrap();
    let (mut w_in, mut w_out, mut p_in, mut p_out) = (0.0, 0.0, 0.0, 0.0);
    for image in faces_sample() {
        let faces = analyze_still(&image);
        assert_eq!(faces.len(), 1);
        let mut out = image.clone();
        beauty.process(&mut out, &[&faces[0]]).unwrap();
        let skin = skin_mask(&faces[0], &image);
        let (wi, pi) = band_energies(&image, &faces[0], &skin);
        let (wo, po) = band_energies(&out, &faces[0], &skin);
        w_in += wi;
        w_out += wo;
        p_in += pi;
        p_out += po;
    }
    let (wrinkle, pore) = (w_out / w_in, p_out / p_in);
    println!(
        "beauty, strength 1, 9 faces: wrinkle band energy {:.1}% of input, pore band {:.1}%",
        wrinkle * 100.0,
        pore * 100.0
    );
    assert!(wrinkle <= 0.5, "wrinkle band kept {wrinkle}");
    assert!(pore >= 0.7, "pore band kept {pore}");
}

#[test]
fn nothing_outside_the_face_changes_and_faceless_frames_pass_through() {
    let image = &frames("talking_head.mp4", 1, 1)[0];
    let faces = analyze_still(image);
    let refs: Vec<&Face> = faces.iter().collect();
    let mut chain = Chain::new()
        .then(Deage::new(DeageSettings { years: 25.0 }).unwrap())
        .then(
            Beauty::new(BeautySettings {
                strength: 1.0,
                ..BeautySettings::default()
            })
            .unwrap(),
        );
    let mut out = image.clone();
    chain.process(&mut out, &refs).unwrap();
    let rect = work_rect(&faces[0], image, 0.4);
    let mut changed_inside = 0;
    for y in 0..image.height {
        for x in 0..image.width {
            let inside = x >= rect.0 && x < rect.0 + rect.2 && y >= rect.1 && y < rect.1 + rect.3;
            if image.pixel(x, y) != out.pixel(x, y) {
                assert!(inside, "pixel ({x}, {y}) outside the face region changed");
                changed_inside += 1;
            }
        }
    }
    assert!(
        changed_inside > 1000,
        "the face itself was edited ({changed_inside} pixels)"
    );

    // Beauty alone touches only the feathered face oval.
    let mut out = image.clone();
    Beauty::new(BeautySettings {
        strength: 1.0,
        ..BeautySettings::default()
    })
    .unwrap()
    .process(&mut out, &refs)
    .unwrap();
    let r = work_rect(&faces[0], image, 0.0);
    let mut oval = Mask::new(r.0, r.1, r.2, r.3);
    draw_face_region(
        &mut oval,
        &faces[0].landmarks,
        Region::Face,
        &Affine::IDENTITY,
        0.03,
    );
    for y in 0..image.height {
        for x in 0..image.width {
            if oval.at(x, y) == 0.0 {
                assert_eq!(
                    image.pixel(x, y),
                    out.pixel(x, y),
                    "({x}, {y}) is outside the face"
                );
            }
        }
    }

    // A frame with no face: the chain leaves it exactly as it was.
    let mut blank = image.clone();
    chain.process(&mut blank, &[]).unwrap();
    assert_eq!(&blank, image);
}

/// Landmarks of `image` from the mesh model run on one fixed region, so that what is compared is
/// the effect of the pixels alone, not of a re-detection.
fn mesh_on(image: &Image, roi: &Roi, mesh: &mut FaceMesh) -> Vec<Landmark> {
    let mut lm = Vec::new();
    mesh.run(image, roi, &mut lm).unwrap();
    lm
}

#[test]
fn beauty_keeps_identity_and_expression() {
    let mut beauty = Beauty::new(BeautySettings {
        strength: 1.0,
        ..BeautySettings::default()
    })
    .unwrap();
    let mut mesh = FaceMesh::new(1).unwrap();
    let all: Vec<usize> = (0..468).collect();
    let mut worst = 0.0f32;
    for image in faces_sample() {
        let faces = analyze_still(&image);
        let roi = Roi::from_landmarks(&faces[0].landmarks);
        let mut out = image.clone();
        beauty.process(&mut out, &[&faces[0]]).unwrap();
        let d = mean_distance(
            &mesh_on(&image, &roi, &mut mesh),
            &mesh_on(&out, &roi, &mut mesh),
            &all,
        );
        let size = face_size(&faces[0]);
        println!("beauty, strength 1, face {size:.0} px: landmarks move {d:.3} px on average");
        // Movement in proportion to the face: 0.5 px on a face 250 px across.
        worst = worst.max(d / size);
    }
    assert!(
        worst <= 0.002,
        "landmarks moved {:.2} % of the face's size",
        worst * 100.0
    );
}

#[test]
fn deage_moves_the_lower_face_contour_and_little_else() {
    let moved = deage::reshaped_landmarks();
    let still: Vec<usize> = reel_face::mesh::outline::LEFT_EYE
        .iter()
        .chain(reel_face::mesh::outline::RIGHT_EYE)
        .chain(reel_face::mesh::outline::LEFT_BROW)
        .chain(reel_face::mesh::outline::RIGHT_BROW)
        .chain(&[1, 4, 5, 6, 195, 197, 10, 151, 9])
        .copied()
        .collect();
    let mut deage = Deage::new(DeageSettings { years: 30.0 }).unwrap();
    let mut mesh = FaceMesh::new(1).unwrap();
    for image in faces_sample() {
        let faces = analyze_still(&image);
        let roi = Roi::from_landmarks(&faces[0].landmarks);
        let mut out = image.clone();
        deage.process(&mut out, &[&faces[0]]).unwrap();
        let (before, after) = (
            mesh_on(&image, &roi, &mut mesh),
            mesh_on(&out, &roi, &mut mesh),
        );
        let s = face_size(&faces[0]);
        let m = mean_distance(&before, &after, &moved) / s;
        let k = mean_distance(&before, &after, &still);
        use reel_face::mesh::outline as o;
        let g = |idx: &[usize]| mean_distance(&before, &after, idx);
        println!(
            "de-age 30 years, face {s:.0} px: contour points moved {:.2}% of the face, eyes/brows/nose {k:.2} px (eyes {:.2}, brows {:.2}, nose {:.2})",
            m * 100.0,
            g(&[o::LEFT_EYE, o::RIGHT_EYE].concat()),
            g(&[o::LEFT_BROW, o::RIGHT_BROW].concat()),
            g(&[1, 4, 5, 6, 195, 197])
        );
        assert!(
            m > 0.006,
            "the jowls and cheeks moved only {:.3}% of the face size",
            m * 100.0
        );
        // The mesh model sees the whole face at once, so reshaping the jaw nudges its reading
        // of other points a little too; the points meant to move must move several times as much.
        assert!(
            m * s > 3.0 * k,
            "contour {} px against the rest {k} px",
            m * s
        );
        // The warp itself leaves eyes, brows and nose where they are.
        let controls = deage::reshape_controls(&faces[0], 1.0);
        for &i in &still {
            let d = reel_process::reshape::displacement_at(
                faces[0].landmarks[i].point(),
                &controls,
                deage::reshape_reach(s),
            );
            assert!(
                d[0].hypot(d[1]) < 0.1,
                "the warp moves landmark {i} by {d:?}"
            );
        }
    }
}

#[test]
fn no_flicker_is_added_over_a_clip() {
    let clip = frames("talking_head.mp4", 60, 1);
    let mut analyzer = FaceAnalyzer::new(pipeline::editing_analysis(4, 1)).unwrap();
    let mut chain = Chain::new()
        .then(Deage::new(DeageSettings { years: 20.0 }).unwrap())
        .then(
            Beauty::new(BeautySettings {
                strength: 1.0,
                ..BeautySettings::default()
            })
            .unwrap(),
        );
    let (mut change_in, mut change_out) = (0.0f64, 0.0f64);
    let mut prev: Option<(Image, Image)> = None;
    for (i, image) in clip.iter().enumerate() {
        let faces = analyzer.analyze(image, i as f64 / 29.97).unwrap().to_vec();
        let refs: Vec<&Face> = faces.iter().collect();
        let mut out = image.clone();
        chain.process(&mut out, &refs).unwrap();
        if let Some((pin, pout)) = &prev {
            let skin = skin_mask(&faces[0], image);
            for y in 0..skin.height {
                for x in 0..skin.width {
                    if skin.data[y * skin.width + x] > 0.5 {
                        let (fx, fy) = (skin.x0 + x, skin.y0 + y);
                        change_in += (image.luma_at(fx, fy) - pin.luma_at(fx, fy)).abs() as f64;
                        change_out += (out.luma_at(fx, fy) - pout.luma_at(fx, fy)).abs() as f64;
                    }
                }
            }
        }
        prev = Some((image.clone(), out));
    }
    let ratio = change_out / change_in;
    println!(
        "frame-to-frame change inside the skin: output {:.1}% of the input's",
        ratio * 100.0
    );
    assert!(ratio <= 1.05, "flicker added: {ratio}");
}

#[test]
fn settings_out_of_range_are_refused() {
    assert!(
        Beauty::new(BeautySettings {
            strength: 1.5,
            ..BeautySettings::default()
        })
        .is_err()
    );
    assert!(
        Beauty::new(BeautySettings {
            smooth: -0.1,
            ..BeautySettings::default()
        })
        .is_err()
    );
    assert!(
        Beauty::new(BeautySettings {
            even_tone: f32::NAN,
            ..BeautySettings::default()
        })
        .is_err()
    );
    assert!(Deage::new(DeageSettings { years: 0.0 }).is_err());
    assert!(Deage::new(DeageSettings { years: 80.0 }).is_err());
}
