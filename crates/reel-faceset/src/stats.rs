//! `reel faceset stats`: the spread of poses, lighting and sharpness a model would learn from.

use std::fmt::Write;
use std::path::Path;

use crate::FacesetError;
use crate::record::read_set;

fn histogram(out: &mut String, title: &str, values: &[f32], edges: &[f32]) {
    let _ = writeln!(out, "{title}");
    let n = values.len().max(1);
    for w in edges.windows(2) {
        let count = values.iter().filter(|&&v| v >= w[0] && v < w[1]).count();
        let bar = "#".repeat((count * 40).div_ceil(n));
        let _ = writeln!(out, "  {:>6.0} .. {:<6.0} {count:>6}  {bar}", w[0], w[1]);
    }
}

fn percentile(values: &[f32], p: f32) -> f32 {
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    v[((v.len() - 1) as f32 * p).round() as usize]
}

/// A text report of a face set.
pub fn report(dir: &Path) -> Result<String, FacesetError> {
    let set = read_set(dir)?;
    let mut out = String::new();
    let mut sources: Vec<String> = set
        .iter()
        .map(|(_, r)| r.source.display().to_string())
        .collect();
    sources.sort();
    sources.dedup();
    let _ = writeln!(
        out,
        "{}: {} faces from {} source{}",
        dir.display(),
        set.len(),
        sources.len(),
        if sources.len() == 1 { "" } else { "s" }
    );
    for s in &sources {
        let _ = writeln!(
            out,
            "  {s}: {}",
            set.iter()
                .filter(|(_, r)| r.source.display().to_string() == *s)
                .count()
        );
    }
    let yaw: Vec<f32> = set.iter().map(|(_, r)| r.pose.yaw).collect();
    let pitch: Vec<f32> = set.iter().map(|(_, r)| r.pose.pitch).collect();
    let light: Vec<f32> = set.iter().map(|(_, r)| r.light_balance * 100.0).collect();
    let luma: Vec<f32> = set.iter().map(|(_, r)| r.skin_lab[0]).collect();
    let sharp: Vec<f32> = set.iter().map(|(_, r)| r.sharpness).collect();
    histogram(
        &mut out,
        "yaw (degrees; + turned towards the image's right)",
        &yaw,
        &[
            -90.0, -45.0, -30.0, -15.0, -5.0, 5.0, 15.0, 30.0, 45.0, 90.0,
        ],
    );
    histogram(
        &mut out,
        "pitch (degrees; + looking up)",
        &pitch,
        &[-90.0, -30.0, -15.0, -5.0, 5.0, 15.0, 30.0, 90.0],
    );
    histogram(
        &mut out,
        "light from (- image left, + image right; % luma difference of the face halves)",
        &light,
        &[-100.0, -15.0, -5.0, 5.0, 15.0, 100.0],
    );
    histogram(
        &mut out,
        "skin lightness (CIELAB L)",
        &luma,
        &[0.0, 30.0, 45.0, 60.0, 75.0, 101.0],
    );
    let _ = writeln!(
        out,
        "sharpness (variance of the Laplacian, 112 px crop): min {:.0}, median {:.0}, max {:.0}",
        percentile(&sharp, 0.0),
        percentile(&sharp, 0.5),
        percentile(&sharp, 1.0)
    );
    let frontal = yaw.iter().filter(|y| y.abs() < 15.0).count();
    let _ = writeln!(
        out,
        "coverage: {frontal} near-frontal, {} turned left, {} turned right; a swap model learns best from 300+ faces over every pose it must render",
        yaw.iter().filter(|&&y| y <= -15.0).count(),
        yaw.iter().filter(|&&y| y >= 15.0).count()
    );
    Ok(out)
}
