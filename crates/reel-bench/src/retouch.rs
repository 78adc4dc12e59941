//! `reel bench retouch`: the retouching processors and the photo swap end to end.

use std::path::PathBuf;

use clap::Args;
use reel_video::probe;

use crate::common::{edit_timed, load, median};
use crate::{Result, sample};

#[derive(Args)]
pub struct BenchRetouchArgs {
    /// The clip to measure on (by default the sample talking head, scaled to 720p).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Runs of each job; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// `reel bench retouch`: beauty, de-aging and the instant swap end to end (decode, analysis, processing, H.264
/// encode) on 720p video, beside the same pipeline with no processor.
pub fn retouch(args: &BenchRetouchArgs) -> Result<()> {
    use reel_process::{Beauty, BeautySettings, Chain, Deage, DeageSettings};
    let dir = std::env::temp_dir().join(format!("reel-bench-retouch-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        let input = match &args.input {
            Some(p) => p.clone(),
            None => {
                let sample = sample("talking_head.mp4");
                load(&sample, 1, Some((1280, 720)), &dir)?.1
            }
        };
        let info = probe(&input)?;
        println!(
            "reel bench retouch: {} ({}x{}, {} frames), end to end with decode and H.264 encode, median of {} runs; the bare pipeline without occlusion is the base",
            input.display(),
            info.width,
            info.height,
            info.declared_frames
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            args.runs.max(1)
        );
        type MakeChain = fn() -> Result<Chain>;
        let jobs: [(&str, MakeChain); 6] = [
            ("decode + analysis + encode", || Ok(Chain::new())),
            ("beauty (strength 0.7)", || {
                Ok(Chain::new().then(Beauty::new(BeautySettings::default())?))
            }),
            ("beauty 0.7 + watermark", || {
                Ok(Chain::new()
                    .then(Beauty::new(BeautySettings::default())?)
                    .then(reel_process::Watermark::new(reel_watermark::Marker::new(
                        0x0123_4567_89AB_CDEF,
                        None,
                    ))))
            }),
            ("swap from a photo", || {
                let photo = sample("grace_hopper.jpg");
                Ok(Chain::new().then(reel_process::PhotoSwap::from_photos(&[photo])?))
            }),
            ("deage (20 years)", || {
                Ok(Chain::new().then(Deage::new(DeageSettings { years: 20.0 })?))
            }),
            ("deage 20 + beauty 0.5", || {
                Ok(Chain::new()
                    .then(Deage::new(DeageSettings { years: 20.0 })?)
                    .then(Beauty::new(BeautySettings {
                        strength: 0.5,
                        ..BeautySettings::default()
                    })?))
            }),
        ];
        // Each job with occlusion (hands looked for, the default) and without, one run of
        // each after the other, so the two are measured in the same conditions.
        let mut baseline = None;
        for (name, make) in jobs {
            let (mut with, mut without) = (Vec::new(), Vec::new());
            let mut frames = 0;
            for _ in 0..args.runs.max(1) {
                for occlusion in [true, false] {
                    let out = dir.join("out.mp4");
                    let (n, seconds) = edit_timed(&input, &out, &mut make()?, occlusion)?;
                    if occlusion { &mut with } else { &mut without }.push(seconds);
                    frames = n;
                }
            }
            let fps = frames as f64 / median(with);
            let fps_without = frames as f64 / median(without);
            let base = *baseline.get_or_insert(fps_without);
            println!(
                "  {name:<28} {fps:7.1} fps   {:5.2}x the time of the bare pipeline   ({fps_without:.1} fps without occlusion: {:.2}x)",
                base / fps,
                fps_without / fps
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
