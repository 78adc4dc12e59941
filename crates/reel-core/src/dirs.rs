//! Where reel keeps what it downloads and derives (a cache that can be deleted) and what belongs
//! to the user (consent register, keys, studio store), which must never be deleted.

use std::path::PathBuf;

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// `$XDG_CACHE_HOME/reel`, else `~/.cache/reel`.
pub fn cache_dir() -> PathBuf {
    if let Some(xdg) = env_dir("XDG_CACHE_HOME") {
        return xdg.join("reel");
    }
    match env_dir("HOME") {
        Some(home) => home.join(".cache").join("reel"),
        None => PathBuf::from(".reel-cache"),
    }
}

/// The user's data: `$REEL_DATA`, else `$XDG_DATA_HOME/reel`, else `~/.local/share/reel`.
pub fn data_dir() -> PathBuf {
    if let Some(d) = env_dir("REEL_DATA") {
        return d;
    }
    if let Some(xdg) = env_dir("XDG_DATA_HOME") {
        return xdg.join("reel");
    }
    match env_dir("HOME") {
        Some(home) => home.join(".local").join("share").join("reel"),
        None => PathBuf::from(".reel-data"),
    }
}
