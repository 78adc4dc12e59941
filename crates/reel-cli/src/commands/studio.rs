//! `reel studio`: the local web studio.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

use crate::failure::{Failure, Result};
use crate::provenance::SignArgs;

#[derive(Args, Debug)]
pub struct StudioArgs {
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8390)]
    pub port: u16,
    /// The address to listen on: loopback unless you mean others to reach it.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Jobs run at once.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// The largest upload taken, in megabytes.
    #[arg(long, default_value_t = 4000)]
    pub max_upload_mb: u64,
    /// The token every call needs (by default a fresh random one each start); also read from
    /// REEL_STUDIO_TOKEN.
    #[arg(long, env = "REEL_STUDIO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Where the studio keeps its media and jobs [default: the data directory's studio/].
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// A Wan model in the diffusers layout (as `reel gen --model`): the page then offers
    /// generate, restyle, extend, bridge and animate, run with it.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The film's story (TOML, as `reel film check` reads it): the page then shows it checked,
    /// and offers film (rendered from a recorded performance) and film_live.
    #[arg(long, value_name = "STORY")]
    pub film: Option<PathBuf>,
    /// A folder of yours whose videos and images the page lists, to add to the library (a copy
    /// is taken; the folder is only read).
    #[arg(long)]
    pub folder: Option<PathBuf>,
    #[command(flatten)]
    pub sign: SignArgs,
}

pub fn studio(args: &StudioArgs) -> Result {
    if args.workers == 0 || args.workers > 16 {
        return Err(Failure::usage("--workers must be between 1 and 16"));
    }
    if args.max_upload_mb == 0 {
        return Err(Failure::usage("--max-upload-mb must be above 0"));
    }
    if let Some(model) = args
        .model
        .as_ref()
        .filter(|m| !m.join("model_index.json").is_file())
    {
        return Err(Failure::new(
            reel_core::Kind::Input,
            format!(
                "--model {}: not a diffusers model folder (it has no model_index.json)",
                model.display()
            ),
        ));
    }
    if let Some(story) = args.film.as_ref().filter(|s| !s.is_file()) {
        return Err(Failure::new(
            reel_core::Kind::Input,
            format!("--film {}: no such story file", story.display()),
        ));
    }
    if let Some(folder) = args.folder.as_ref().filter(|f| !f.is_dir()) {
        return Err(Failure::new(
            reel_core::Kind::Input,
            format!("--folder {}: not a folder", folder.display()),
        ));
    }
    if !args.host.is_loopback() {
        eprintln!(
            "warning: reel studio listens on {}: anyone who can reach it and has the token can use it",
            args.host
        );
    }
    let studio = reel_studio::Studio::start(reel_studio::Settings {
        host: args.host,
        port: args.port,
        token: args.token.clone(),
        workers: args.workers,
        max_upload: args.max_upload_mb.saturating_mul(1_000_000),
        root: args
            .store
            .clone()
            .unwrap_or_else(|| reel_core::dirs::data_dir().join("studio")),
        signing: args.sign.signing(),
        resources: reel_jobs::command::Resources {
            model: args.model.clone(),
            story: args.film.clone(),
        },
        folder: args.folder.clone(),
    })?;
    let url = studio.url();
    println!("reel studio: {url}");
    let _ = std::io::stdout().flush();
    if args.open {
        let _ = std::process::Command::new("xdg-open")
            .arg(&url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
    studio.serve()?;
    Ok(())
}
