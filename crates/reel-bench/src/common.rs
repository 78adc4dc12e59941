//! What the benchmarks share: medians, timing, frames decoded (and scaled by ffmpeg), and one
//! editing run end to end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use reel_face::{AnalyzerSettings, FaceAnalyzer};
use reel_image::Image;
use reel_video::{Codec, Decoder, Frame};

use crate::{BenchError, Result};

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

pub(crate) fn time_each<T>(items: &[T], mut f: impl FnMut(&T) -> Result<()>) -> Result<f64> {
    for x in items.iter().take(3) {
        f(x)?;
    }
    let mut times = Vec::with_capacity(items.len());
    for x in items {
        let t = Instant::now();
        f(x)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(times))
}

/// Decodes up to `n` frames, scaled by ffmpeg when `scale` is given (written to a temp file).
pub(crate) fn load(
    input: &Path,
    n: usize,
    scale: Option<(usize, usize)>,
    dir: &Path,
) -> Result<(Vec<Image>, PathBuf)> {
    let path = match scale {
        None => input.to_path_buf(),
        Some((w, h)) => {
            let out = dir.join(format!("{h}p.mp4"));
            let ok = Command::new("ffmpeg")
                .args(["-nostdin", "-v", "error", "-y", "-i"])
                .arg(input)
                .args([
                    "-vf",
                    &format!("scale={w}:{h}"),
                    "-c:v",
                    "libx264",
                    "-crf",
                    "16",
                    "-c:a",
                    "copy",
                ])
                .arg(&out)
                .status()?
                .success();
            if !ok {
                return Err(BenchError::other(format!(
                    "ffmpeg could not scale {}",
                    input.display()
                )));
            }
            out
        }
    };
    let mut dec = Decoder::open(&path)?;
    let mut frames = Vec::new();
    let mut f = Frame::default();
    while frames.len() < n && dec.next_frame(&mut f)? {
        frames.push(f.image.clone());
    }
    Ok((frames, path))
}

pub(crate) fn dump(frames: &[Image], path: &Path) -> Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for f in frames {
        file.write_all(&f.data)?;
    }
    let meta = serde_json::json!({"frames": frames.len(), "width": frames[0].width, "height": frames[0].height});
    std::fs::write(path.with_extension("json"), meta.to_string())?;
    Ok(())
}

pub(crate) fn analysis_ms(frames: &[Image]) -> Result<f64> {
    let mut analyzer = FaceAnalyzer::new(AnalyzerSettings::default())?;
    let mut i = 0;
    time_each(frames, |img| {
        i += 1;
        analyzer.analyze(img, i as f64 / 30.0)?;
        Ok(())
    })
}

pub(crate) fn fps(frames: usize, seconds: f64) -> f64 {
    frames as f64 / seconds
}

/// One editing run end to end (decode, analysis, `chain`, H.264 encode), as the edit commands
/// run it (`occlusion`: hands in front of faces looked for, as by default): frames written and
/// seconds taken.
pub(crate) fn edit_timed(
    input: &Path,
    output: &Path,
    chain: &mut reel_process::Chain,
    occlusion: bool,
) -> Result<(u64, f64)> {
    use reel_process::{FaceSelection, pipeline};
    let mut analysis = pipeline::editing_analysis(8, 1);
    analysis.occlusion = occlusion;
    let t = Instant::now();
    let report = pipeline::run(
        input,
        output,
        Codec::H264,
        18,
        None,
        analysis,
        &mut FaceSelection::All,
        chain,
        |_, _| true,
    )?;
    Ok((report.frames, t.elapsed().as_secs_f64()))
}
