//! `reel film live`: the film played as the pianist plays. Sound comes from the microphone
//! (through ffmpeg: PulseAudio or ALSA), from a MIDI keyboard (an ALSA raw MIDI device), or from a
//! file played in real time; every half second the recogniser reads the last few seconds, and the
//! story's player, the same one `reel film render` walks, draws the next frames from the readings
//! so far. The film shows on a local web page (a motion-JPEG stream with the style heard and each
//! decision beside it) and can be recorded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use reel_film::Story;
use reel_film::timeline::Player;
use reel_music::style::{HOP, Reading};
use reel_music::transcribe::SAMPLE_RATE;
use reel_music::{NoteSettings, Played, Recogniser, Transcriber};
use reel_video::{Codec, Encoder, EncoderSettings};

use crate::film::{Compositor, frame_size, frame_time, seconds_of};
use crate::music::music_error;
use crate::style::load_recogniser;

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// The story file (TOML).
    pub story: PathBuf,
    /// Listen to this recording as if it were being played now (in real time), instead of the
    /// microphone.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// The microphone, as ffmpeg names it: pulse:default, alsa:default, alsa:hw:1,0 ...
    /// (default: PulseAudio's default source, else ALSA's).
    #[arg(long)]
    pub device: Option<String>,
    /// A MIDI keyboard: an ALSA raw MIDI device such as /dev/snd/midiC1D0. Without --input or
    /// --device, the first one connected is used.
    #[arg(long)]
    pub midi: Option<PathBuf>,
    /// The local port of the web page (0: any free one).
    #[arg(long, default_value_t = 8017)]
    pub port: u16,
    /// Also record the film here (with --input, with its sound).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write the decision log here when the film ends.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Frame size WIDTHxHEIGHT; by default the size of the story's first picture.
    #[arg(long)]
    pub size: Option<String>,
    /// A recogniser other than the one `reel style train` made.
    #[arg(long)]
    pub recogniser: Option<PathBuf>,
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

fn first_midi_device() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/dev/snd")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("midiC"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// ffmpeg reading the sound, 22050 Hz mono float samples on its stdout.
fn capture(args: &LiveArgs) -> Result<Child> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
    match (&args.input, &args.device) {
        (Some(file), _) => {
            if !file.exists() {
                return Err(reel_video::VideoError::NotFound(file.clone()).into());
            }
            cmd.arg("-re").arg("-i").arg(file);
        }
        (None, Some(device)) => {
            let (format, name) = device.split_once(':').unwrap_or(("pulse", device));
            cmd.args(["-f", format, "-i", name]);
        }
        (None, None) => {
            let pulse = std::env::var_os("PULSE_SERVER").is_some()
                || std::env::var_os("XDG_RUNTIME_DIR")
                    .is_some_and(|d| Path::new(&d).join("pulse/native").exists());
            if pulse {
                cmd.args(["-f", "pulse", "-i", "default"]);
            } else {
                cmd.args(["-f", "alsa", "-i", "default"]);
            }
        }
    }
    cmd.args([
        "-vn",
        "-ac",
        "1",
        "-ar",
        &SAMPLE_RATE.to_string(),
        "-f",
        "f32le",
        "pipe:1",
    ]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not run ffmpeg to listen")
}

/// Reads the sound into `heard` as it comes, dropping what the recogniser no longer needs.
fn pump_audio(child: Arc<Mutex<Child>>, heard: Arc<Mutex<Heard>>) {
    let (stdout, stderr) = {
        let mut c = child.lock().expect("no panics holding it");
        (c.stdout.take(), c.stderr.take())
    };
    let (Some(mut stdout), Some(mut stderr)) = (stdout, stderr) else {
        return;
    };
    // ffmpeg's messages, drained as they come so that it never blocks on them.
    let messages = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut buf = vec![0u8; 4096 * 4];
    let mut carry = Vec::new();
    loop {
        let n = match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        carry.extend_from_slice(&buf[..n]);
        let whole = carry.len() / 4 * 4;
        let mut h = heard.lock().expect("no panics holding it");
        h.audio.extend(
            carry[..whole]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        carry.drain(..whole);
        let drop = h.needed_from.saturating_sub(h.first).min(h.audio.len());
        if drop > SAMPLE_RATE as usize {
            h.audio.drain(..drop);
            h.first += drop;
        }
    }
    let status = child.lock().expect("no panics holding it").wait();
    let message = messages.join().unwrap_or_default();
    let mut h = heard.lock().expect("no panics holding it");
    h.ended = true;
    if !h.stopped && !status.is_ok_and(|s| s.success()) {
        h.error = Some(format!("listening failed: {}", message.trim()));
    }
}

/// Reads a raw MIDI device: notes as they are pressed and released, timed from `start`.
fn pump_midi(device: PathBuf, start: Instant, heard: Arc<Mutex<Heard>>) {
    let file = match std::fs::File::open(&device) {
        Ok(f) => f,
        Err(e) => {
            let mut h = heard.lock().expect("no panics holding it");
            h.error = Some(format!("{}: {e}", device.display()));
            h.ended = true;
            return;
        }
    };
    let mut parser = MidiParser::default();
    let mut down: Vec<Option<(f64, f32)>> = vec![None; 128];
    for byte in BufReader::new(file).bytes() {
        let Ok(b) = byte else { break };
        let Some((pressed, key, velocity)) = parser.feed(b) else {
            continue;
        };
        let key = key as usize;
        let now = start.elapsed().as_secs_f64();
        let mut h = heard.lock().expect("no panics holding it");
        if pressed {
            down[key] = Some((now, velocity as f32 / 127.0));
            // Sounding notes count from their press; the end is set on release.
            // Held until released.
            h.keys.push(Played {
                start: now,
                end: f64::INFINITY,
                pitch: key as u8,
                velocity: velocity as f32 / 127.0,
            });
        } else if let Some((t, _)) = down[key].take()
            && let Some(n) = h
                .keys
                .iter_mut()
                .rev()
                .find(|n| n.pitch as usize == key && n.start == t)
        {
            n.end = now;
        }
    }
    heard.lock().expect("no panics holding it").ended = true;
}

/// Raw MIDI bytes to key presses and releases: running status kept, real-time and other
/// messages skipped.
#[derive(Default)]
struct MidiParser {
    status: u8,
    data: Vec<u8>,
}

impl MidiParser {
    /// Takes one byte; a completed note message gives (pressed, key, velocity).
    fn feed(&mut self, b: u8) -> Option<(bool, u8, u8)> {
        if b >= 0xf8 {
            return None; // real-time messages (clock, active sensing) interleave anywhere
        }
        if b & 0x80 != 0 {
            self.status = b;
            self.data.clear();
            return None;
        }
        self.data.push(b);
        let kind = self.status & 0xf0;
        // Program change and channel pressure carry one data byte, the rest of the channel
        // messages two.
        let needed = if matches!(kind, 0xc0 | 0xd0) { 1 } else { 2 };
        if self.data.len() < needed {
            return None;
        }
        let (key, velocity) = (self.data[0], self.data.get(1).copied().unwrap_or(0));
        self.data.clear();
        match kind {
            0x90 => Some((velocity > 0, key, velocity)),
            0x80 => Some((false, key, velocity)),
            _ => None,
        }
    }
}

/// What the web page shows beside the film.
#[derive(Default)]
struct Shown {
    jpeg: Arc<Vec<u8>>,
    frame: u64,
    status: String,
    over: bool,
}

fn serve(listener: TcpListener, shown: Arc<(Mutex<Shown>, Condvar)>) {
    for stream in listener.incoming().flatten() {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let _ = answer(stream, &shown);
        });
    }
}

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>reel film live</title>
<style>body{background:#111;color:#ddd;font:15px system-ui;margin:0;display:flex;flex-direction:column;align-items:center}
img{max-width:100vw;max-height:80vh;margin-top:12px}#s{white-space:pre;font-family:monospace;margin:10px}</style>
<img src="/stream"><div id="s">listening…</div>
<script>setInterval(async()=>{try{const r=await fetch('/status');document.getElementById('s').textContent=await r.text()}catch(e){}},500)</script>"#;

fn answer(stream: TcpStream, shown: &(Mutex<Shown>, Condvar)) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut out = stream;
    match path.as_str() {
        "/" => write!(
            out,
            "HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{PAGE}",
            PAGE.len()
        ),
        "/status" => {
            let status = shown.0.lock().expect("no panics holding it").status.clone();
            write!(
                out,
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: {}\r\n\r\n{status}",
                status.len()
            )
        }
        "/stream" => {
            write!(
                out,
                "HTTP/1.0 200 OK\r\nCache-Control: no-store\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
            )?;
            let mut last = u64::MAX;
            loop {
                let (jpeg, frame, over) = {
                    let mut s = shown.0.lock().expect("no panics holding it");
                    while (s.frame == last || s.jpeg.is_empty()) && !s.over {
                        s = shown.1.wait(s).expect("no panics holding it");
                    }
                    (s.jpeg.clone(), s.frame, s.over)
                };
                if frame != last && !jpeg.is_empty() {
                    write!(
                        out,
                        "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        jpeg.len()
                    )?;
                    out.write_all(&jpeg)?;
                    out.write_all(b"\r\n")?;
                    last = frame;
                }
                if over {
                    return Ok(());
                }
            }
        }
        _ => write!(out, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    }
}

pub fn live(args: &LiveArgs, quiet: bool) -> Result<()> {
    let story = Story::load(&args.story)?;
    let (recogniser, recogniser_path) = load_recogniser(args.recogniser.as_ref())?;
    let fps = story.fps;
    let (width, height) = frame_size(args.size.as_deref(), &story)?;

    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .with_context(|| format!("cannot serve on port {}", args.port))?;
    let address = listener.local_addr()?;
    let shown = Arc::new((Mutex::new(Shown::default()), Condvar::new()));
    {
        let shown = shown.clone();
        std::thread::spawn(move || serve(listener, shown));
    }

    // The sound, or a keyboard.
    let heard = Arc::new(Mutex::new(Heard::default()));
    let start = Instant::now();
    let keyboard = match (&args.midi, &args.input, &args.device) {
        (Some(m), _, _) => Some(m.clone()),
        (None, None, None) => first_midi_device(),
        _ => None,
    };
    let mut capture_child = None;
    let source = match &keyboard {
        Some(device) => {
            let name = format!("MIDI keyboard {}", device.display());
            let (device, heard) = (device.clone(), heard.clone());
            std::thread::spawn(move || pump_midi(device, start, heard));
            name
        }
        None => {
            let child = Arc::new(Mutex::new(capture(args)?));
            capture_child = Some(child.clone());
            let heard = heard.clone();
            std::thread::spawn(move || pump_audio(child, heard));
            match (&args.input, &args.device) {
                (Some(f), _) => format!("{} (played in real time)", f.display()),
                (None, Some(d)) => d.clone(),
                (None, None) => "the default microphone".into(),
            }
        }
    };
    if !quiet {
        eprintln!("listening to {source}; the film is at http://{address}/");
    }

    let readings: Arc<Mutex<Vec<Reading>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let listening = {
        let (heard, readings, stop) = (heard.clone(), readings.clone(), stop.clone());
        let recogniser = recogniser.clone();
        let midi = keyboard.is_some();
        std::thread::spawn(move || {
            if let Err(e) = listen(&recogniser, midi, start, &heard, &readings, &stop) {
                let mut h = heard.lock().expect("no panics holding it");
                h.error = Some(format!("{e:#}"));
            }
        })
    };

    let mut recorder = match &args.record {
        Some(path) => Some(Encoder::create(
            path,
            width,
            height,
            &EncoderSettings {
                codec: Codec::for_path(path),
                crf: 18,
                audio_from: args.input.clone(),
                source: None,
                length: None,
            },
        )?),
        None => None,
    };
    let mut player = Player::new(&story);
    let mut compositor = Compositor::new(width, height, fps);
    let mut lengths = |p: &reel_film::story::Picture| seconds_of(p, fps);
    let result = (|| -> Result<()> {
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
                    && !heard.lock().expect("no panics holding it").ended
                    && readings
                        .lock()
                        .expect("no panics holding it")
                        .last()
                        .is_none_or(|r| r.time + HOP <= t)
                    && t >= recogniser.window
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            crate::interrupt::check()?;
            if let Some(e) = heard.lock().expect("no panics holding it").error.clone() {
                anyhow::bail!(e);
            }
            let snapshot = readings.lock().expect("no panics holding it").clone();
            let Some(state) = player.next_frame(&snapshot, &mut lengths)? else {
                break;
            };
            let shot = &player.shots[state.shot];
            let image = compositor.draw(shot, &state)?;
            if let Some(r) = &mut recorder {
                r.write(image, Some(frame_time(state.frame, fps)))?;
            }
            let mut jpeg = Vec::new();
            jpeg_encoder::Encoder::new(&mut jpeg, 80)
                .encode(
                    &image.data,
                    width as u16,
                    height as u16,
                    jpeg_encoder::ColorType::Rgb,
                )
                .context("encoding a frame for the page")?;
            let status = status_text(&player, &state, snapshot.last(), fps);
            let mut s = shown.0.lock().expect("no panics holding it");
            s.jpeg = Arc::new(jpeg);
            s.frame = state.frame;
            s.status = status;
            shown.1.notify_all();
        }
        Ok(())
    })();

    // Stop listening and close the page, whatever happened.
    stop.store(true, Ordering::Relaxed);
    heard.lock().expect("no panics holding it").stopped = true;
    if let Some(child) = &capture_child {
        let _ = child.lock().expect("no panics holding it").kill();
    }
    {
        let mut s = shown.0.lock().expect("no panics holding it");
        s.over = true;
        shown.1.notify_all();
    }
    let _ = listening.join();
    // Ctrl-C is how a live session usually ends: what was played is kept.
    let interrupted = result
        .as_ref()
        .err()
        .is_some_and(|e| e.downcast_ref::<crate::interrupt::Interrupted>().is_some());
    if result.is_err() && !interrupted {
        return result;
    }
    if let Some(r) = recorder {
        r.finish()?;
    }
    let readings = readings.lock().expect("no panics holding it").clone();
    if let Some(log) = &args.log {
        let json = serde_json::to_vec_pretty(&serde_json::json!({
            "story": args.story,
            "source": source,
            "recogniser": recogniser_path,
            "fps": fps,
            "frames": player.frames(),
            "interrupted": interrupted,
            "path": player.shots,
            "decisions": player.decisions,
            "style_changes": player.changes,
            "readings": readings,
        }))?;
        reel_models::install::write_atomic(log, &json)?;
    }
    if !quiet {
        crate::film::print_decisions(&player.decisions);
        eprintln!(
            "the film {} after {} frames",
            if interrupted { "was stopped" } else { "ended" },
            player.frames()
        );
    }
    Ok(())
}

/// Longest a decision waits for the readings up to its moment.
const DECISION_WAIT: Duration = Duration::from_millis(1500);

/// The web page's text: where the film is, what is heard, and the decisions so far.
fn status_text(
    player: &Player,
    state: &reel_film::timeline::FrameState,
    last: Option<&Reading>,
    fps: u32,
) -> String {
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
            .map(crate::film::decision_line)
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
) -> Result<()> {
    let mut transcriber = if midi {
        None
    } else {
        Some(Transcriber::new(1).map_err(music_error)?)
    };
    let rate = SAMPLE_RATE as f64;
    let span = ((recogniser.window + CONTEXT) * rate) as usize;
    let mut next = recogniser.window;
    while !stop.load(Ordering::Relaxed) {
        let (chunk, from, keys) = {
            let mut h = heard.lock().expect("no panics holding it");
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
            Some(t) => {
                reel_music::hear(t, &chunk, &NoteSettings::default(), from).map_err(music_error)?
            }
        };
        let reading = recogniser.read(&heard_notes, next);
        readings.lock().expect("no panics holding it").push(reading);
        next += HOP;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_midi_gives_presses_and_releases_with_running_status() {
        let mut p = MidiParser::default();
        // Note on C4, then (running status) E4, a clock tick in between, E4 off as velocity 0,
        // a program change, C4 off.
        let bytes = [0x90, 60, 100, 64, 0xf8, 90, 64, 0, 0xc0, 5, 0x80, 60, 40];
        let got: Vec<(bool, u8, u8)> = bytes.iter().filter_map(|&b| p.feed(b)).collect();
        assert_eq!(
            got,
            vec![
                (true, 60, 100),
                (true, 64, 90),
                (false, 64, 0),
                (false, 60, 40)
            ]
        );
    }
}
