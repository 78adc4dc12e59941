//! Retouch de-aging, the 2-D compositing way, for when no footage of the younger actor exists:
//! wrinkles and folds reduced where age shows (forehead, between the brows, crow's feet,
//! nasolabial and marionette folds, neck), under-eye bags lifted, tone and redness evened, and
//! the lower face reshaped (jowls drawn in and up, cheeks lifted). Everything grows with the
//! number of years taken off.

use reel_face::Face;
use reel_face::mask::{Mask, Region, draw_face_region};
use reel_face::mesh::outline;
use reel_image::{Affine, Image, Point};

use crate::beauty::{under_eye_mask, work_rect};
use crate::reshape::{Control, Reshaper};
use crate::retouch::{Controls, Retoucher};
use crate::{FrameProcessor, ProcessError, check_range, face_size};

#[derive(Clone, Copy, Debug)]
pub struct DeageSettings {
    /// Years to take off, 1 to 40 (the look is tuned for about 5 to 30).
    pub years: f32,
}

impl DeageSettings {
    pub fn check(&self) -> Result<(), ProcessError> {
        check_range("--years", self.years, 1.0, 40.0)
    }

    /// Overall amount: 1.0 at 30 years.
    fn amount(&self) -> f32 {
        self.years / 30.0
    }
}

/// Landmarks that the reshaping must not move.
const ANCHORS: &[usize] = &[
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 109, 67, 103, 54, 21, 162, 127, 234, 93, 152,
    175, 33, 133, 263, 362, 159, 145, 386, 374, 70, 105, 107, 336, 334, 300, 1, 4, 6, 195, 2, 98,
    327, 61, 291, 0, 17, 13, 14, 199,
];

/// The face's own axes in the image: towards its left (image right when frontal) and down.
fn axes(face: &Face) -> (Point, [f32; 2], [f32; 2]) {
    let eyes = reel_face::align::five_points(&face.landmarks);
    let (r, l) = (eyes[0], eyes[1]);
    let len = r.distance(l).max(1.0);
    let e = [(l.x - r.x) / len, (l.y - r.y) / len];
    let mid = Point::new((r.x + l.x) / 2.0, (r.y + l.y) / 2.0);
    (mid, e, [-e[1], e[0]])
}

/// Where and how far the lower face moves for `amount` (1.0 = 30 years).
pub fn reshape_controls(face: &Face, amount: f32) -> Vec<Control> {
    let s = face_size(face);
    let (mid, e, down) = axes(face);
    let lm = &face.landmarks;
    let mut controls: Vec<Control> = ANCHORS
        .iter()
        .map(|&i| Control {
            at: lm[i].point(),
            by: [0.0, 0.0],
        })
        .collect();
    let mut push = |i: usize, inward: f32, up: f32| {
        let p = lm[i].point();
        let side = ((p.x - mid.x) * e[0] + (p.y - mid.y) * e[1]).signum();
        let by = [
            (-side * e[0] * inward - down[0] * up) * amount * s,
            (-side * e[1] * inward - down[1] * up) * amount * s,
        ];
        controls.push(Control { at: p, by });
    };
    for jowl in [outline::RIGHT_JOWL, outline::LEFT_JOWL] {
        for &i in jowl {
            push(i, 0.03, 0.02);
        }
    }
    for i in [58, 176, 148, 288, 400, 377] {
        push(i, 0.014, 0.01);
    }
    for cheek in [outline::RIGHT_CHEEK, outline::LEFT_CHEEK] {
        for &i in cheek {
            push(i, 0.0, 0.015);
        }
    }
    controls
}

/// The reach of each control point of the reshaping, for a face of size `s`.
pub fn reshape_reach(s: f32) -> f32 {
    0.05 * s
}

/// The landmarks the reshaping is meant to move.
pub fn reshaped_landmarks() -> Vec<usize> {
    let mut v: Vec<usize> = [
        outline::RIGHT_JOWL,
        outline::LEFT_JOWL,
        outline::RIGHT_CHEEK,
        outline::LEFT_CHEEK,
    ]
    .concat();
    v.extend([58, 176, 148, 288, 400, 377]);
    v
}

/// Where wrinkles and folds show with age, feathered, over a rectangle.
fn age_zones(face: &Face, rect: (usize, usize, usize, usize)) -> Mask {
    let s = face_size(face);
    let lm = &face.landmarks;
    let pts = |idx: &[usize]| -> Vec<Point> { idx.iter().map(|&i| lm[i].point()).collect() };
    let mut m = Mask::new(rect.0, rect.1, rect.2, rect.3);
    m.fill_polygon(&pts(outline::FOREHEAD), 1.0);
    m.fill_polygon(&pts(outline::GLABELLA), 1.0);
    m.fill_polygon(&pts(outline::RIGHT_UNDER_EYE), 1.0);
    m.fill_polygon(&pts(outline::LEFT_UNDER_EYE), 1.0);
    for line in [
        outline::RIGHT_NASOLABIAL,
        outline::LEFT_NASOLABIAL,
        outline::RIGHT_MARIONETTE,
        outline::LEFT_MARIONETTE,
    ] {
        m.stroke(&pts(line), 0.07 * s, 1.0);
    }
    // Crow's feet: beside each eye's outer corner.
    for (outer, inner) in [(33, 133), (263, 362)] {
        let (o, i) = (lm[outer].point(), lm[inner].point());
        let width = o.distance(i);
        let c = Point::new(o.x + (o.x - i.x) * 0.45, o.y + (o.y - i.y) * 0.45);
        m.fill_ellipse(
            c,
            0.35 * width,
            0.55 * width,
            (o.y - i.y).atan2(o.x - i.x),
            1.0,
        );
    }
    m.feather((0.03 * s).round() as usize);
    m
}

/// The neck below the jaw, feathered.
fn neck_zone(face: &Face, rect: (usize, usize, usize, usize)) -> Mask {
    let s = face_size(face);
    let (_, _, down) = axes(face);
    let jaw: Vec<Point> = outline::JAW
        .iter()
        .map(|&i| face.landmarks[i].point())
        .collect();
    let mut poly = jaw.clone();
    poly.extend(
        jaw.iter()
            .rev()
            .map(|p| Point::new(p.x + down[0] * 0.35 * s, p.y + down[1] * 0.35 * s)),
    );
    let mut m = Mask::new(rect.0, rect.1, rect.2, rect.3);
    m.fill_polygon(&poly, 1.0);
    m.feather((0.04 * s).round() as usize);
    m
}

pub struct Deage {
    settings: DeageSettings,
    retoucher: Retoucher,
    reshaper: Reshaper,
    mask: Vec<f32>,
    smooth: Vec<f32>,
    tone: Vec<f32>,
    lift: Vec<f32>,
}

impl Deage {
    pub fn new(settings: DeageSettings) -> Result<Deage, ProcessError> {
        settings.check()?;
        Ok(Deage {
            settings,
            retoucher: Retoucher::default(),
            reshaper: Reshaper::default(),
            mask: Vec::new(),
            smooth: Vec::new(),
            tone: Vec::new(),
            lift: Vec::new(),
        })
    }
}

impl FrameProcessor for Deage {
    fn name(&self) -> &'static str {
        "deage"
    }

    fn process(&mut self, frame: &mut Image, faces: &[&Face]) -> Result<(), ProcessError> {
        let f = self.settings.amount();
        for face in faces {
            let rect = work_rect(face, frame, 0.4);
            let mut skin = Mask::new(rect.0, rect.1, rect.2, rect.3);
            draw_face_region(
                &mut skin,
                &face.landmarks,
                Region::Skin,
                &Affine::IDENTITY,
                0.03,
            );
            let zones = age_zones(face, rect);
            let under = under_eye_mask(face, rect);
            let neck = neck_zone(face, rect);
            self.mask.clear();
            self.smooth.clear();
            self.tone.clear();
            self.lift.clear();
            for i in 0..skin.data.len() {
                let (sk, z, u, n) = (skin.data[i], zones.data[i], under.data[i], neck.data[i]);
                self.mask.push(sk.max(0.9 * n));
                self.smooth.push(((0.25 + 0.75 * z.max(n)) * f).min(1.0));
                self.tone.push((0.5 * f).min(1.0));
                self.lift.push((0.7 * u * f).min(1.0));
            }
            self.retoucher.apply(
                frame,
                &Controls {
                    x0: rect.0,
                    y0: rect.1,
                    width: rect.2,
                    height: rect.3,
                    mask: &self.mask,
                    smooth: &self.smooth,
                    tone: &self.tone,
                    lift: &self.lift,
                    blemish: (0.5 * f).min(1.0),
                    face_size: face_size(face),
                },
            );
            let controls = reshape_controls(face, f);
            self.reshaper
                .apply(frame, rect, &controls, 0.06 * face_size(face));
        }
        Ok(())
    }
}
