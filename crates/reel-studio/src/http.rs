//! Just enough HTTP/1.1 for a local studio: one request a connection (answered, then closed),
//! bodies by Content-Length (read as a stream, never whole), responses whole, as byte ranges
//! of a file, or as an event stream.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The longest request head (request line and headers) read.
const MAX_HEAD: usize = 64 * 1024;

pub struct Request {
    pub method: String,
    /// The path, percent-decoded, without the query.
    pub path: String,
    pub query: HashMap<String, String>,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    /// The body's length, as declared.
    pub length: u64,
    pub body: BufReader<TcpStream>,
}

impl Request {
    /// Reads a request's head; None for a connection closed or a head that is not HTTP.
    pub fn read(stream: TcpStream) -> Option<Request> {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let mut body = BufReader::with_capacity(1 << 16, stream);
        let mut line = String::new();
        let mut head = 0;
        let mut next = |body: &mut BufReader<TcpStream>, line: &mut String| -> Option<()> {
            line.clear();
            let n = body
                .by_ref()
                .take((MAX_HEAD - head) as u64)
                .read_line(line)
                .ok()?;
            head += n;
            (n > 0 && line.ends_with('\n')).then_some(())
        };
        next(&mut body, &mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next()?.to_string();
        let target = parts.next()?.to_string();
        parts.next().filter(|v| v.starts_with("HTTP/1"))?;
        let mut headers = HashMap::new();
        loop {
            next(&mut body, &mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':')?;
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target, String::new()),
        };
        let query = query
            .split('&')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                Some((decode(k)?, decode(v)?))
            })
            .collect();
        let length = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        Some(Request {
            method,
            path: decode(&path)?,
            query,
            headers,
            length,
            body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// Reads a body of at most `limit` bytes whole (for JSON); None if it is longer.
    pub fn small_body(&mut self, limit: u64) -> Option<Vec<u8>> {
        if self.length > limit {
            return None;
        }
        let mut out = Vec::with_capacity(self.length as usize);
        self.body
            .by_ref()
            .take(self.length)
            .read_to_end(&mut out)
            .ok()?;
        (out.len() as u64 == self.length).then_some(out)
    }

    /// Ends the exchange: the answer is complete, and what the client still sends (a body
    /// refused unread) is read and dropped for a moment, so that closing does not reset the
    /// connection before the client has read the answer.
    pub fn finish(mut self) {
        let stream = self.body.get_mut();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = std::io::copy(&mut self.body.by_ref().take(64 << 20), &mut std::io::sink());
    }

    /// The stream to answer on.
    pub fn stream(&mut self) -> &mut TcpStream {
        self.body.get_mut()
    }
}

/// Percent-decoding (and `+` as a space in queries is left alone: ids and tokens have none).
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A whole response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status, "application/json", value.to_string())
    }

    /// An error as JSON: `{"error": message}`.
    pub fn error(status: u16, message: impl std::fmt::Display) -> Response {
        Response::json(status, &serde_json::json!({ "error": message.to_string() }))
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn send(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
            self.body.len()
        ));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        206 => "Partial Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        _ => "",
    }
}

/// Sends `file` (or the byte range the request asks for, for seeking players) as
/// `content_type`.
pub fn send_file(
    request: &mut Request,
    mut file: File,
    content_type: &str,
    download: Option<&str>,
) -> std::io::Result<()> {
    let size = file.metadata()?.len();
    let range = request.header("range").map(|r| parse_range(r, size));
    let (status, start, end) = match range {
        None => (200, 0, size),
        Some(Some((start, end))) => (206, start, end),
        Some(None) => {
            return Response::error(416, format!("the file has {size} bytes"))
                .with_header("Content-Range", format!("bytes */{size}"))
                .send(request.stream());
        }
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n",
        reason(status),
        end - start
    );
    if status == 206 {
        head.push_str(&format!(
            "Content-Range: bytes {start}-{}/{size}\r\n",
            end.saturating_sub(1)
        ));
    }
    if let Some(name) = download {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        head.push_str(&format!(
            "Content-Disposition: attachment; filename=\"{safe}\"\r\n"
        ));
    }
    head.push_str("\r\n");
    let head_only = request.method == "HEAD";
    let out = request.stream();
    out.write_all(head.as_bytes())?;
    if head_only {
        return out.flush();
    }
    file.seek(SeekFrom::Start(start))?;
    std::io::copy(&mut file.take(end - start), out)?;
    out.flush()
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` as a half-open range within `size`; None where it
/// does not fit (one range only).
fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (size.saturating_sub(n), size)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>().ok()?.saturating_add(1).min(size)
        };
        (start, end)
    };
    (start < end && start < size).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 100)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 1000)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 1000)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some((990, 1000)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-2", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(decode("%2e%2e%2f").as_deref(), Some("../"));
        assert_eq!(decode("%zz"), None);
    }
}
