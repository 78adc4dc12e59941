//! `reel faceset extract`: aligned crops of one person's face from footage, with landmarks, mask,
//! pose, sharpness, identity and skin tone beside each; blurred, occluded, extreme-pose and
//! near-duplicate faces left out.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use reel_core::output::write_atomic;
use reel_face::identity::{Descriptor, SAME_PERSON, distance};
use reel_face::mask::{Region, face_mask};
use reel_face::{Alignment, AnalyzerSettings, Face, FaceAnalyzer, FaceRecognizer};
use reel_image::Image;
use reel_video::{Decoder, Frame};
use serde::Serialize;

use crate::FacesetError;
use crate::record::FaceRecord;
use crate::tone::skin_tone;

/// Whose faces to keep.
pub enum Subject {
    /// The largest face of each frame.
    Largest,
    /// Every face.
    All,
    /// The person of this descriptor.
    Like(Box<Descriptor>),
}

pub struct ExtractSettings {
    pub size: usize,
    pub margin: f32,
    /// Look at every n-th frame.
    pub every: u64,
    /// Stop after this many faces.
    pub limit: Option<usize>,
    /// Variance of the Laplacian of the aligned 112 px crop below which a face is too blurred.
    pub min_sharpness: f32,
    pub max_yaw: f32,
    pub max_pitch: f32,
    /// Mesh confidence below which a face is taken as occluded.
    pub min_presence: f32,
    /// Faces none of whose landmarks moved more than this fraction of the crop since the last
    /// kept face of the same track are near-duplicates.
    pub min_change: f32,
    pub subject: Subject,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        ExtractSettings {
            size: 256,
            margin: 0.4,
            every: 1,
            limit: None,
            min_sharpness: 15.0,
            max_yaw: 55.0,
            max_pitch: 40.0,
            min_presence: 0.9,
            min_change: 0.01,
            subject: Subject::Largest,
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct ExtractReport {
    pub frames: u64,
    pub faces_seen: u64,
    pub kept: u64,
    pub blurred: u64,
    pub extreme_pose: u64,
    pub occluded: u64,
    pub near_duplicates: u64,
    pub other_people: u64,
    /// Frames skipped because an earlier run already took their faces into the set.
    pub already_in_set: u64,
}

/// The next free record number in a face set directory.
fn next_index(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(".json"))
                        .and_then(|n| n.parse::<usize>().ok())
                })
                .map(|n| n + 1)
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

fn chosen<'a>(
    faces: &'a [Face],
    subject: &Subject,
    recognizer: &mut FaceRecognizer,
    image: &Image,
    report: &mut ExtractReport,
) -> Result<Vec<&'a Face>, FacesetError> {
    Ok(match subject {
        Subject::All => faces.iter().collect(),
        Subject::Largest => faces
            .iter()
            .max_by(|a, b| (a.bbox[2] * a.bbox[3]).total_cmp(&(b.bbox[2] * b.bbox[3])))
            .into_iter()
            .collect(),
        Subject::Like(reference) => {
            let mut best: Option<(&Face, f32)> = None;
            for f in faces {
                let d = distance(reference, &recognizer.describe(image, &f.landmarks)?);
                if d < SAME_PERSON && best.is_none_or(|(_, b)| d < b) {
                    best = Some((f, d));
                }
            }
            report.other_people += faces.len() as u64 - u64::from(best.is_some());
            best.map(|(f, _)| f).into_iter().collect()
        }
    })
}

/// Extracts faces from `inputs` into the directory `out` (created if needed; records already
/// there are kept and numbering continues). `progress` hears each source and frame; returning
/// false cancels.
pub fn extract(
    inputs: &[PathBuf],
    out: &Path,
    settings: &ExtractSettings,
    mut progress: impl FnMut(&Path, u64, Option<u64>) -> bool,
) -> Result<ExtractReport, FacesetError> {
    if settings.size < 64 || settings.size > 2048 {
        return Err(FacesetError::Settings(format!(
            "--size must be between 64 and 2048, not {}",
            settings.size
        )));
    }
    if settings.every == 0 {
        return Err(FacesetError::Settings("--every must be at least 1".into()));
    }
    for (name, value, lo, hi) in [
        ("--margin", settings.margin, 0.0, 2.0),
        ("--min-sharpness", settings.min_sharpness, 0.0, 1e6),
        ("--max-yaw", settings.max_yaw, 0.0, 90.0),
        ("--max-pitch", settings.max_pitch, 0.0, 90.0),
        ("--min-change", settings.min_change, 0.0, 1.0),
    ] {
        if !(value.is_finite() && (lo..=hi).contains(&value)) {
            return Err(FacesetError::Settings(format!(
                "{name} must be between {lo} and {hi}, not {value}"
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(reel_core::io(format!("creating {}", out.display())))?;
    // One run at a time into a face set: two would number their faces alike.
    let _lock = reel_core::output::FolderLock::take(out)?;
    let mut report = ExtractReport::default();
    let result = extract_into(inputs, out, settings, &mut progress, &mut report);
    // What was kept stays, reported, however the run ended.
    let written = finish(out, &report);
    match result {
        Ok(()) => written.map(|_| report),
        Err(FacesetError::Cancelled) => Err(FacesetError::Interrupted {
            kept: report.kept,
            set: out.to_path_buf(),
        }),
        Err(e) => Err(e),
    }
}

/// Frames of each source already in the set, so that a run again goes on instead of
/// duplicating them.
fn already_in(out: &Path) -> HashMap<PathBuf, HashSet<u64>> {
    let mut done: HashMap<PathBuf, HashSet<u64>> = HashMap::new();
    for (_, r) in crate::record::read_set(out).unwrap_or_default() {
        let source = r.source.canonicalize().unwrap_or(r.source);
        done.entry(source).or_default().insert(r.frame);
    }
    done
}

fn extract_into(
    inputs: &[PathBuf],
    out: &Path,
    settings: &ExtractSettings,
    progress: &mut impl FnMut(&Path, u64, Option<u64>) -> bool,
    report: &mut ExtractReport,
) -> Result<(), FacesetError> {
    let mut index = next_index(out);
    let done = already_in(out);
    let mut recognizer = FaceRecognizer::new(1)?;
    let mut crop = Image::default();
    for input in inputs {
        let source = input.canonicalize().unwrap_or_else(|_| input.clone());
        let no_frames = HashSet::new();
        let done_here = done.get(&source).unwrap_or(&no_frames);
        let mut decoder = Decoder::open(input)?;
        let total = decoder.info().declared_frames;
        let mut analyzer = FaceAnalyzer::new(AnalyzerSettings::default())?;
        let mut last_kept: Vec<(u32, Vec<[f32; 3]>)> = Vec::new();
        let mut frame = Frame::default();
        while decoder.next_frame(&mut frame)? {
            report.frames += 1;
            if !progress(input, frame.index, total) {
                return Err(FacesetError::Cancelled);
            }
            let time = frame.time.map(|t| t.seconds());
            // Tracking needs every frame; only every n-th is considered for the set.
            let faces = analyzer.analyze(&frame.image, frame.seconds())?;
            if frame.index % settings.every != 0 {
                continue;
            }
            if done_here.contains(&frame.index) {
                report.already_in_set += 1;
                continue;
            }
            report.faces_seen += faces.len() as u64;
            for face in chosen(
                faces,
                &settings.subject,
                &mut recognizer,
                &frame.image,
                report,
            )? {
                if settings.limit.is_some_and(|l| report.kept as usize >= l) {
                    return Ok(());
                }
                if face.presence < settings.min_presence {
                    report.occluded += 1;
                    continue;
                }
                if face.pose.yaw.abs() > settings.max_yaw
                    || face.pose.pitch.abs() > settings.max_pitch
                {
                    report.extreme_pose += 1;
                    continue;
                }
                if face.sharpness < settings.min_sharpness {
                    report.blurred += 1;
                    continue;
                }
                let Some(align) = Alignment::new(&face.landmarks, settings.size, settings.margin)
                else {
                    continue;
                };
                let landmarks: Vec<[f32; 3]> = face
                    .landmarks
                    .iter()
                    .map(|l| {
                        let p = align.to_crop.apply(l.point());
                        [p.x, p.y, l.z / align.pixels_per_crop_pixel()]
                    })
                    .collect();
                if let Some((_, prev)) = last_kept.iter().find(|(t, _)| *t == face.id) {
                    let change = prev
                        .iter()
                        .zip(&landmarks)
                        .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
                        .fold(0.0, f32::max);
                    if change < settings.min_change * settings.size as f32 {
                        report.near_duplicates += 1;
                        continue;
                    }
                }
                align.crop(&frame.image, &mut crop);
                let mask = face_mask(
                    &face.landmarks,
                    Region::Face,
                    &align.to_crop,
                    (settings.size, settings.size),
                    0.02,
                );
                let mut mask_px = vec![0u8; settings.size * settings.size];
                for y in 0..mask.height {
                    for x in 0..mask.width {
                        mask_px[(mask.y0 + y) * settings.size + mask.x0 + x] =
                            (mask.data[y * mask.width + x] * 255.0).round() as u8;
                    }
                }
                let (skin_lab, light_balance) = skin_tone(&frame.image, &face.landmarks);
                let record = FaceRecord {
                    source: input.clone(),
                    frame: frame.index,
                    time,
                    track: face.id,
                    size: settings.size,
                    margin: settings.margin,
                    landmarks: landmarks.clone(),
                    pose: face.pose.into(),
                    sharpness: face.sharpness,
                    presence: face.presence,
                    identity: recognizer.describe(&frame.image, &face.landmarks)?.to_vec(),
                    skin_lab,
                    light_balance,
                };
                let stem = out.join(format!("{index:06}"));
                write_atomic(
                    &stem.with_extension("png"),
                    &reel_image::png::encode(settings.size, settings.size, 3, &crop.data),
                )?;
                write_atomic(
                    &stem.with_extension("mask.png"),
                    &reel_image::png::encode(settings.size, settings.size, 1, &mask_px),
                )?;
                let json = serde_json::to_vec(&record).expect("records serialise");
                write_atomic(&stem.with_extension("json"), &json)?;
                index += 1;
                report.kept += 1;
                last_kept.retain(|(t, _)| *t != face.id);
                last_kept.push((face.id, landmarks));
            }
        }
    }
    Ok(())
}

fn finish(out: &Path, report: &ExtractReport) -> Result<(), FacesetError> {
    let summary = serde_json::to_vec_pretty(report).expect("reports serialise");
    write_atomic(&out.join("extract_report.json"), &summary)?;
    Ok(())
}
