//! `reel bench watermark`: the watermark's invisibility (PSNR on luma) and robustness (payload
//! recovered after what platforms do to media) on real clips and stills, and its false positives
//! on the unmarked originals.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;
use reel_image::Image;
use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame, probe};
use reel_watermark::{Detector, Marker};

use crate::{BenchError, Result};

#[derive(Args)]
pub struct BenchWatermarkArgs {
    /// Clips and stills to measure on, or folders of them.
    #[arg(required = true)]
    pub media: Vec<PathBuf>,
    /// Seconds of each clip to mark (clips are cut from their start, and again from their middle).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Print one line per case as well as the table.
    #[arg(long)]
    pub verbose: bool,
}

/// An attack: what it is called, whether it applies to stills, and the ffmpeg filter and
/// encoding that carries it out (None: a JPEG at quality 75 of a half-size frame).
struct Attack {
    name: &'static str,
    video_only: bool,
    filter: Option<&'static str>,
    crf: Option<u8>,
    seek: Option<(f64, f64)>,
}

const ATTACKS: [Attack; 7] = [
    Attack {
        name: "as written",
        video_only: false,
        filter: None,
        crf: None,
        seek: None,
    },
    Attack {
        name: "H.264 CRF 28",
        video_only: false,
        filter: Some("null"),
        crf: Some(28),
        seek: None,
    },
    Attack {
        name: "CRF 28 + 0.5x",
        video_only: false,
        filter: Some("scale=trunc(iw/4)*2:trunc(ih/4)*2"),
        crf: Some(28),
        seek: None,
    },
    Attack {
        name: "centre crop 71%",
        video_only: false,
        filter: Some("crop=trunc(iw*0.355)*2:trunc(ih*0.355)*2"),
        crf: Some(18),
        seek: None,
    },
    Attack {
        name: "JPEG 75 at half size",
        video_only: false,
        filter: None,
        crf: None,
        seek: Some((0.0, 0.0)),
    },
    Attack {
        name: "brightness +20%",
        video_only: false,
        filter: Some("lutrgb=r=val*1.2:g=val*1.2:b=val*1.2"),
        crf: Some(18),
        seek: None,
    },
    Attack {
        name: "brightness -20%",
        video_only: false,
        filter: Some("lutrgb=r=val*0.8:g=val*0.8:b=val*0.8"),
        crf: Some(18),
        seek: None,
    },
];

const EXCERPT: Attack = Attack {
    name: "2-second excerpt",
    video_only: true,
    filter: Some("null"),
    crf: Some(23),
    seek: Some((0.5, 2.0)),
};

struct Case {
    name: String,
    still: bool,
    frames: Vec<Image>,
    source: PathBuf,
}

pub fn watermark(args: &BenchWatermarkArgs) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("reel-bench-watermark-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn media_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn cases(args: &BenchWatermarkArgs) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for path in media_files(&args.media)? {
        let Ok(info) = probe(&path) else {
            continue;
        };
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let still = info.declared_frames.is_none_or(|n| n <= 1)
            || Codec::for_path(&path).ok() == Some(Codec::Image);
        let mut dec = Decoder::open(&path)?;
        let rate = info.frame_rate.0 as f64 / info.frame_rate.1.max(1) as f64;
        let per_clip = if still {
            1
        } else {
            (args.seconds * rate).round().max(1.0) as usize
        };
        let mut all = Vec::new();
        let mut f = Frame::default();
        while dec.next_frame(&mut f)? {
            all.push(f.image.clone());
            if still {
                break;
            }
        }
        if all.is_empty() {
            continue;
        }
        let starts: Vec<usize> = if still || all.len() < 2 * per_clip {
            vec![0]
        } else {
            vec![0, all.len() / 2]
        };
        for (k, s) in starts.iter().enumerate() {
            let frames: Vec<Image> = all[*s..(*s + per_clip).min(all.len())].to_vec();
            cases.push(Case {
                name: if starts.len() > 1 {
                    format!("{name} #{}", k + 1)
                } else {
                    name.clone()
                },
                still,
                frames,
                source: path.clone(),
            });
        }
    }
    Ok(cases)
}

fn luma_psnr(a: &Image, b: &Image) -> f64 {
    let mut se = 0.0f64;
    for (p, q) in a.data.chunks_exact(3).zip(b.data.chunks_exact(3)) {
        let y = |p: &[u8]| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64;
        se += (y(p) - y(q)).powi(2);
    }
    let mse = se / (a.width * a.height) as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

fn write(frames: &[Image], path: &Path, codec: Codec, rate: (i64, i64)) -> Result<()> {
    let settings = EncoderSettings {
        codec,
        crf: 18,
        audio_from: None,
        source: None,
        length: None,
        seal: None,
        frame_rate: None,
    };
    let mut enc = Encoder::create(path, frames[0].width, frames[0].height, &settings)?;
    for (i, f) in frames.iter().enumerate() {
        let time = reel_video::Timestamp {
            pts: i as i64 * rate.1,
            num: 1,
            den: rate.0.max(1),
        };
        enc.write(f, Some(time))?;
    }
    enc.finish()?;
    Ok(())
}

fn ffmpeg(input: &Path, output: &Path, attack: &Attack) -> Result<()> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-y"]);
    if let Some((start, len)) = attack.seek.filter(|s| s.1 > 0.0) {
        cmd.args(["-ss", &start.to_string(), "-t", &len.to_string()]);
    }
    cmd.arg("-i").arg(input);
    // H.264 in 4:2:0 needs even sides.
    let even = if attack.crf.is_some() {
        ",scale=trunc(iw/2)*2:trunc(ih/2)*2"
    } else {
        ""
    };
    cmd.args(["-vf", &format!("{}{even}", attack.filter.unwrap_or("null"))]);
    match attack.crf {
        Some(crf) => cmd.args([
            "-c:v",
            "libx264",
            "-preset",
            "medium",
            "-crf",
            &crf.to_string(),
            "-pix_fmt",
            "yuv420p",
        ]),
        None => cmd.args(["-c:v", "png"]),
    };
    let ok = cmd.arg(output).status()?.success();
    if !ok {
        return Err(BenchError::other(format!(
            "ffmpeg could not attack {}",
            input.display()
        )));
    }
    Ok(())
}

/// Half size by ffmpeg's area filter, then a JPEG at quality 75 of the first frame.
fn jpeg_half(input: &Path, output: &Path, dir: &Path) -> Result<()> {
    let half = dir.join("half.png");
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(input)
        .args([
            "-vf",
            "scale=trunc(iw/4)*2:trunc(ih/4)*2:flags=area",
            "-frames:v",
            "1",
        ])
        .arg(&half)
        .status()?
        .success();
    if !ok {
        return Err(BenchError::other("ffmpeg could not halve the frame"));
    }
    let mut dec = Decoder::open(&half)?;
    let mut f = Frame::default();
    dec.next_frame(&mut f)?;
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, 75)
        .encode(
            &f.image.data,
            f.image.width as u16,
            f.image.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| BenchError::other(format!("jpeg: {e}")))?;
    std::fs::write(output, bytes)?;
    Ok(())
}

fn detect_file(path: &Path) -> Result<reel_watermark::Detection> {
    let mut dec = Decoder::open(path)?;
    let mut f = Frame::default();
    let mut detector = Detector::new();
    while detector.frames() < 150 && dec.next_frame(&mut f)? {
        detector.add(&f.image);
    }
    Ok(detector.detect())
}

fn run(args: &BenchWatermarkArgs, dir: &Path) -> Result<()> {
    let cases = cases(args)?;
    if cases.is_empty() {
        return Err(BenchError::other(
            "no readable clips or stills among the inputs",
        ));
    }
    let sources: std::collections::BTreeSet<&Path> =
        cases.iter().map(|c| c.source.as_path()).collect();
    println!(
        "reel bench watermark: {} cases ({} clips, {} stills) from {} files",
        cases.len(),
        cases.iter().filter(|c| !c.still).count(),
        cases.iter().filter(|c| c.still).count(),
        sources.len()
    );
    let attacks: Vec<&Attack> = ATTACKS.iter().chain(std::iter::once(&EXCERPT)).collect();
    let mut exact = vec![0usize; attacks.len()];
    let mut tried = vec![0usize; attacks.len()];
    let mut bits = vec![0usize; attacks.len()];
    let mut psnrs = Vec::new();
    let mut false_positives = 0;
    let mut unmarked_sync: Vec<f32> = Vec::new();
    let mut seed = 0x5EED_u64;
    // Frames after the first, and each output's first frame (marked and read back).
    let (mut mark_s, mut marked_frames) = (0.0, 0usize);
    let mut first_ms: Vec<f64> = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let payload = seed ^ (seed >> 29);
        // As reel marks what it writes: the first frame read back, the mark strengthened
        // where it did not read.
        let mut marker = Marker::new(payload, None);
        let mut marked = case.frames.clone();
        for (i, f) in marked.iter_mut().enumerate() {
            let t = Instant::now();
            marker.mark(f, i as f64 / 25.0);
            if i == 0 {
                first_ms.push(1000.0 * t.elapsed().as_secs_f64());
            } else {
                mark_s += t.elapsed().as_secs_f64();
                marked_frames += 1;
            }
        }
        let psnr = marked
            .iter()
            .zip(&case.frames)
            .map(|(m, o)| luma_psnr(m, o))
            .sum::<f64>()
            / marked.len() as f64;
        psnrs.push(psnr);
        let rate = probe(&case.source).map(|i| i.frame_rate).unwrap_or((25, 1));
        let (ext, codec) = if case.still {
            ("png", Codec::Image)
        } else {
            ("mp4", Codec::H264)
        };
        let original = dir.join(format!("original-{n}.{ext}"));
        write(&case.frames, &original, codec, rate)?;
        let clean = detect_file(&original)?;
        unmarked_sync.push(clean.sync);
        false_positives += usize::from(clean.found());
        let marked_path = dir.join(format!("marked-{n}.{ext}"));
        write(&marked, &marked_path, codec, rate)?;
        let mut line = format!(
            "{:<28} {:>5.1} dB (strength {:.2})  unmarked sync {:>4.1} period {}",
            case.name,
            psnr,
            marker.strength(),
            clean.sync,
            reel_watermark::period(case.frames[0].width, case.frames[0].height)
        );
        for (i, attack) in attacks.iter().enumerate() {
            if attack.video_only && case.still {
                continue;
            }
            let attacked = if attack.name == "as written" {
                marked_path.clone()
            } else if attack.filter.is_none() {
                let out = dir.join(format!("attacked-{n}-{i}.jpg"));
                jpeg_half(&marked_path, &out, dir)?;
                out
            } else {
                let out = dir.join(format!(
                    "attacked-{n}-{i}.{}",
                    if attack.crf.is_some() { "mp4" } else { "png" }
                ));
                ffmpeg(&marked_path, &out, attack)?;
                out
            };
            let found = detect_file(&attacked)?;
            tried[i] += 1;
            let ok = found.payload == Some(payload);
            exact[i] += usize::from(ok);
            if ok {
                bits[i] += found.bit_errors.unwrap_or(0);
            }
            line += &format!(
                " | {}{:.0} p{:.1}",
                if ok { "+" } else { "-" },
                found.sync,
                found.period
            );
        }
        if args.verbose {
            println!("{line}");
        }
    }
    println!();
    println!(
        "| attack | cases | payload exact | coded-bit errors before correction (mean, of 204) |"
    );
    println!("|---|---|---|---|");
    for (i, attack) in attacks.iter().enumerate() {
        if tried[i] == 0 {
            continue;
        }
        println!(
            "| {} | {} | {} ({:.1} %) | {:.1} |",
            attack.name,
            tried[i],
            exact[i],
            100.0 * exact[i] as f64 / tried[i] as f64,
            bits[i] as f64 / exact[i].max(1) as f64
        );
    }
    psnrs.sort_by(f64::total_cmp);
    println!();
    println!(
        "PSNR on luma, marked against unmarked: min {:.1} dB, median {:.1} dB over {} cases",
        psnrs[0],
        psnrs[psnrs.len() / 2],
        psnrs.len()
    );
    let max_sync = unmarked_sync.iter().cloned().fold(0.0f32, f32::max);
    println!(
        "unmarked originals: {false_positives} of {} called marked (highest sync {:.1}); a payload needs its CRC-32 to hold, which noise passes with probability 2^-32 a try, at most 384 tries a search (3 periods, 8 phases, 16 decoded paths): under 9e-8 a file",
        cases.len(),
        max_sync
    );
    first_ms.sort_by(f64::total_cmp);
    println!(
        "marking: {:.2} ms a frame over {} frames after the first; a first frame (marked and read back) {:.0} ms median, {:.0} ms at most",
        1000.0 * mark_s / marked_frames.max(1) as f64,
        marked_frames,
        first_ms.get(first_ms.len() / 2).copied().unwrap_or(0.0),
        first_ms.last().copied().unwrap_or(0.0),
    );
    Ok(())
}
