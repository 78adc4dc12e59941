//! The face-analysis job: every frame of a video analysed, written as faces JSON as it goes
//! and, on request, as a preview video with the faces (and a mask) drawn over it, audio kept.

use std::path::Path;

use reel_face::mask::Region;
use reel_face::{AnalyzerSettings, FaceAnalyzer, FrameRecord, PersonSegmenter, Summary, draw};
use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame, VideoError};

use crate::ProcessError;

/// What the preview tints, to check a mask by eye.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewMask {
    Region(Region),
    Person,
}

/// One analysis and where its results go.
pub struct AnalyzeJob<'a> {
    pub input: &'a Path,
    /// The faces JSON (`-` for standard output).
    pub json: Option<&'a Path>,
    pub preview: Option<&'a Path>,
    pub codec: Codec,
    pub crf: u8,
    pub settings: AnalyzerSettings,
    pub preview_mask: Option<PreviewMask>,
    /// Signs the preview (its content credentials) before it takes its name.
    pub seal: Option<std::sync::Arc<dyn reel_core::output::Seal>>,
    /// Marks the preview's frames, as every video reel writes.
    pub marker: Option<reel_watermark::Marker>,
}

/// Runs the job; `progress` hears (frames done, total) and returns false to cancel (nothing is
/// written then).
pub fn run(
    job: AnalyzeJob,
    mut progress: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<Summary, ProcessError> {
    let mut decoder = Decoder::open(job.input)?;
    let info = decoder.info().clone();
    let mut settings = job.settings;
    settings.tracker.detect_every_frame |= info.is_still;
    let threads = settings.threads;
    let mut analyzer = FaceAnalyzer::new(settings)?;
    // Begun at the first frame, so that the size is the frame's as decoded (rotation applied).
    let mut json: Option<reel_core::sink::JsonStream> = None;
    let region = match job.preview_mask {
        Some(PreviewMask::Region(r)) => Some(r),
        _ => None,
    };
    let mut segmenter = match job.preview_mask {
        Some(PreviewMask::Person) => Some(PersonSegmenter::new(threads)?),
        _ => None,
    };
    let mut person = Vec::new();
    let total = info.declared_frames.filter(|_| !info.is_still);
    let mut encoder: Option<Encoder> = None;
    let mut marker = job.marker;
    let mut frame = Frame::default();
    let mut summary = Summary::default();
    while decoder.next_frame(&mut frame)? {
        let time = frame.time.map(|t| t.seconds());
        let seconds = frame.seconds();
        let faces = analyzer.analyze(&frame.image, seconds)?;
        summary.add(frame.index, faces);
        if let (Some(path), None) = (job.json, &json) {
            let head = serde_json::json!({
                "input": job.input,
                "width": frame.image.width,
                "height": frame.image.height,
                "frame_rate": info.frame_rate.0 as f64 / info.frame_rate.1 as f64,
            });
            json = Some(reel_core::sink::JsonStream::create(path, &head, "frames")?);
        }
        if let Some(sink) = json.as_mut() {
            sink.item(&FrameRecord {
                index: frame.index,
                time,
                faces,
            })?;
        }
        if let Some(path) = job.preview {
            if let Some(seg) = segmenter.as_mut() {
                seg.segment(&frame.image, &mut person)?;
            }
            let person_mask = segmenter.is_some().then_some(person.as_slice());
            draw::tint_masks(&mut frame.image, faces, region, person_mask);
            draw::draw_faces(&mut frame.image, faces);
            if let Some(marker) = marker.as_mut() {
                marker.mark(&mut frame.image, seconds);
            }
            if encoder.is_none() {
                let mut s = EncoderSettings::like_source(job.codec, &info).sealed(job.seal.clone());
                s.crf = job.crf;
                encoder = Some(Encoder::create(
                    path,
                    frame.image.width,
                    frame.image.height,
                    &s,
                )?);
            }
            encoder
                .as_mut()
                .expect("created above")
                .write(&frame.image, frame.time)?;
        }
        if !progress(summary.frames, total) {
            return Err(ProcessError::Cancelled);
        }
    }
    if summary.frames == 0 {
        return Err(VideoError::Unreadable {
            path: job.input.to_path_buf(),
            detail: "it holds no frames".into(),
        }
        .into());
    }
    summary.detector_runs = analyzer.tracker().detector_runs;
    if let Some(enc) = encoder {
        enc.finish()?;
    }
    if let Some(sink) = json {
        sink.finish("summary", &summary)?;
    }
    Ok(summary)
}
