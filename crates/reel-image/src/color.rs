//! sRGB (D65) and CIELAB.

fn linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn gamma(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// sRGB values in 0..255 to CIELAB.
pub fn rgb_to_lab(rgb: [f32; 3]) -> [f32; 3] {
    let (r, g, b) = (
        linear(rgb[0] / 255.0),
        linear(rgb[1] / 255.0),
        linear(rgb[2] / 255.0),
    );
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f32| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIELAB to sRGB values in 0..255 (not clamped).
pub fn lab_to_rgb(lab: [f32; 3]) -> [f32; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let (fx, fz) = (fy + lab[1] / 500.0, fy - lab[2] / 200.0);
    let inv = |t: f32| {
        if t > 0.206_893 {
            t * t * t
        } else {
            (t - 16.0 / 116.0) / 7.787
        }
    };
    let (x, y, z) = (inv(fx) * 0.95047, inv(fy), inv(fz) * 1.08883);
    let r = 3.2406 * x - 1.5372 * y - 0.4986 * z;
    let g = -0.9689 * x + 1.8758 * y + 0.0415 * z;
    let b = 0.0557 * x - 0.2040 * y + 1.0570 * z;
    [gamma(r) * 255.0, gamma(g) * 255.0, gamma(b) * 255.0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_round_trips_and_matches_known_values() {
        let red = rgb_to_lab([255.0, 0.0, 0.0]);
        assert!(
            (red[0] - 53.24).abs() < 0.2
                && (red[1] - 80.09).abs() < 0.3
                && (red[2] - 67.20).abs() < 0.3
        );
        for c in [
            [12.0, 200.0, 90.0],
            [250.0, 250.0, 250.0],
            [3.0, 4.0, 5.0],
            [180.0, 120.0, 100.0],
        ] {
            let back = lab_to_rgb(rgb_to_lab(c));
            for k in 0..3 {
                assert!((back[k] - c[k]).abs() < 0.5, "{c:?} -> {back:?}");
            }
        }
    }
}
