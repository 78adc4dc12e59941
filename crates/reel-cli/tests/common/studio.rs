//! A studio started for a test (`reel studio --port 0`), and a small HTTP client for it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Studio {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub address: String,
    pub token: String,
    pub store: PathBuf,
}

impl Studio {
    /// Starts a studio over `store` (user data in `data`), with extra arguments.
    pub fn start(store: &Path, data: &Path, extra: &[&str]) -> Studio {
        let mut child = Command::new(env!("CARGO_BIN_EXE_reel"))
            .args(["studio", "--port", "0", "--store"])
            .arg(store)
            .args(extra)
            .env("REEL_DATA", data)
            .env("RUST_BACKTRACE", "0")
            .env_remove("REEL_STUDIO_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("reel studio starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("reel studio: ")
            .unwrap_or_else(|| panic!("reel studio printed {line:?}"))
            .to_string();
        let (base, token) = url.split_once("/?token=").expect("the link has its token");
        assert_eq!(token.len(), 32, "a 128-bit token: {token}");
        Studio {
            child,
            base: base.to_string(),
            address: base.trim_start_matches("http://").to_string(),
            token: token.to_string(),
            store: store.to_path_buf(),
        }
    }

    /// The page's link, with its token.
    pub fn url(&self) -> String {
        format!("{}/?token={}", self.base, self.token)
    }

    /// A call with the token.
    pub fn call(&self, method: &str, path: &str, body: Option<(&str, &[u8])>) -> Reply {
        let auth = format!("Bearer {}", self.token);
        request(
            &self.address,
            method,
            path,
            &[("Authorization", &auth)],
            body,
        )
    }

    /// A GET with the token and one more header.
    pub fn call_with(&self, path: &str, header: (&str, &str)) -> Reply {
        let auth = format!("Bearer {}", self.token);
        request(
            &self.address,
            "GET",
            path,
            &[("Authorization", &auth), header],
            None,
        )
    }

    pub fn get_json(&self, path: &str) -> Value {
        let r = self.call("GET", path, None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }

    pub fn post_json(&self, path: &str, value: &Value) -> Reply {
        self.call(
            "POST",
            path,
            Some(("application/json", value.to_string().as_bytes())),
        )
    }

    /// Uploads `name` with `content` as the form field `file`.
    pub fn upload(&self, name: &str, content: &[u8]) -> Reply {
        let (kind, body) = form(name, content);
        self.call("POST", "/api/media", Some((&kind, &body)))
    }

    /// Downloads media `id` into `to`.
    pub fn download(&self, id: u64, to: &Path) {
        let r = self.call("GET", &format!("/api/media/{id}/download"), None);
        assert_eq!(r.status, 200, "download of media {id}: {}", r.text());
        std::fs::write(to, &r.body).unwrap();
    }

    /// Waits until job `id` has ended (or `limit` passes) and returns it.
    pub fn wait(&self, id: u64, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let job = self.get_json(&format!("/api/jobs/{id}"));
            let state = job["state"].as_str().unwrap_or("").to_string();
            if ["done", "failed", "cancelled"].contains(&state.as_str()) {
                return job;
            }
            assert!(start.elapsed() < limit, "job {id} still {state}: {job}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until job `id` is in `state`.
    pub fn wait_for(&self, id: u64, state: &str, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let job = self.get_json(&format!("/api/jobs/{id}"));
            if job["state"] == state {
                return job;
            }
            assert!(start.elapsed() < limit, "job {id} never {state}: {job}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ends the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Studio {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A multipart form with the one field `file`: its Content-Type and body.
pub fn form(name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----reel-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `error` a refusal gives.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }
}

/// One HTTP/1.1 request on its own connection; the answer read to its end.
pub fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> Reply {
    let mut stream = TcpStream::connect(address).expect("the studio listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some((kind, bytes)) = body {
        head.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Length: {}\r\n",
            bytes.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    if let Some((_, bytes)) = body {
        // A server that refuses early may close before the whole body is sent.
        let _ = stream.write_all(bytes);
    }
    read_reply(stream)
}

fn read_reply(stream: TcpStream) -> Reply {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {line:?}"));
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    match headers
        .get("content-length")
        .and_then(|l| l.parse::<u64>().ok())
    {
        Some(n) => {
            reader.take(n).read_to_end(&mut body).unwrap();
        }
        None => {
            let _ = reader.read_to_end(&mut body);
        }
    }
    Reply {
        status,
        headers,
        body,
    }
}

/// Opens the event stream; each `event: job` arrives on the returned channel as its job.
pub fn events(studio: &Studio) -> std::sync::mpsc::Receiver<Value> {
    let mut stream = TcpStream::connect(&studio.address).unwrap();
    write!(
        stream,
        "GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        studio.token
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(data) = line.strip_prefix("data: ")
                && let Ok(job) = serde_json::from_str::<Value>(data)
                && tx.send(job).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// A fresh scratch folder for a studio test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reel-studio-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
