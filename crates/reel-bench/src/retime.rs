//! `reel bench retime`: doubling a clip's frame rate end to end (decode, the frames between
//! made, H.264 encode), reel's optical flow beside ffmpeg's motion-compensated `minterpolate`
//! on the same clip and encoder settings, and the pipeline that only repeats frames.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use clap::Args;
use reel_clips::{Method, Output, RetimeSettings};
use reel_video::{Codec, probe};

use crate::common::{load, median};
use crate::{BenchError, Result, sample};

#[derive(Args)]
pub struct BenchRetimeArgs {
    /// The clip to measure on (by default the sample talking head, scaled to 720p).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Runs of each job; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

pub fn retime(args: &BenchRetimeArgs) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("reel-bench-retime-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        let input = match &args.input {
            Some(p) => p.clone(),
            None => load(&sample("talking_head.mp4"), 1, Some((1280, 720)), &dir)?.1,
        };
        let info = probe(&input)?;
        let rate = (info.frame_rate.0 * 2, info.frame_rate.1);
        let rate_text = format!("{}/{}", rate.0, rate.1);
        println!(
            "reel bench retime: {} ({}x{}, {} frames) to twice its rate ({rate_text}), end to end with decode and H.264 encode (CRF 18, medium), median of {} runs",
            input.display(),
            info.width,
            info.height,
            info.declared_frames
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            args.runs.max(1)
        );
        let out = dir.join("out.mp4");
        let reel_run = |method: Method| -> Result<(u64, f64)> {
            let settings = RetimeSettings {
                rate: Some(rate),
                method,
                ..RetimeSettings::default()
            };
            let output = Output {
                path: out.clone(),
                codec: Codec::H264,
                crf: 18,
                seal: None,
            };
            let t = Instant::now();
            let report = reel_clips::retime(&input, &settings, &output, |_, _| {}, |_, _| true)
                .map_err(|e| BenchError::other(e.to_string()))?;
            Ok((report.frames, t.elapsed().as_secs_f64()))
        };
        let ffmpeg_run = || -> Result<f64> {
            let t = Instant::now();
            let ok = Command::new("ffmpeg")
                .args(["-nostdin", "-v", "error", "-y", "-i"])
                .arg(&input)
                .args(["-vf", &format!("minterpolate=fps={rate_text}")])
                .args([
                    "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-c:a", "copy",
                ])
                .arg(&out)
                .status()?
                .success();
            if !ok {
                return Err(BenchError::other("ffmpeg's minterpolate failed"));
            }
            Ok(t.elapsed().as_secs_f64())
        };
        let (mut flow, mut nearest, mut reference) = (Vec::new(), Vec::new(), Vec::new());
        let mut frames = 0;
        for _ in 0..args.runs.max(1) {
            let (n, seconds) = reel_run(Method::Flow)?;
            frames = n;
            flow.push(seconds);
            nearest.push(reel_run(Method::Nearest)?.1);
            reference.push(ffmpeg_run()?);
        }
        let (flow, nearest, reference) = (median(flow), median(nearest), median(reference));
        let fps = |s: f64| frames as f64 / s;
        println!(
            "  reel retime (flow)           {:7.1} output fps   {flow:6.2} s",
            fps(flow)
        );
        println!(
            "  ffmpeg minterpolate (mci)    {:7.1} output fps   {reference:6.2} s",
            fps(reference)
        );
        println!(
            "  reel retime (nearest: decode, repeat, encode) {:5.1} output fps   {nearest:6.2} s",
            fps(nearest)
        );
        println!("  ratio reel / ffmpeg (time)   {:.2}", flow / reference);
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
