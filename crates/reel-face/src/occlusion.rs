//! What is in front of a face: the hands found near it, drawn from their points as a soft mask
//! (the palm and each finger, a little wider than they are, and the start of the forearm). Face processors leave
//! the pixels under it as they were, so a hand held to the face stays a hand.

use reel_image::{Image, Point};

use crate::hands::Hand;
use crate::mask::Mask;

/// Fingers are drawn this many finger widths wide (the points lie on the bones; the margin
/// covers the finger's flesh and the model's error).
const FINGER: f32 = 1.6;
/// The palm's hull is grown by half this many finger widths: the points lie along the knuckles
/// and the wrist's centre, the hand's sides are further out.
const PALM_EDGE: f32 = 3.0;
/// Past a fingertip's point the finger goes on by this many finger widths.
const TIP: f32 = 0.45;
/// The forearm is drawn this many palm lengths from the wrist.
const FOREARM: f32 = 1.2;
/// How far past the hand's points its own colour is looked for, in finger widths (a stroke
/// width: half of it on each side), and how close a colour must be (in standard deviations).
const COLOUR_REACH: f32 = 3.6;
const COLOUR_DISTANCE: f32 = 3.5;
/// The soft edge outside the drawn hand, in finger widths.
const EDGE: f32 = 0.4;

/// Around the palm: wrist, thumb base, then the finger bases.
const PALM: [usize; 7] = [0, 1, 2, 5, 9, 13, 17];
const FINGERS: [[usize; 4]; 5] = [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
    [13, 14, 15, 16],
    [17, 18, 19, 20],
];

/// The hands over a rectangle of the frame (x, y, width, height), 1 where a hand is, falling to
/// 0 over a short edge outside it; None where no hand reaches the rectangle.
pub fn hands_mask(image: &Image, hands: &[Hand], area: [usize; 4]) -> Option<Mask> {
    // Only the part of the area the hands can reach: their boxes, grown by the forearm and a
    // drawn finger with its soft edge.
    let reach = |hand: &Hand| {
        let [x, y, w, h] = hand.bbox();
        let r = (FINGER + EDGE) * hand.finger_width() + FOREARM * w.max(h);
        [x - r, y - r, x + w + r, y + h + r]
    };
    let usable: Vec<&Hand> = hands
        .iter()
        .filter(|h| h.finger_width().is_finite() && h.finger_width() > 0.5)
        .collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for hand in &usable {
        let [a, b, c, d] = reach(hand);
        (x0, y0, x1, y1) = (x0.min(a), y0.min(b), x1.max(c), y1.max(d));
    }
    let [ax, ay, aw, ah] = area;
    let x0 = (x0.floor().max(0.0) as usize).max(ax);
    let y0 = (y0.floor().max(0.0) as usize).max(ay);
    let x1 = (x1.ceil().max(0.0) as usize).min(ax + aw);
    let y1 = (y1.ceil().max(0.0) as usize).min(ay + ah);
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let mut mask = Mask::new(x0, y0, x1 - x0, y1 - y0);
    let mut edge: f32 = 0.0;
    let mut drawn = Mask::new(x0, y0, x1 - x0, y1 - y0);
    for hand in usable {
        drawn.data.fill(0.0);
        let arm = draw_hand(&mut drawn, hand);
        add_own_colour(&mut drawn, image, hand, arm);
        for (m, &d) in mask.data.iter_mut().zip(&drawn.data) {
            *m = m.max(d);
        }
        edge = edge.max(EDGE * hand.finger_width());
    }
    if !mask.data.iter().any(|&v| v > 0.0) {
        return None;
    }
    // A soft edge outside the hand only: the drawn hand itself stays at 1.
    let core = mask.data.clone();
    mask.feather((edge / 2.0).round().max(1.0) as usize);
    for (v, &c) in mask.data.iter_mut().zip(&core) {
        // The blur's far tail would touch every pixel of the area by a trace.
        let soft = if *v < 2e-3 { 0.0 } else { (2.0 * *v).min(1.0) };
        *v = soft.max(c);
    }
    Some(mask)
}

/// Draws a hand from its points: the palm and each finger (a little past its tip), each
/// piece's hull grown by half a drawn finger, so a curled finger's knuckles are covered as well
/// as a straight one; then the wrist and the start of the forearm. Returns the forearm's end.
fn draw_hand(mask: &mut Mask, hand: &Hand) -> Point {
    let finger = hand.finger_width();
    let p = &hand.points;
    let palm: Vec<Point> = PALM.iter().map(|&i| p[i]).collect();
    grown_hull(mask, &palm, PALM_EDGE * finger);
    for finger_points in FINGERS {
        let mut piece: Vec<Point> = finger_points.iter().map(|&i| p[i]).collect();
        let (a, b) = (piece[2], piece[3]);
        let len = a.distance(b).max(1e-3);
        piece.push(Point::new(
            b.x + (b.x - a.x) / len * TIP * finger,
            b.y + (b.y - a.y) / len * TIP * finger,
        ));
        grown_hull(mask, &piece, FINGER * finger);
    }
    // Away from the middle finger's base.
    let (wrist, base) = (p[0], p[9]);
    let palm_length = wrist.distance(base).max(1e-3);
    let arm = Point::new(
        wrist.x + (wrist.x - base.x) * FOREARM,
        wrist.y + (wrist.y - base.y) * FOREARM,
    );
    mask.stroke(
        &[wrist, arm],
        p[5].distance(p[17]).max(palm_length * 0.5) * 2.4,
        1.0,
    );
    arm
}

/// Adds the pixels of the hand's own colour (as the drawn hand shows it) near the drawn hand:
/// the points lie on the bones, and a hand's outline (a fist's side, the ball of the thumb)
/// lies further out than any fixed margin. Where the hand is over skin of the same colour, that
/// skin is kept too, a little way round the hand.
fn add_own_colour(mask: &mut Mask, image: &Image, hand: &Hand, arm: Point) {
    let (x0, y0, w, h) = (mask.x0, mask.y0, mask.width, mask.height);
    let pixel = |x: usize, y: usize| {
        let i = (y * image.width + x) * 3;
        [
            f32::from(image.data[i]),
            f32::from(image.data[i + 1]),
            f32::from(image.data[i + 2]),
        ]
    };
    // Mean and covariance of the drawn hand's colour.
    let (mut n, mut sum, mut sq) = (0.0f32, [0.0f32; 3], [[0.0f32; 3]; 3]);
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            if mask.data[y * w + x] >= 1.0 {
                let c = pixel(x0 + x, y0 + y);
                n += 1.0;
                for i in 0..3 {
                    sum[i] += c[i];
                    for j in 0..3 {
                        sq[i][j] += c[i] * c[j];
                    }
                }
            }
        }
    }
    if n < 16.0 {
        return;
    }
    let mean = sum.map(|s| s / n);
    let mut cov = [[0.0f32; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            cov[i][j] = sq[i][j] / n - mean[i] * mean[j] + if i == j { 4.0 } else { 0.0 };
        }
    }
    let Some(inv) = invert3(&cov) else {
        return;
    };
    // Near the hand: the hull of all its points and the forearm's end, grown by a finger.
    let mut near = Mask::new(x0, y0, w, h);
    let mut points = hand.points.to_vec();
    points.push(arm);
    grown_hull(&mut near, &points, COLOUR_REACH * hand.finger_width());
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if near.data[i] <= 0.0 || mask.data[i] >= 1.0 {
                continue;
            }
            let c = pixel(x0 + x, y0 + y);
            let d = [c[0] - mean[0], c[1] - mean[1], c[2] - mean[2]];
            let mut m2 = 0.0;
            for a in 0..3 {
                for b in 0..3 {
                    m2 += d[a] * inv[a][b] * d[b];
                }
            }
            if m2 < COLOUR_DISTANCE * COLOUR_DISTANCE {
                mask.data[i] = 1.0;
            }
        }
    }
}

/// The inverse of a 3 x 3 matrix (its adjugate over its determinant).
fn invert3(m: &[[f32; 3]; 3]) -> Option<[[f32; 3]; 3]> {
    let minor =
        |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let adj = [
        [minor(1, 2, 1, 2), -minor(0, 2, 1, 2), minor(0, 1, 1, 2)],
        [-minor(1, 2, 0, 2), minor(0, 2, 0, 2), -minor(0, 1, 0, 2)],
        [minor(1, 2, 0, 1), -minor(0, 2, 0, 1), minor(0, 1, 0, 1)],
    ];
    let det = m[0][0] * adj[0][0] + m[0][1] * adj[1][0] + m[0][2] * adj[2][0];
    if det.abs() < 1e-9 {
        return None;
    }
    Some(adj.map(|row| row.map(|v| v / det)))
}

/// Fills the convex hull of `points` grown by half of `width`.
fn grown_hull(mask: &mut Mask, points: &[Point], width: f32) {
    let mut hull = convex_hull(points);
    if hull.len() >= 3 {
        mask.fill_polygon(&hull, 1.0);
    }
    hull.push(hull[0]);
    mask.stroke(&hull, width, 1.0);
}

/// The convex hull of a few points, counter-clockwise (Andrew's monotone chain).
fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    if p.len() < 3 {
        return p;
    }
    let cross =
        |o: Point, a: Point, b: Point| (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
    let mut hull: Vec<Point> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Point>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upright open hand: wrist at the bottom, fingers straight up, 20 px apart.
    fn open_hand() -> Hand {
        let mut points = [Point::default(); 21];
        points[0] = Point::new(100.0, 200.0);
        for (f, finger) in FINGERS.iter().enumerate() {
            let x = 60.0 + 20.0 * f as f32;
            for (j, &i) in finger.iter().enumerate() {
                points[i] = Point::new(x, 150.0 - 25.0 * j as f32);
            }
        }
        Hand {
            points,
            presence: 0.99,
        }
    }

    #[test]
    fn the_mask_covers_the_fingers_and_palm_and_nothing_far_away() {
        let hand = open_hand();
        // Skin where the hand is drawn, blue elsewhere: no pixel outside is of the hand's colour.
        let mut drawn = Mask::new(0, 0, 300, 320);
        draw_hand(&mut drawn, &hand);
        let mut image = Image::new(300, 320);
        for (px, &m) in image.data.chunks_exact_mut(3).zip(&drawn.data) {
            px.copy_from_slice(if m >= 1.0 {
                &[200, 150, 120]
            } else {
                &[20, 40, 220]
            });
        }
        let mask = hands_mask(&image, &[hand], [0, 0, 300, 320]).unwrap();
        // On a finger, between the points, at the palm's centre: fully covered.
        for (x, y) in [(80, 110), (80, 140), (100, 170), (120, 90)] {
            assert_eq!(mask.at(x, y), 1.0, "({x}, {y})");
        }
        // A finger's width beyond the tips and far to the side: untouched.
        assert!(mask.at(80, 25) < 1e-3);
        assert_eq!(mask.at(250, 150), 0.0);
        // The soft edge falls off outside the drawn little finger.
        let edge = mask.at(157, 100);
        assert!(edge > 0.0 && edge < 1.0, "{edge}");
    }

    #[test]
    fn pixels_of_the_hands_colour_next_to_it_join_the_mask() {
        let hand = open_hand();
        // The whole picture is of the hand's colour, give or take: the area near the hand is
        // taken, the far corner is not.
        let mut image = Image::new(300, 320);
        for (i, px) in image.data.chunks_exact_mut(3).enumerate() {
            px.copy_from_slice(&[200 + (i % 3) as u8, 150, 120]);
        }
        let mask = hands_mask(&image, &[hand], [0, 0, 300, 320]).unwrap();
        assert_eq!(mask.at(40, 130), 1.0);
        assert_eq!(mask.at(5, 5), 0.0);
    }

    #[test]
    fn a_hand_far_from_the_area_gives_no_mask() {
        assert!(
            hands_mask(
                &Image::new(1100, 1100),
                &[open_hand()],
                [1000, 1000, 100, 100]
            )
            .is_none()
        );
    }

    #[test]
    fn inverse_of_a_covariance() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let inv = invert3(&m).unwrap();
        for (i, row) in m.iter().enumerate() {
            for j in 0..3 {
                let v: f32 = row.iter().zip(&inv).map(|(a, r)| a * r[j]).sum();
                assert!((v - f32::from(u8::from(i == j))).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn hull_of_a_square_with_a_point_inside() {
        let pts = [
            Point::new(0.0, 0.0),
            Point::new(2.0, 0.0),
            Point::new(1.0, 1.0),
            Point::new(2.0, 2.0),
            Point::new(0.0, 2.0),
        ];
        assert_eq!(convex_hull(&pts).len(), 4);
    }
}
