//! reel's benchmarks. Each runs a job of reel's and, where one exists, its reference
//! implementation beside it in the same run on the same input, and prints medians and the
//! ratio. The reference scripts (Python, run with a Python that has the reference installed)
//! are built into reel, so an installed binary needs no source checkout; `--reference DIR` or
//! `REEL_REFERENCE` runs other copies of them instead.

mod common;
pub mod faces;
pub mod generation;
pub mod music;
pub mod retime;
pub mod retouch;
pub mod studio;
pub mod train;
pub mod watermark;

use std::path::{Path, PathBuf};

use reel_core::{HasKind, Kind};

pub use faces::{BenchFacesArgs, faces};
pub use generation::{BenchGenArgs, generation};
pub use music::{BenchStyleArgs, BenchTranscribeArgs, style, transcribe};
pub use retime::{BenchRetimeArgs, retime};
pub use retouch::{BenchRetouchArgs, retouch};
pub use studio::{BenchStudioArgs, studio};
pub use train::{BenchTrainArgs, train};
pub use watermark::{BenchWatermarkArgs, watermark};

/// A benchmark that could not run, with the kind of its cause.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BenchError {
    pub kind: Kind,
    pub message: String,
}

impl BenchError {
    pub fn usage(message: impl Into<String>) -> BenchError {
        BenchError {
            kind: Kind::Usage,
            message: message.into(),
        }
    }

    pub fn other(message: impl Into<String>) -> BenchError {
        BenchError {
            kind: Kind::Other,
            message: message.into(),
        }
    }
}

macro_rules! from_kinded {
    ($($t:ty),*) => {$(
        impl From<$t> for BenchError {
            fn from(e: $t) -> BenchError {
                BenchError { kind: HasKind::kind(&e), message: e.to_string() }
            }
        }
    )*};
}

from_kinded!(
    std::io::Error,
    serde_json::Error,
    reel_video::VideoError,
    reel_runtime::ModelError,
    reel_process::ProcessError,
    reel_faceset::FacesetError,
    reel_swap::SwapError,
    reel_music::MusicError,
    reel_diffusion::DiffusionError
);

impl From<candle_core::Error> for BenchError {
    fn from(e: candle_core::Error) -> BenchError {
        BenchError::other(format!("model: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, BenchError>;

/// A sample from `reel setup`.
fn sample(name: &str) -> PathBuf {
    reel_assets::samples_dir().join(name)
}

/// The reference scripts built into reel.
const SCRIPTS: [(&str, &str); 4] = [
    (
        "bench_wan.py",
        include_str!("../../../tools/reference/bench_wan.py"),
    ),
    (
        "bench_swap_train.py",
        include_str!("../../../tools/reference/bench_swap_train.py"),
    ),
    (
        "bench_mediapipe.py",
        include_str!("../../../tools/reference/bench_mediapipe.py"),
    ),
    (
        "bench_basic_pitch.py",
        include_str!("../../../tools/reference/bench_basic_pitch.py"),
    ),
];

/// Runs reference script `name` (found as [`reference_script`] finds it) with `python` and
/// `args`, and reads the JSON object it prints last; None when that Python cannot run it.
fn run_reference(
    python: &str,
    dir: Option<&Path>,
    name: &str,
    args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>,
) -> Option<serde_json::Value> {
    let script = reference_script(dir, name).ok()?;
    let out = std::process::Command::new(python)
        .arg(&script)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last()?).ok()
}

/// The path of reference script `name`: in `dir` (or `$REEL_REFERENCE`) when given, else the
/// built-in copy written to a temporary file.
fn reference_script(dir: Option<&Path>, name: &str) -> Result<PathBuf> {
    let chosen = dir.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("REEL_REFERENCE")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    });
    if let Some(dir) = chosen {
        let script = dir.join(name);
        return if script.is_file() {
            Ok(script)
        } else {
            Err(BenchError {
                kind: Kind::Usage,
                message: format!(
                    "{} has no {name}: give --reference (or REEL_REFERENCE) the folder that holds reel's reference scripts (tools/reference in its source)",
                    dir.display()
                ),
            })
        };
    }
    let text = SCRIPTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| BenchError::other(format!("no reference script {name}")))?;
    let path = std::env::temp_dir().join(format!("reel-{}-{name}", std::process::id()));
    std::fs::write(&path, text)?;
    Ok(path)
}
