//! Head pose from the mesh's 3-D landmarks.

use serde::Serialize;

use crate::mesh::Landmark;

/// Head orientation in degrees. Yaw is positive when the face turns towards the image's right,
/// pitch when it tilts up, roll when the eye line turns clockwise in the image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Pose {
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

type V3 = [f32; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn unit(a: V3) -> V3 {
    let n = dot(a, a).sqrt().max(1e-9);
    [a[0] / n, a[1] / n, a[2] / n]
}

fn mean(lm: &[Landmark], idx: &[usize]) -> V3 {
    let mut s = [0.0; 3];
    for &i in idx {
        s[0] += lm[i].x;
        s[1] += lm[i].y;
        s[2] += lm[i].z;
    }
    let n = idx.len() as f32;
    [s[0] / n, s[1] / n, s[2] / n]
}

/// Builds the head's frame from its own geometry: the axis between the eyes and the axis from
/// chin to forehead; the face's forward direction is their cross product.
pub fn head_pose(lm: &[Landmark]) -> Pose {
    // Outer and inner eye corners of each eye, forehead and chin on the midline.
    let right_eye = mean(lm, &[33, 133]);
    let left_eye = mean(lm, &[263, 362]);
    let forehead = mean(lm, &[10, 151]);
    let chin = mean(lm, &[152, 175]);
    let x = unit(sub(left_eye, right_eye));
    let up = sub(forehead, chin);
    let y = unit(sub(up, {
        let d = dot(up, x);
        [x[0] * d, x[1] * d, x[2] * d]
    }));
    // Image axes are x right, y down, z away from the camera: forward points at the camera.
    let f = cross(x, y);
    Pose {
        yaw: f[0].atan2(-f[2]).to_degrees(),
        pitch: (-f[1])
            .atan2((f[0] * f[0] + f[2] * f[2]).sqrt())
            .to_degrees(),
        roll: x[1].atan2(x[0]).to_degrees(),
    }
}
