//! `reel bench studio`: how fast the studio answers its page while jobs keep both cores busy.
//! A studio is started as a user starts it (`reel studio --port 0`, a store of its own), a clip
//! uploaded; the page's calls are timed over loopback (connect, ask, the whole answer), first
//! with nothing running, then while beauty jobs run on every worker. No peer has such an API,
//! so the idle studio is the reference: the ratio is loaded over idle.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;

use crate::common::{load, median};
use crate::{BenchError, Result, sample};

#[derive(Args)]
pub struct BenchStudioArgs {
    /// The clip the jobs edit (by default the sample talking head, scaled to 720p).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Jobs run at once (the studio's --workers): two keep both cores of a 2-core machine busy.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Rounds of the page's calls timed while idle.
    #[arg(long, default_value_t = 50)]
    pub rounds: usize,
}

/// The calls the page makes most: the queue, the library, one job, the commands, the page.
const CALLS: [&str; 5] = [
    "/api/jobs",
    "/api/media",
    "/api/jobs/1",
    "/api/commands",
    "/studio.js",
];

struct Server {
    child: Child,
    address: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One call with the whole answer read: its status and body.
fn call(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<(&str, &[u8])>,
) -> Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(&server.address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n",
        server.address, server.token
    );
    if let Some((kind, bytes)) = body {
        head.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some((_, bytes)) = body {
        stream.write_all(bytes)?;
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let status = std::str::from_utf8(&answer[..answer.len().min(12)])
        .ok()
        .and_then(|l| l.get(9..12))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |i| i + 4);
    Ok((status, answer[split..].to_vec()))
}

/// Each call's time in milliseconds, one round of every call at a time, until `more` says stop.
fn time_calls(
    server: &Server,
    mut more: impl FnMut(usize) -> Result<bool>,
) -> Result<Vec<Vec<f64>>> {
    let mut times = vec![Vec::new(); CALLS.len()];
    let mut round = 0;
    while more(round)? {
        for (i, path) in CALLS.iter().enumerate() {
            let t = Instant::now();
            let (status, _) = call(server, "GET", path, None)?;
            times[i].push(t.elapsed().as_secs_f64() * 1000.0);
            if status != 200 {
                return Err(BenchError::other(format!("GET {path} answered {status}")));
            }
        }
        round += 1;
    }
    Ok(times)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

pub fn studio(args: &BenchStudioArgs) -> Result<()> {
    if args.workers == 0 || args.workers > 16 || args.rounds == 0 {
        return Err(BenchError::usage(
            "--workers must be from 1 to 16 and --rounds at least 1",
        ));
    }
    let dir = std::env::temp_dir().join(format!("reel-bench-studio-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(args: &BenchStudioArgs, dir: &std::path::Path) -> Result<()> {
    let input = match &args.input {
        Some(p) => p.clone(),
        None => load(&sample("talking_head.mp4"), 1, Some((1280, 720)), dir)?.1,
    };
    let clip = std::fs::read(&input)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "studio",
            "--port",
            "0",
            "--workers",
            &args.workers.to_string(),
            "--store",
        ])
        .arg(dir.join("store"))
        .env_remove("REEL_STUDIO_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    let Some((address, token)) = line
        .trim()
        .strip_prefix("reel studio: http://")
        .and_then(|l| l.split_once("/?token="))
    else {
        let _ = child.kill();
        return Err(BenchError::other(format!("reel studio printed {line:?}")));
    };
    let server = Server {
        address: address.to_string(),
        token: token.to_string(),
        child,
    };
    // The clip, uploaded as the page uploads it.
    let boundary = "reelbenchboundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(&clip);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (status, body) = call(
        &server,
        "POST",
        "/api/media",
        Some((&format!("multipart/form-data; boundary={boundary}"), &form)),
    )?;
    if status != 201 {
        return Err(BenchError::other(format!(
            "the upload answered {status}: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    let media: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    println!(
        "reel bench studio: the page's calls ({}) over loopback, connect to whole answer; idle, then while {} beauty job{} on {} ({}x{}, {} frames) keep {} worker{} busy",
        CALLS.join(", "),
        args.workers,
        if args.workers == 1 { "" } else { "s" },
        input.display(),
        media["width"],
        media["height"],
        media["frames"],
        args.workers,
        if args.workers == 1 { "" } else { "s" },
    );
    let job = format!(
        "{{\"command\": \"beauty\", \"input\": {}, \"options\": {{\"strength\": 0.7}}}}",
        media["id"]
    );
    // One job first, so that /api/jobs/1 exists for the idle rounds; it is cancelled at once.
    let (status, _) = call(
        &server,
        "POST",
        "/api/jobs",
        Some(("application/json", job.as_bytes())),
    )?;
    if status != 201 {
        return Err(BenchError::other(format!("the job answered {status}")));
    }
    call(
        &server,
        "POST",
        "/api/jobs/1/cancel",
        Some(("application/json", b"{}")),
    )?;
    std::thread::sleep(Duration::from_millis(500));
    let idle = time_calls(&server, |round| Ok(round < args.rounds))?;

    for _ in 0..args.workers {
        call(
            &server,
            "POST",
            "/api/jobs",
            Some(("application/json", job.as_bytes())),
        )?;
    }
    let started = Instant::now();
    let busy = |server: &Server| -> Result<bool> {
        let (_, body) = call(server, "GET", "/api/jobs", None)?;
        let jobs: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let running = jobs
            .as_array()
            .map_or(0, |j| j.iter().filter(|j| j["state"] == "running").count());
        Ok(running == args.workers)
    };
    // Timed only while every worker runs a job (not while they start or as the last ends).
    while !busy(&server)? {
        if started.elapsed() > Duration::from_secs(60) {
            return Err(BenchError::other("the jobs did not start"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut checked = Instant::now();
    let mut still_busy = true;
    let loaded = time_calls(&server, |_| {
        if checked.elapsed() > Duration::from_millis(500) {
            checked = Instant::now();
            still_busy = busy(&server)?;
        }
        Ok(still_busy)
    })?;
    let seconds = started.elapsed().as_secs_f64();

    let mut worst = 0.0f64;
    let mut ratios = Vec::new();
    for (i, path) in CALLS.iter().enumerate() {
        let (a, b) = (&idle[i], &loaded[i]);
        let (ma, mb) = (median(a.clone()), median(b.clone()));
        worst = worst.max(b.iter().copied().fold(0.0, f64::max));
        ratios.push(mb / ma);
        println!(
            "  GET {path:<14} idle: median {ma:.2} ms, p95 {:.2}, max {:.2} ({} calls)   loaded: median {mb:.2} ms, p95 {:.2}, max {:.2} ({} calls)   loaded/idle {:.2}",
            percentile(a, 0.95),
            a.iter().copied().fold(0.0, f64::max),
            a.len(),
            percentile(b, 0.95),
            b.iter().copied().fold(0.0, f64::max),
            b.len(),
            mb / ma
        );
    }
    println!(
        "  the slowest answer while {} job{} ran ({seconds:.1} s): {worst:.1} ms (the studio's bar: under 100 ms); median ratio loaded/idle {:.2}",
        args.workers,
        if args.workers == 1 { "" } else { "s" },
        median(ratios)
    );
    Ok(())
}
