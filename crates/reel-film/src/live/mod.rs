//! `reel film live`: the film played as the pianist plays. Sound comes from the microphone, a
//! MIDI keyboard, or a file played in real time; every half second the recogniser reads the last
//! few seconds, and the story's [`Player`], the same one the offline render walks, draws the next
//! frames from the readings so far. The film shows on a local web page ([`page`]) and can be
//! recorded.

pub mod page;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reel_core::output::Seal;
use reel_music::keyboard::{self, KeyEvent};
use reel_music::style::HOP;
use reel_music::transcribe::SAMPLE_RATE;
use reel_music::{NoteSettings, Played, Reading, Recogniser, Transcriber};
use reel_video::capture::{Capture, Heard as Captured, Source};
use reel_video::{Codec, Encoder, EncoderSettings};

use crate::compose::{Compositor, frame_size, frame_time, seconds_of};
use crate::timeline::{DecisionLog, FrameState, Player};
use crate::{FilmError, Story};
use page::Page;

/// A live film and where it listens.
pub struct LiveJob<'a> {
    pub story: &'a Path,
    /// A recording played as if it were being played now, instead of the microphone.
    pub input: Option<&'a Path>,
    /// A capture device, as ffmpeg names it.
    pub device: Option<&'a str>,
    /// A raw MIDI keyboard device; without an input or a device, the first one connected.
    pub midi: Option<&'a Path>,
    pub port: u16,
    pub record: Option<&'a Path>,
    pub log: Option<&'a Path>,
    pub size: Option<&'a str>,
    pub recogniser: Option<&'a Path>,
    /// Labels the recording (its content credentials) before it takes its name.
    pub seal: Option<Arc<dyn Seal>>,
    /// The watermark payload every recorded frame carries.
    pub watermark: Option<u64>,
    /// The visible label on the recording's first seconds, if asked for.
    pub label: Option<reel_watermark::Disclosure>,
}

/// How the live film went.
pub struct LiveReport {
    pub frames: u64,
    pub decisions: Vec<DecisionLog>,
    /// Stopped on request (Ctrl-C) rather than reaching its ending; what was played is kept.
    pub interrupted: bool,
}

/// What is heard so far: the audio's last seconds (or the keyboard's notes), on the
/// performance's clock.
#[derive(Default)]
struct Heard {
    /// Samples from `first` on; the recogniser still needs those from `needed_from`.
    audio: Vec<f32>,
    first: usize,
    needed_from: usize,
    /// Notes from a MIDI keyboard.
    keys: Vec<Played>,
    ended: bool,
    /// The film is over and the listening was stopped on purpose.
    stopped: bool,
    error: Option<String>,
}

/// Seconds of audio each reading transcribes: the recogniser's window, and a second before it
/// that the transcriber needs as context.
const CONTEXT: f64 = 1.0;

/// Longest a decision waits for the readings up to its moment.
const DECISION_WAIT: Duration = Duration::from_millis(1500);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().expect("no panics holding it")
}

/// Plays the film live until its ending or a stop request; `started` hears what is listened to
/// and the page's address once both are up, `shown` hears each frame's number and the page's
/// text as it is shown, and returns false to stop (as a stop request does).
pub fn live(
    job: &LiveJob,
    started: impl FnOnce(&str, SocketAddr),
    mut shown: impl FnMut(u64, &str) -> bool,
) -> Result<LiveReport, FilmError> {
    let story = Story::load(job.story)?;
    crate::compose::check_pictures(&story)?;
    let (recogniser, recogniser_path) = Recogniser::load_or_default(job.recogniser)?;
    let fps = story.fps;
    let (width, height) = frame_size(job.size, &story)?;
    let (page, address) = Page::serve(job.port)
        .map_err(reel_core::io(format!("cannot serve on port {}", job.port)))?;

    // The sound, or a keyboard.
    let heard = Arc::new(Mutex::new(Heard::default()));
    let start = Instant::now();
    let keyboard = match (job.midi, job.input, job.device) {
        (Some(m), _, _) => Some(m.to_path_buf()),
        (None, None, None) => keyboard::first_device(),
        _ => None,
    };
    let mut capture = None;
    let source = match &keyboard {
        Some(device) => {
            let name = format!("MIDI keyboard {}", device.display());
            let (device, heard) = (device.clone(), heard.clone());
            std::thread::spawn(move || play_keys(&device, start, &heard));
            name
        }
        None => {
            let (source, name) = match (job.input, job.device) {
                (Some(f), _) => (
                    Source::RealTime(f.to_path_buf()),
                    format!("{} (played in real time)", f.display()),
                ),
                (None, Some(d)) => (Source::Device(d.to_string()), d.to_string()),
                (None, None) => (Source::DefaultMicrophone, "the default microphone".into()),
            };
            let heard = heard.clone();
            capture = Some(Capture::start(&source, SAMPLE_RATE, move |c| {
                keep(&heard, c)
            })?);
            name
        }
    };
    started(&source, address);

    let readings: Arc<Mutex<Vec<Reading>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let listening = {
        let (heard, readings, stop) = (heard.clone(), readings.clone(), stop.clone());
        let recogniser = recogniser.clone();
        let midi = keyboard.is_some();
        std::thread::spawn(move || {
            if let Err(e) = listen(&recogniser, midi, start, &heard, &readings, &stop) {
                lock(&heard).error = Some(e.to_string());
            }
        })
    };

    let mut recorder = match job.record {
        Some(path) => Some(Encoder::create(
            path,
            width,
            height,
            &EncoderSettings {
                codec: Codec::for_path(path)?,
                crf: 18,
                audio_from: job.input.map(Path::to_path_buf),
                source: None,
                length: None,
                seal: job.seal.clone(),
                frame_rate: None,
            },
        )?),
        None => None,
    };
    let mut marker = job
        .watermark
        .map(|payload| reel_watermark::Marker::new(payload, job.label));
    let mut marked = reel_image::Image::default();
    let mut player = Player::new(&story);
    let mut compositor = Compositor::new(width, height, fps);
    let mut lengths = |p: &crate::story::Picture| seconds_of(p, fps);
    let result = (|| -> Result<(), FilmError> {
        loop {
            let t = player.frames() as f64 / fps as f64;
            // Each frame is drawn at its time on the performance's clock.
            let due = start + Duration::from_secs_f64(t);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            // A decision waits (a little) for the readings up to its moment, as the offline
            // render has them.
            if player.at_shot_end() {
                let until = Instant::now() + DECISION_WAIT;
                while Instant::now() < until
                    && !lock(&heard).ended
                    && lock(&readings).last().is_none_or(|r| r.time + HOP <= t)
                    && t >= recogniser.window
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            reel_core::stop::check()?;
            if let Some(e) = lock(&heard).error.clone() {
                return Err(FilmError::Listening(e));
            }
            let snapshot = lock(&readings).clone();
            let Some(state) = player.next_frame(&snapshot, &mut lengths)? else {
                break;
            };
            let shot = &player.shots[state.shot];
            let image = compositor.draw(shot, &state)?;
            if let Some(r) = &mut recorder {
                let at = frame_time(state.frame, fps);
                // The page shows the picture as drawn; the recording carries the mark.
                let image = match marker.as_mut() {
                    Some(marker) => {
                        marked.clone_from(image);
                        marker.mark(&mut marked, at.seconds());
                        &marked
                    }
                    None => image,
                };
                r.write(image, Some(at))?;
            }
            let mut jpeg = Vec::new();
            jpeg_encoder::Encoder::new(&mut jpeg, 80)
                .encode(
                    &image.data,
                    width as u16,
                    height as u16,
                    jpeg_encoder::ColorType::Rgb,
                )
                .map_err(|e| FilmError::Listening(format!("encoding a frame for the page: {e}")))?;
            let status = status_text(&player, &state, snapshot.last(), fps);
            let go_on = shown(state.frame, &status);
            page.show(state.frame, jpeg, status);
            if !go_on {
                return Err(reel_core::Cancelled.into());
            }
        }
        Ok(())
    })();

    // Stop listening and close the page, whatever happened.
    stop.store(true, Ordering::Relaxed);
    lock(&heard).stopped = true;
    if let Some(c) = &capture {
        c.stop();
    }
    page.close();
    let _ = listening.join();
    drop(capture);
    // A stop request is how a live session usually ends: what was played is kept.
    let interrupted = matches!(result, Err(FilmError::Cancelled(_)));
    if !interrupted {
        result?;
    }
    if let Some(r) = recorder {
        r.finish()?;
    }
    if let Some(log) = job.log {
        let readings = lock(&readings).clone();
        let json = serde_json::to_vec_pretty(&serde_json::json!({
            "story": job.story,
            "source": source,
            "recogniser": recogniser_path,
            "fps": fps,
            "frames": player.frames(),
            "interrupted": interrupted,
            "path": player.shots,
            "decisions": player.decisions,
            "style_changes": player.changes,
            "readings": readings,
        }))
        .expect("the log serialises");
        reel_core::output::write_atomic(log, &json)?;
    }
    Ok(LiveReport {
        frames: player.frames(),
        decisions: player.decisions,
        interrupted,
    })
}

/// Keeps what the capture hears, dropping what the recogniser no longer needs.
fn keep(heard: &Mutex<Heard>, captured: Captured) {
    let mut h = lock(heard);
    match captured {
        Captured::Samples(samples) => {
            h.audio.extend_from_slice(samples);
            let drop = h.needed_from.saturating_sub(h.first).min(h.audio.len());
            if drop > SAMPLE_RATE as usize {
                h.audio.drain(..drop);
                h.first += drop;
            }
        }
        Captured::Ended(result) => {
            h.ended = true;
            if let Err(e) = result
                && !h.stopped
            {
                h.error = Some(e);
            }
        }
    }
}

/// The keyboard's notes as they are played, held until released.
fn play_keys(device: &Path, start: Instant, heard: &Mutex<Heard>) {
    let read = keyboard::read_device(device, start, |event| {
        let mut h = lock(heard);
        match event {
            KeyEvent::Pressed(note) => h.keys.push(note),
            KeyEvent::Released { pitch, start, end } => {
                if let Some(n) = h
                    .keys
                    .iter_mut()
                    .rev()
                    .find(|n| n.pitch == pitch && n.start == start)
                {
                    n.end = end;
                }
            }
        }
    });
    let mut h = lock(heard);
    if let Err(e) = read {
        h.error = Some(format!("{}: {e}", device.display()));
    }
    h.ended = true;
}

/// The web page's text: where the film is, what is heard, and the decisions so far.
fn status_text(player: &Player, state: &FrameState, last: Option<&Reading>, fps: u32) -> String {
    format!(
        "{:7.1} s  scene {}  style {}\n{}\n{}",
        state.frame as f64 / fps as f64,
        player.shots[state.shot].node,
        state.style.map_or("none", |s| s.name()),
        last.map_or(String::new(), |r| format!(
            "heard: baroque {:.2}  classical {:.2}  ragtime {:.2}  jazz {:.2}  no music {:.2}",
            r.styles[0], r.styles[1], r.styles[2], r.styles[3], r.no_music
        )),
        player
            .decisions
            .iter()
            .map(crate::timeline::decision_line)
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// The recogniser's loop: a reading every half second of the performance's clock, on the same
/// schedule as offline (the first once a whole window has been heard), from the last seconds
/// heard. When it falls behind by more than a second it skips ahead rather than lag.
fn listen(
    recogniser: &Recogniser,
    midi: bool,
    start: Instant,
    heard: &Mutex<Heard>,
    readings: &Mutex<Vec<Reading>>,
    stop: &AtomicBool,
) -> Result<(), FilmError> {
    let mut transcriber = if midi {
        None
    } else {
        Some(Transcriber::new(1)?)
    };
    let rate = SAMPLE_RATE as f64;
    let span = ((recogniser.window + CONTEXT) * rate) as usize;
    let mut next = recogniser.window;
    while !stop.load(Ordering::Relaxed) {
        let (chunk, from, keys) = {
            let mut h = lock(heard);
            let now = if midi {
                start.elapsed().as_secs_f64()
            } else {
                (h.first + h.audio.len()) as f64 / rate
            };
            if now < next {
                if h.ended {
                    break;
                }
                drop(h);
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            if now - next > 1.0 {
                next = (now / HOP).floor() * HOP;
            }
            // The window ends at the reading's time, not later.
            let end = ((next * rate) as usize)
                .saturating_sub(h.first)
                .min(h.audio.len());
            let begin = end.saturating_sub(span);
            h.needed_from = h.first + begin;
            let chunk = h.audio[begin..end].to_vec();
            (chunk, (h.first + begin) as f64 / rate, h.keys.clone())
        };
        let heard_notes: Vec<Played> = match &mut transcriber {
            None => keys,
            Some(t) => reel_music::hear(t, &chunk, &NoteSettings::default(), from)?,
        };
        let reading = recogniser.read(&heard_notes, next);
        lock(readings).push(reading);
        next += HOP;
    }
    Ok(())
}
