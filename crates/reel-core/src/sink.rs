//! JSON written as the work goes: an object whose fields come first, then one array filled item
//! by item (a frame at a time, say), then closing fields. It goes through the output layer, so
//! the file appears only once complete.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::io;
use crate::output::{AtomicFile, OutputError};

pub struct JsonStream {
    out: AtomicFile,
    path: String,
    first: bool,
}

impl JsonStream {
    /// Starts the document at `path` (`-` for standard output) with the fields of `head` (an
    /// object), then opens the array `array`.
    pub fn create(
        path: &Path,
        head: &serde_json::Value,
        array: &str,
    ) -> Result<JsonStream, OutputError> {
        let mut out = AtomicFile::create(path)?;
        let name = path.display().to_string();
        let head = head.to_string();
        let fields = head
            .strip_suffix('}')
            .filter(|h| h.starts_with('{'))
            .unwrap_or("{");
        let sep = if fields.len() > 1 { "," } else { "" };
        write!(
            out,
            "{fields}{sep}\n{}: [\n",
            serde_json::Value::from(array)
        )
        .map_err(io(format!("writing {name}")))?;
        Ok(JsonStream {
            out,
            path: name,
            first: true,
        })
    }

    /// Adds one item to the array.
    pub fn item(&mut self, item: &impl Serialize) -> Result<(), OutputError> {
        let sep = if self.first { "" } else { ",\n" };
        self.first = false;
        self.out
            .write_all(sep.as_bytes())
            .map_err(io(format!("writing {}", self.path)))?;
        serde_json::to_writer(&mut self.out, item).map_err(|e| {
            io(format!("writing {}", self.path))(std::io::Error::other(e.to_string()))
        })?;
        Ok(())
    }

    /// Closes the array, adds `name: tail` (pretty-printed) and completes the file.
    pub fn finish(mut self, name: &str, tail: &impl Serialize) -> Result<(), OutputError> {
        let tail = serde_json::to_string_pretty(tail)
            .map_err(|e| io(format!("writing {}", self.path))(std::io::Error::other(e)))?;
        write!(
            self.out,
            "\n],\n{}: {tail}\n}}\n",
            serde_json::Value::from(name)
        )
        .map_err(io(format!("writing {}", self.path)))?;
        self.out.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_one_valid_document() {
        let path = std::env::temp_dir().join(format!("reel-sink-{}.json", std::process::id()));
        let mut s =
            JsonStream::create(&path, &serde_json::json!({"input": "a.mp4"}), "frames").unwrap();
        assert!(!path.exists(), "appears only once complete");
        s.item(&serde_json::json!({"index": 0})).unwrap();
        s.item(&serde_json::json!({"index": 1})).unwrap();
        s.finish("summary", &serde_json::json!({"frames": 2}))
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["input"], "a.mp4");
        assert_eq!(v["frames"][1]["index"], 1);
        assert_eq!(v["summary"]["frames"], 2);
        std::fs::remove_file(&path).unwrap();
    }
}
