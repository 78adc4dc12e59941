//! The live film's local web page: the film as a motion-JPEG stream, and beside it the style
//! heard and each decision, on a small HTTP/1.0 server bound to loopback.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};

/// What the page shows.
#[derive(Default)]
struct Shown {
    jpeg: Arc<Vec<u8>>,
    frame: u64,
    status: String,
    over: bool,
}

/// The page's server, on a thread of its own.
#[derive(Clone)]
pub struct Page {
    shown: Arc<(Mutex<Shown>, Condvar)>,
}

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>reel film live</title>
<style>body{background:#111;color:#ddd;font:15px system-ui;margin:0;display:flex;flex-direction:column;align-items:center}
img{max-width:100vw;max-height:80vh;margin-top:12px}#s{white-space:pre;font-family:monospace;margin:10px}</style>
<img src="/stream"><div id="s">listening…</div>
<script>setInterval(async()=>{try{const r=await fetch('/status');document.getElementById('s').textContent=await r.text()}catch(e){}},500)</script>"#;

impl Page {
    /// Serves on `127.0.0.1:port` (0: any free port); the address it took.
    pub fn serve(port: u16) -> std::io::Result<(Page, SocketAddr)> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let address = listener.local_addr()?;
        let page = Page {
            shown: Arc::new((Mutex::new(Shown::default()), Condvar::new())),
        };
        let serving = page.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let page = serving.clone();
                std::thread::spawn(move || {
                    let _ = page.answer(stream);
                });
            }
        });
        Ok((page, address))
    }

    /// Shows a new frame (as JPEG) and status text.
    pub fn show(&self, frame: u64, jpeg: Vec<u8>, status: String) {
        let mut s = self.shown.0.lock().expect("no panics holding it");
        s.jpeg = Arc::new(jpeg);
        s.frame = frame;
        s.status = status;
        self.shown.1.notify_all();
    }

    /// Ends the streams.
    pub fn close(&self) {
        let mut s = self.shown.0.lock().expect("no panics holding it");
        s.over = true;
        self.shown.1.notify_all();
    }

    fn answer(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut request = String::new();
        reader.read_line(&mut request)?;
        let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut out = stream;
        let shown = &*self.shown;
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
}
