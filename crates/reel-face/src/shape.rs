//! Face shape compared across poses: the 3-D mesh of one face is rotated, scaled and moved onto
//! another's (Horn's closed-form absolute orientation), and what remains is the difference in shape.

// Matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::mesh::Landmark;

type M3 = [[f64; 3]; 3];

fn centred(lm: &[Landmark]) -> (Vec<[f64; 3]>, f64) {
    let n = lm.len() as f64;
    let mut c = [0.0; 3];
    for l in lm {
        c[0] += l.x as f64 / n;
        c[1] += l.y as f64 / n;
        c[2] += l.z as f64 / n;
    }
    let pts: Vec<[f64; 3]> = lm
        .iter()
        .map(|l| [l.x as f64 - c[0], l.y as f64 - c[1], l.z as f64 - c[2]])
        .collect();
    let scale = (pts
        .iter()
        .map(|p| p[0] * p[0] + p[1] * p[1] + p[2] * p[2])
        .sum::<f64>()
        / n)
        .sqrt();
    (
        pts.into_iter()
            .map(|p| [p[0] / scale, p[1] / scale, p[2] / scale])
            .collect(),
        scale,
    )
}

/// The largest eigenvector of a symmetric 4x4 matrix, by Jacobi rotations.
fn top_eigenvector(mut a: [[f64; 4]; 4]) -> [f64; 4] {
    let mut v = [[0.0; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _ in 0..50 {
        let mut off = 0.0;
        for p in 0..4 {
            for q in p + 1..4 {
                off += a[p][q] * a[p][q];
            }
        }
        if off < 1e-20 {
            break;
        }
        for p in 0..4 {
            for q in p + 1..4 {
                if a[p][q].abs() < 1e-30 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..4 {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..4 {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let best = (0..4)
        .max_by(|&i, &j| a[i][i].total_cmp(&a[j][j]))
        .unwrap_or(0);
    [v[0][best], v[1][best], v[2][best], v[3][best]]
}

fn rotation(q: [f64; 4]) -> M3 {
    let [w, x, y, z] = q;
    [
        [
            w * w + x * x - y * y - z * z,
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            w * w - x * x + y * y - z * z,
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            w * w - x * x - y * y + z * z,
        ],
    ]
}

/// How different two faces' shapes are, whatever their pose, position and size: the RMS distance
/// between the meshes after the best rotation, as a fraction of the face's size (0 is identical;
/// two views of one person are typically below 0.03).
pub fn shape_distance(a: &[Landmark], b: &[Landmark]) -> f32 {
    let (pa, _) = centred(a);
    let (pb, _) = centred(b);
    // Horn: the rotation taking b onto a is the top eigenvector of N built from the cross-covariance.
    let mut s = [[0.0f64; 3]; 3];
    for (p, q) in pb.iter().zip(&pa) {
        for i in 0..3 {
            for j in 0..3 {
                s[i][j] += p[i] * q[j];
            }
        }
    }
    let n = [
        [
            s[0][0] + s[1][1] + s[2][2],
            s[1][2] - s[2][1],
            s[2][0] - s[0][2],
            s[0][1] - s[1][0],
        ],
        [
            s[1][2] - s[2][1],
            s[0][0] - s[1][1] - s[2][2],
            s[0][1] + s[1][0],
            s[2][0] + s[0][2],
        ],
        [
            s[2][0] - s[0][2],
            s[0][1] + s[1][0],
            -s[0][0] + s[1][1] - s[2][2],
            s[1][2] + s[2][1],
        ],
        [
            s[0][1] - s[1][0],
            s[2][0] + s[0][2],
            s[1][2] + s[2][1],
            -s[0][0] - s[1][1] + s[2][2],
        ],
    ];
    let r = rotation(top_eigenvector(n));
    let mut sum = 0.0;
    for (p, q) in pb.iter().zip(&pa) {
        let rp = [
            r[0][0] * p[0] + r[0][1] * p[1] + r[0][2] * p[2],
            r[1][0] * p[0] + r[1][1] * p[1] + r[1][2] * p[2],
            r[2][0] * p[0] + r[2][1] * p[1] + r[2][2] * p[2],
        ];
        sum += (rp[0] - q[0]).powi(2) + (rp[1] - q[1]).powi(2) + (rp[2] - q[2]).powi(2);
    }
    (sum / pa.len().max(1) as f64).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_scaled_copy_has_the_same_shape() {
        let a: Vec<Landmark> = (0..50)
            .map(|i| {
                let t = i as f32 * 0.7;
                Landmark {
                    x: t.sin() * 40.0,
                    y: t.cos() * 55.0 + i as f32,
                    z: (t * 1.3).sin() * 20.0,
                }
            })
            .collect();
        let (s, c) = (0.5f32).sin_cos();
        let b: Vec<Landmark> = a
            .iter()
            .map(|l| Landmark {
                x: 2.0 * (c * l.x + s * l.z) + 300.0,
                y: 2.0 * l.y - 40.0,
                z: 2.0 * (-s * l.x + c * l.z),
            })
            .collect();
        assert!(shape_distance(&a, &b) < 1e-4);
        let mut d = b.clone();
        for l in d.iter_mut().take(10) {
            l.y += 30.0;
        }
        assert!(shape_distance(&a, &d) > 0.05);
    }
}
