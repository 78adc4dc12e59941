//! `reel film render`: a recorded performance played through a story. The recogniser's
//! readings steer it; the film has the performance as its soundtrack (a MIDI performance played
//! on the SoundFont piano) and a JSON log of each decision beside it.

use std::sync::Arc;

use reel_core::output::Seal;
use std::path::{Path, PathBuf};

use reel_music::{NoteSettings, Reading, Recogniser};
use reel_video::{Codec, Encoder, EncoderSettings};

use crate::compose::{Compositor, frame_size, frame_time, seconds_of};
use crate::timeline::{FrameState, Timeline};
use crate::{FilmError, Story, plan};

/// What to render.
pub struct RenderJob<'a> {
    pub story: &'a Path,
    /// A recording (audio or video) or a MIDI file.
    pub performance: &'a Path,
    pub output: &'a Path,
    /// The decision log; by default beside the film, as NAME.decisions.json.
    pub log: Option<&'a Path>,
    /// WIDTHxHEIGHT; by default the size of the story's first picture.
    pub size: Option<&'a str>,
    pub crf: u8,
    /// A recogniser other than the one `reel style train` made.
    pub recogniser: Option<&'a Path>,
    /// Labels the film (its content credentials) before it takes its name.
    pub seal: Option<Arc<dyn Seal>>,
    /// The watermark payload every frame carries.
    pub watermark: Option<u64>,
    /// The visible label on the first seconds, if asked for.
    pub label: Option<reel_watermark::Disclosure>,
}

/// What was rendered.
pub struct Rendered {
    pub timeline: Timeline,
    pub readings: Vec<Reading>,
    pub performance_seconds: f64,
    pub size: (usize, usize),
    pub log: PathBuf,
}

/// Where the decision log goes by default: beside the film, as NAME.decisions.json.
pub fn default_log(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "film".into());
    output.with_file_name(format!("{stem}.decisions.json"))
}

/// Renders the film; `progress` hears (frames done, total) and returns false to stop (nothing
/// is written then).
pub fn render(
    job: &RenderJob,
    mut progress: impl FnMut(u64, u64) -> bool,
) -> Result<Rendered, FilmError> {
    let story = Story::load(job.story)?;
    crate::compose::check_pictures(&story)?;
    let (recogniser, recogniser_path) = Recogniser::load_or_default(job.recogniser)?;
    if !job.performance.exists() {
        return Err(reel_video::VideoError::NotFound(job.performance.to_path_buf()).into());
    }
    // What the recogniser hears, every half second of the performance.
    let (notes, seconds) = reel_music::played_notes(job.performance, &NoteSettings::default())?;
    let readings = recogniser.over_time(&notes, seconds);
    // The music may keep a story looping: ten minutes past the performance is the limit.
    let timeline = plan(&story, &readings, seconds + 600.0, &mut |p| {
        seconds_of(p, story.fps)
    })?;
    let (width, height) = frame_size(job.size, &story)?;

    // A MIDI performance is played on the piano for the soundtrack, into a file beside the
    // output named apart from the encoder's partial files (which it clears).
    let midi = reel_music::is_midi(job.performance);
    let name = job
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rendered = job
        .output
        .with_file_name(format!(".{name}.soundtrack-{}.wav", std::process::id()));
    let soundtrack = if midi {
        // Its folder may not be there yet: the encoder would make it, but after this.
        if let Some(folder) = job.output.parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(reel_core::io(format!("creating {}", folder.display())))?;
        }
        let rate = reel_music::transcribe::SAMPLE_RATE;
        let audio = reel_music::Piano::load()?.render_notes(&notes, rate)?;
        std::fs::write(&rendered, reel_music::wav_bytes(&audio, rate))
            .map_err(reel_core::io(format!("writing {}", rendered.display())))?;
        rendered.clone()
    } else {
        job.performance.to_path_buf()
    };
    let result = encode(job, &timeline, width, height, &soundtrack, &mut progress);
    if midi {
        let _ = std::fs::remove_file(&rendered);
    }
    result?;

    let log = job
        .log
        .map_or_else(|| default_log(job.output), Path::to_path_buf);
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "story": job.story,
        "performance": job.performance,
        "performance_seconds": seconds,
        "recogniser": recogniser_path,
        "fps": timeline.fps,
        "frames": timeline.frames,
        "seconds": timeline.frames as f64 / timeline.fps as f64,
        "size": [width, height],
        "path": timeline.shots,
        "decisions": timeline.decisions,
        "style_changes": timeline.changes,
        "readings": readings,
    }))
    .expect("the log serialises");
    reel_core::output::write_atomic(&log, &json)?;
    Ok(Rendered {
        timeline,
        readings,
        performance_seconds: seconds,
        size: (width, height),
        log,
    })
}

/// Draws every frame of the film and encodes it with the soundtrack.
fn encode(
    job: &RenderJob,
    timeline: &Timeline,
    width: usize,
    height: usize,
    soundtrack: &Path,
    progress: &mut impl FnMut(u64, u64) -> bool,
) -> Result<(), FilmError> {
    let fps = timeline.fps;
    let settings = EncoderSettings {
        codec: Codec::for_path(job.output)?,
        crf: job.crf,
        audio_from: Some(soundtrack.to_path_buf()),
        source: None,
        length: Some(timeline.frames as f64 / fps as f64),
        seal: job.seal.clone(),
        frame_rate: None,
    };
    let mut marker = job
        .watermark
        .map(|payload| reel_watermark::Marker::new(payload, job.label));
    let mut marked = reel_image::Image::default();
    let mut encoder = Encoder::create(job.output, width, height, &settings)?;
    let mut compositor = Compositor::new(width, height, fps);
    for (index, shot) in timeline.shots.iter().enumerate() {
        for k in 0..shot.frames {
            let frame = shot.first_frame + k;
            let state = FrameState {
                frame,
                shot: index,
                frame_in_shot: k,
                style: timeline.styles[frame as usize],
            };
            let image = compositor.draw(shot, &state)?;
            let image = match marker.as_mut() {
                Some(marker) => {
                    marked.clone_from(image);
                    marker.mark(&mut marked, frame_time(frame, fps).seconds());
                    &marked
                }
                None => image,
            };
            encoder.write(image, Some(frame_time(frame, fps)))?;
            if !progress(frame + 1, timeline.frames) {
                return Err(reel_core::Cancelled.into());
            }
        }
    }
    encoder.finish()?;
    Ok(())
}
