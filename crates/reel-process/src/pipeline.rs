//! Streaming a video through a chain of processors: decode, analyse (landmarks smoothed over
//! time), choose faces, process, encode; the source's audio, frame count and timing kept.

use std::path::Path;
use std::sync::Arc;

use reel_core::output::Seal;

use reel_face::{AnalyzerSettings, Face, FaceAnalyzer, FaceRecognizer, OneEuro, TrackerSettings};
use reel_image::Image;
use reel_video::{Codec, Decoder, Encoder, EncoderSettings, Frame, VideoError};

use crate::select::ReferenceMatch;
use crate::{Chain, FaceSelection, ProcessError};

/// What a job produced.
#[derive(Debug, Default)]
pub struct Report {
    pub frames: u64,
    pub frames_edited: u64,
}

/// Analysis for editing: landmarks smoothed so that masks and warps do not shimmer, and the
/// hands in front of faces found so that no processor paints over them.
pub fn editing_analysis(max_faces: usize, threads: usize) -> AnalyzerSettings {
    AnalyzerSettings {
        tracker: TrackerSettings {
            max_faces,
            ..TrackerSettings::default()
        },
        smoothing: Some(OneEuro::default()),
        threads,
        occlusion: true,
        ..AnalyzerSettings::default()
    }
}

/// Runs `chain` over every frame of `input` into `output`, labelled by `seal`. `progress` hears
/// (frames done, total) and returns false to cancel (nothing is written then).
#[allow(clippy::too_many_arguments)]
pub fn run(
    input: &Path,
    output: &Path,
    codec: Codec,
    crf: u8,
    seal: Option<Arc<dyn Seal>>,
    analysis: AnalyzerSettings,
    selection: &mut FaceSelection,
    chain: &mut Chain,
    progress: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<Report, ProcessError> {
    let mut analyzer = FaceAnalyzer::new(analysis)?;
    stream(
        input,
        output,
        codec,
        crf,
        seal,
        |frame| {
            let time = frame.seconds();
            let faces = analyzer.analyze(&frame.image, time)?;
            let chosen = selection.choose(&frame.image, faces)?;
            chain.at_time(time);
            chain.process(&mut frame.image, &chosen)?;
            Ok(!chosen.is_empty())
        },
        progress,
    )
}

/// Decodes `input`, hands every frame to `edit` (which says whether it changed it), and
/// encodes the result into `output` with the source's audio and timing, labelled by `seal`.
pub(crate) fn stream(
    input: &Path,
    output: &Path,
    codec: Codec,
    crf: u8,
    seal: Option<Arc<dyn Seal>>,
    mut edit: impl FnMut(&mut Frame) -> Result<bool, ProcessError>,
    mut progress: impl FnMut(u64, Option<u64>) -> bool,
) -> Result<Report, ProcessError> {
    let mut decoder = Decoder::open(input)?;
    let info = decoder.info().clone();
    let mut encoder: Option<Encoder> = None;
    let mut frame = Frame::default();
    let mut report = Report::default();
    while decoder.next_frame(&mut frame)? {
        report.frames_edited += u64::from(edit(&mut frame)?);
        if encoder.is_none() {
            let mut settings = EncoderSettings::like_source(codec, &info).sealed(seal.clone());
            settings.crf = crf;
            encoder = Some(Encoder::create(
                output,
                frame.image.width,
                frame.image.height,
                &settings,
            )?);
        }
        encoder
            .as_mut()
            .expect("created above")
            .write(&frame.image, frame.time)?;
        report.frames += 1;
        if !progress(report.frames, info.declared_frames) {
            return Err(ProcessError::Cancelled);
        }
    }
    let Some(encoder) = encoder else {
        return Err(VideoError::Unreadable {
            path: input.to_path_buf(),
            detail: "it holds no frames".into(),
        }
        .into());
    };
    encoder.finish()?;
    Ok(report)
}

/// Renders one frame before and after the chain, side by side, into an image file (marked
/// by `marker` and signed by `seal`).
#[allow(clippy::too_many_arguments)]
pub fn compare(
    input: &Path,
    index: u64,
    sheet: &Path,
    seal: Option<Arc<dyn Seal>>,
    marker: Option<reel_watermark::Marker>,
    analysis: AnalyzerSettings,
    selection: &mut FaceSelection,
    chain: &mut Chain,
) -> Result<usize, ProcessError> {
    if Codec::for_path(sheet).ok() != Some(Codec::Image) {
        return Err(ProcessError::Settings(format!(
            "{}: a before/after sheet is an image; give it a .png or .jpg name",
            sheet.display()
        )));
    }
    let mut decoder = Decoder::open_frame(input, index)?;
    let info = decoder.info().clone();
    let mut frame = Frame::default();
    if !decoder.next_frame(&mut frame)? {
        return Err(ProcessError::Settings(format!(
            "{} has no frame {index}",
            input.display()
        )));
    }
    let mut settings = analysis;
    settings.tracker.detect_every_frame = true;
    settings.smoothing = None;
    let mut analyzer = FaceAnalyzer::new(settings)?;
    let faces = analyzer.analyze(&frame.image, 0.0)?;
    let chosen = selection.choose(&frame.image, faces)?;
    let before = frame.image.clone();
    chain.process(&mut frame.image, &chosen)?;
    let mut out = side_by_side(&before, &frame.image);
    // The sheet is a file of its own: marked whole, after it is put together.
    if let Some(mut marker) = marker {
        marker.mark(&mut out, 0.0);
    }
    let mut enc = Encoder::create(
        sheet,
        out.width,
        out.height,
        &EncoderSettings::like_source(Codec::Image, &info).sealed(seal),
    )?;
    enc.write(&out, None)?;
    enc.finish()?;
    Ok(chosen.len())
}

/// Two images next to each other with a thin divider.
pub fn side_by_side(a: &Image, b: &Image) -> Image {
    let gap = 4;
    let mut out = Image::new(a.width + gap + b.width, a.height.max(b.height));
    out.data.fill(255);
    for (img, x0) in [(a, 0), (b, a.width + gap)] {
        for y in 0..img.height {
            let dst = (y * out.width + x0) * 3;
            out.data[dst..dst + img.width * 3]
                .copy_from_slice(&img.data[y * img.width * 3..(y + 1) * img.width * 3]);
        }
    }
    out
}

/// The largest face in a photo, with the photo.
pub fn photo_face(photo: &Path) -> Result<(Image, Face), ProcessError> {
    let mut decoder = Decoder::open(photo)?;
    let mut frame = Frame::default();
    if !decoder.next_frame(&mut frame)? {
        return Err(ProcessError::Settings(format!(
            "{} holds no image",
            photo.display()
        )));
    }
    let mut settings = AnalyzerSettings::default();
    settings.tracker.detect_every_frame = true;
    settings.tracker.reidentify = false;
    let mut analyzer = FaceAnalyzer::new(settings)?;
    let face = analyzer
        .analyze(&frame.image, 0.0)?
        .iter()
        .max_by(|a, b| (a.bbox[2] * a.bbox[3]).total_cmp(&(b.bbox[2] * b.bbox[3])))
        .cloned()
        .ok_or_else(|| ProcessError::Settings(format!("no face found in {}", photo.display())))?;
    Ok((frame.image, face))
}

/// Chooses, in every frame, the face of the person in `photo` (its largest face).
pub fn like_reference(photo: &Path, threads: usize) -> Result<FaceSelection, ProcessError> {
    let (image, face) = photo_face(photo)?;
    let mut recognizer = FaceRecognizer::new(threads)?;
    let reference = recognizer.describe(&image, &face.landmarks)?;
    Ok(FaceSelection::Like(Box::new(ReferenceMatch::new(
        reference, recognizer,
    ))))
}
