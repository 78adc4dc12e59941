//! Starting ffmpeg and keeping its messages: the one place a missing program becomes
//! `MissingTool`, and where stderr is drained as it comes so that a chatty ffmpeg never blocks on
//! a full pipe while reel waits on its stdout or stdin.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command};
use std::thread::JoinHandle;

use crate::VideoError;

/// Starts `cmd` (whose pipes the caller has set), naming `program` if it cannot be found. It
/// gets a process group of its own, so that a Ctrl-C at the terminal reaches reel alone, which
/// then stops it in order (removing partial outputs) instead of finding it gone mid-write.
pub(crate) fn spawn(cmd: &mut Command, program: &'static str) -> Result<Child, VideoError> {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0)
        .spawn()
        .map_err(|source| VideoError::MissingTool { program, source })
}

/// The last lines of a process's messages, read on a thread of their own.
pub(crate) struct StderrTail(Option<JoinHandle<String>>);

/// Lines kept: a damaged file can make ffmpeg write thousands, and the reason for a failure is
/// at the end.
const KEPT_LINES: usize = 20;

impl StderrTail {
    pub(crate) fn drain(pipe: ChildStderr) -> StderrTail {
        StderrTail(Some(std::thread::spawn(move || {
            let mut lines = std::collections::VecDeque::new();
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if lines.len() == KEPT_LINES {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
            Vec::from(lines).join("\n")
        })))
    }

    /// What was written, once the process has closed its stderr (at most once; later calls
    /// give nothing).
    pub(crate) fn join(&mut self) -> String {
        self.0
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}
