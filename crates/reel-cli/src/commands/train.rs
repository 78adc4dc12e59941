//! `reel train` and `reel swap --model`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use reel_swap::model::Architecture;
use reel_swap::train::{TrainSettings, train};

use crate::failure::{Failure, Result};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Face set of the person whose face goes on (A).
    #[arg(
        long,
        required_unless_present = "pretrain",
        conflicts_with = "pretrain"
    )]
    pub src: Option<PathBuf>,
    /// Face set of the performer in the footage (B).
    #[arg(
        long,
        required_unless_present = "pretrain",
        conflicts_with = "pretrain"
    )]
    pub dst: Option<PathBuf>,
    /// Pretrain on this face set of many people instead of a pair: the model learns faces in
    /// general, and pairs started from it (--start-from) learn their two people in fewer
    /// iterations. It puts no one's face on.
    #[arg(long, value_name = "FACES")]
    pub pretrain: Option<PathBuf>,
    /// Start a new pair's model from this pretrained one (same resolution, design and widths).
    #[arg(long, value_name = "MODEL", conflicts_with = "pretrain")]
    pub start_from: Option<PathBuf>,
    /// Model directory (created; training resumes from a checkpoint there).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Face resolution in pixels (a multiple of 16).
    #[arg(long, default_value_t = 64)]
    pub resolution: usize,
    /// Network design: df (a decoder per person) or liae (shared decoder, keeps more of the
    /// target's lighting and expression).
    #[arg(long, value_enum, default_value_t = Design::Df)]
    pub architecture: Design,
    /// Encoder width: channels of its first layer, doubled at each of its four halvings
    /// (DeepFaceLab's SAEHD: 64) [default: 32, or the model's when resuming].
    #[arg(long)]
    pub encoder_dims: Option<usize>,
    /// Bottleneck size (SAEHD: 256) [default: 256, or the model's when resuming].
    #[arg(long)]
    pub latent_dims: Option<usize>,
    /// Decoder width (SAEHD: 64) [default: 32, or the model's when resuming].
    #[arg(long)]
    pub decoder_dims: Option<usize>,
    /// Draw faces evenly over head turn (yaw) rather than evenly over faces, so that the few
    /// turned faces of a mostly frontal set are learned as often as its many frontal ones.
    #[arg(long)]
    pub uniform_yaw: bool,
    /// Weight of an adversarial term (0 is off; DeepFaceLab suggests 0.1): a small patch
    /// discriminator learns to tell A's real faces from the model's drawing of them, and the
    /// model learns to draw the fine detail that tells them apart (about an eighth more time an
    /// iteration at 128 px); its weights are saved beside the model's.
    #[arg(long, default_value_t = 0.0)]
    pub gan_power: f64,
    /// Stop at this many iterations in total (by default: train until Ctrl-C).
    #[arg(long)]
    pub iterations: Option<u64>,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 2e-4)]
    pub learning_rate: f64,
    /// Minutes between checkpoints.
    #[arg(long, default_value_t = 2.0)]
    pub save_minutes: f64,
    /// Minutes between preview grids (preview.png in the model directory).
    #[arg(long, default_value_t = 5.0)]
    pub preview_minutes: f64,
    /// Iterations between measurements of held-back reconstruction quality.
    #[arg(long, default_value_t = 250)]
    pub evaluate_every: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Design {
    Df,
    Liae,
}

impl From<Design> for Architecture {
    fn from(d: Design) -> Architecture {
        match d {
            Design::Df => Architecture::Df,
            Design::Liae => Architecture::Liae,
        }
    }
}

pub fn run(args: &TrainArgs, quiet: bool) -> Result {
    for (name, minutes) in [
        ("--save-minutes", args.save_minutes),
        ("--preview-minutes", args.preview_minutes),
    ] {
        if !(minutes.is_finite() && minutes > 0.0) {
            return Err(Failure::usage(format!(
                "{name} must be a positive number of minutes, not {minutes}"
            )));
        }
    }
    let (src, dst) = match (&args.pretrain, &args.src, &args.dst) {
        (Some(many), _, _) => (many, many),
        (None, Some(src), Some(dst)) => (src, dst),
        _ => return Err(Failure::usage("give --src and --dst, or --pretrain")),
    };
    let mut inputs: Vec<&std::path::Path> = vec![src, dst];
    inputs.extend(args.start_from.as_deref());
    reel_core::output::check_distinct(&inputs, &[&args.output])?;
    let mut settings = TrainSettings {
        batch: args.batch,
        learning_rate: args.learning_rate,
        iterations: args.iterations,
        save_every: Duration::from_secs_f64(args.save_minutes.max(0.05) * 60.0),
        preview_every: Duration::from_secs_f64(args.preview_minutes.max(0.05) * 60.0),
        evaluate_every: args.evaluate_every.max(1),
        seed: args.seed,
        pretrain: args.pretrain.is_some(),
        start_from: args.start_from.clone(),
        uniform_yaw: args.uniform_yaw,
        gan_power: args.gan_power,
        ..TrainSettings::default()
    };
    settings.config.resolution = args.resolution;
    settings.config.architecture = args.architecture.into();
    // Widths not given: the model's own when resuming one (or starting from one), else the
    // defaults.
    let existing = [Some(args.output.as_path()), args.start_from.as_deref()];
    let widths = existing
        .into_iter()
        .flatten()
        .find_map(|dir| reel_swap::train::read_info(dir).ok())
        .map_or(settings.config, |info| info.config);
    settings.config.encoder_dims = args.encoder_dims.unwrap_or(widths.encoder_dims);
    settings.config.latent_dims = args.latent_dims.unwrap_or(widths.latent_dims);
    settings.config.decoder_dims = args.decoder_dims.unwrap_or(widths.decoder_dims);
    // A bad number would poison a good checkpoint: refused before anything is read.
    settings.check()?;
    settings.consent = match args.pretrain {
        Some(_) => None,
        None => source_consent(src, quiet)?,
    };
    let bar = crate::progress::frames(args.iterations, "train", quiet);
    let report = train(src, dst, &args.output, &settings, |p| {
        bar.set_position(p.iteration);
        let q = p
            .quality
            .map(|(a, b)| format!("  held-back SSIM A {a:.3} B {b:.3}"))
            .unwrap_or_default();
        bar.set_message(format!(
            "loss {:.3} {:.1} it/s{q}",
            p.loss, p.iterations_per_second
        ));
        if let Some((a, b)) = p.quality
            && !quiet
        {
            bar.println(format!(
                "iteration {}: held-back SSIM A {a:.3} B {b:.3}",
                p.iteration
            ));
        }
        !reel_core::stop::requested()
    })?;
    bar.finish_and_clear();
    if !quiet {
        let info = &report.info;
        eprintln!(
            "{}: {} iterations ({} this run), {:.0} s of training; checkpoint {}",
            args.output.display(),
            info.iterations,
            report.iterations,
            info.seconds,
            report.checkpoint.display()
        );
        for (it, a, b) in &info.history {
            eprintln!("  iteration {it:>6}: held-back masked SSIM  A {a:.3}  B {b:.3}");
        }
    }
    Ok(())
}

/// The consent the source face set's person gave, recorded in the model; training goes on
/// without one (it harms no one), but `reel swap --model` will refuse until one is recorded.
fn source_consent(src: &std::path::Path, quiet: bool) -> Result<Option<String>> {
    let consent = reel_jobs::consent::of_face_set(src)?;
    if !quiet {
        match &consent {
            Some(c) => eprintln!(
                "consent: {} ({}, granted by {})",
                c.name, c.id, c.granted_by
            ),
            None => eprintln!(
                "no consent is recorded for the person in {}; `reel swap --model` will refuse until one is (`reel consent add`)",
                src.display()
            ),
        }
    }
    Ok(consent.map(|c| c.id))
}
