//! `reel setup`: installs everything reel downloads, each file checked against its pinned SHA-256.

use clap::Args;
use reel_assets::catalogue::{
    MESH_TOPOLOGY, ModelId, ONNXRUNTIME_LIBRARY, PIANO_SOUNDFONT, SAMPLES,
};
use reel_assets::install::{Outcome, install};
use reel_assets::{models_dir, samples_dir};

use crate::failure::Result;

#[derive(Args)]
pub struct SetupArgs {
    /// Skip the sample footage.
    #[arg(long)]
    pub no_samples: bool,
    /// Print the directory the samples go to, and do nothing else.
    #[arg(long)]
    pub print_samples_dir: bool,
}

pub fn run(args: &SetupArgs, quiet: bool) -> Result {
    if args.print_samples_dir {
        println!("{}", samples_dir().display());
        return Ok(());
    }
    let models = models_dir();
    let samples = samples_dir();
    let mut jobs: Vec<(reel_assets::Asset, &std::path::Path)> = ModelId::ALL
        .iter()
        .map(|m| (m.asset(), models.as_path()))
        .collect();
    jobs.push((ONNXRUNTIME_LIBRARY, models.as_path()));
    jobs.push((MESH_TOPOLOGY, models.as_path()));
    jobs.push((PIANO_SOUNDFONT, models.as_path()));
    if !args.no_samples {
        jobs.extend(SAMPLES.iter().map(|s| (*s, samples.as_path())));
    }
    for (asset, dir) in jobs {
        let outcome = install(&asset, dir)?;
        if !quiet {
            let what = match outcome {
                Outcome::AlreadyThere => "ok       ",
                Outcome::Installed => "installed",
            };
            eprintln!(
                "{what} {} (from {})",
                dir.join(asset.file).display(),
                asset.package
            );
        }
    }
    // The signing identity for content credentials: made once, kept in the data directory.
    reel_credentials::Identity::local()?;
    if !quiet {
        eprintln!(
            "ok        {} (the local signing identity)",
            reel_credentials::Identity::local_dir().display()
        );
    }
    Ok(())
}
