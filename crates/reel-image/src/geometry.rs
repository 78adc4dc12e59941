/// A point in image pixels. Pixel (i, j) has its centre at (i, j).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub const fn new(x: f32, y: f32) -> Point {
        Point { x, y }
    }

    pub fn distance(self, other: Point) -> f32 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }
}

/// A 2-D affine map: (x, y) -> (a x + b y + c, d x + e y + f).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    pub m: [f32; 6],
}

impl Affine {
    pub const IDENTITY: Affine = Affine {
        m: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    };

    #[inline]
    pub fn apply(&self, p: Point) -> Point {
        let m = &self.m;
        Point::new(
            m[0] * p.x + m[1] * p.y + m[2],
            m[3] * p.x + m[4] * p.y + m[5],
        )
    }

    pub fn inverse(&self) -> Option<Affine> {
        let [a, b, c, d, e, f] = self.m;
        let det = a * e - b * d;
        if det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Some(Affine {
            m: [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)],
        })
    }

    /// `self` after `first`: maps p to self(first(p)).
    pub fn after(&self, first: &Affine) -> Affine {
        let [a, b, c, d, e, f] = self.m;
        let [p, q, r, s, t, u] = first.m;
        Affine {
            m: [
                a * p + b * s,
                a * q + b * t,
                a * r + b * u + c,
                d * p + e * s,
                d * q + e * t,
                d * r + e * u + f,
            ],
        }
    }

    /// The map from an output grid of `out_w` x `out_h` pixels onto a rotated rectangle of the
    /// image (centre, size, rotation in radians): output corners land on the rectangle's corners,
    /// as MediaPipe crops its regions of interest.
    pub fn from_rotated_rect(
        center: Point,
        size: (f32, f32),
        rotation: f32,
        out_w: usize,
        out_h: usize,
    ) -> Affine {
        let (s, c) = rotation.sin_cos();
        let (w, h) = size;
        let (sx, sy) = (w / out_w as f32, h / out_h as f32);
        Affine {
            m: [
                c * sx,
                -s * sy,
                center.x - 0.5 * w * c + 0.5 * h * s,
                s * sx,
                c * sy,
                center.y - 0.5 * w * s - 0.5 * h * c,
            ],
        }
    }

    /// The similarity transform (rotation, uniform scale, translation) that best maps `from` onto
    /// `to` in the least-squares sense (Umeyama without reflection).
    pub fn similarity(from: &[Point], to: &[Point]) -> Option<Affine> {
        let n = from.len().min(to.len());
        if n < 2 {
            return None;
        }
        let nf = n as f32;
        let (mut fx, mut fy, mut tx, mut ty) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            fx += from[i].x;
            fy += from[i].y;
            tx += to[i].x;
            ty += to[i].y;
        }
        let (fx, fy, tx, ty) = (fx / nf, fy / nf, tx / nf, ty / nf);
        let (mut a, mut b, mut var) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..n {
            let (px, py) = (from[i].x - fx, from[i].y - fy);
            let (qx, qy) = (to[i].x - tx, to[i].y - ty);
            a += px * qx + py * qy;
            b += px * qy - py * qx;
            var += px * px + py * py;
        }
        if var < 1e-12 {
            return None;
        }
        let (ca, sb) = (a / var, b / var);
        Some(Affine {
            m: [
                ca,
                -sb,
                tx - ca * fx + sb * fy,
                sb,
                ca,
                ty - sb * fx - ca * fy,
            ],
        })
    }

    /// The uniform scale of a similarity transform.
    pub fn scale(&self) -> f32 {
        (self.m[0] * self.m[0] + self.m[3] * self.m[3]).sqrt()
    }
}

/// Visits every pixel centre inside triangle `t` (edges included), within the pixels
/// `x0..=x1`, `y0..=y1`, with its barycentric weights: `f(x, y, [w0, w1, w2])`. A degenerate
/// triangle has none.
pub fn for_each_in_triangle(
    t: [Point; 3],
    (x0, y0, x1, y1): (usize, usize, usize, usize),
    mut f: impl FnMut(usize, usize, [f32; 3]),
) {
    let [a, b, c] = t;
    let edge = |p: Point, q: Point, r: Point| (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
    let area = edge(a, b, c);
    if area.abs() < 1e-6 {
        return;
    }
    let (minx, maxx) = (a.x.min(b.x).min(c.x), a.x.max(b.x).max(c.x));
    let (miny, maxy) = (a.y.min(b.y).min(c.y), a.y.max(b.y).max(c.y));
    let lo = |v: f32, low: usize, high: usize| v.floor().clamp(low as f32, high as f32) as usize;
    let hi = |v: f32, low: usize, high: usize| v.ceil().clamp(low as f32, high as f32) as usize;
    for y in lo(miny, y0, y1)..=hi(maxy, y0, y1) {
        for x in lo(minx, x0, x1)..=hi(maxx, x0, x1) {
            let p = Point::new(x as f32, y as f32);
            let w = [
                edge(b, c, p) / area,
                edge(c, a, p) / area,
                edge(a, b, p) / area,
            ];
            if w.iter().all(|&v| v >= -1e-4) {
                f(x, y, w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_round_trips() {
        let a = Affine::from_rotated_rect(Point::new(100.0, 50.0), (80.0, 80.0), 0.3, 192, 192);
        let p = Point::new(17.0, 150.0);
        let q = a.inverse().unwrap().apply(a.apply(p));
        assert!(p.distance(q) < 1e-3);
    }

    #[test]
    fn rotated_rect_corners_land_on_output_corners() {
        let a = Affine::from_rotated_rect(Point::new(100.0, 50.0), (80.0, 40.0), 0.0, 160, 80);
        assert!(
            a.apply(Point::new(0.0, 0.0))
                .distance(Point::new(60.0, 30.0))
                < 1e-4
        );
        assert!(
            a.apply(Point::new(160.0, 80.0))
                .distance(Point::new(140.0, 70.0))
                < 1e-4
        );
    }

    #[test]
    fn similarity_recovers_a_known_transform() {
        let t = Affine {
            m: [0.8, -0.6, 5.0, 0.6, 0.8, -3.0],
        };
        let from = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 2.0),
            Point::new(-4.0, 7.0),
        ];
        let to: Vec<Point> = from.iter().map(|&p| t.apply(p)).collect();
        let s = Affine::similarity(&from, &to).unwrap();
        for (a, b) in s.m.iter().zip(t.m.iter()) {
            assert!((a - b).abs() < 1e-4);
        }
    }
}
