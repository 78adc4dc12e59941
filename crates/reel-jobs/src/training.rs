//! A face-swap model trained in a job, as `reel train` trains one: the faces of both people
//! are taken from their clips (the person whose face goes on, named by the option `source`, and
//! the performer, the job's input), then the model learns them. As it goes the job tells its
//! loss curve and held-back quality, and refreshes the preview grid, so that a front end can draw
//! both while it trains. A cancelled or interrupted training keeps its checkpoint, and a retry
//! goes on from it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reel_faceset::extract::{ExtractSettings, extract};
use reel_swap::model::Architecture;
use reel_swap::train::{TrainSettings, train};
use serde_json::{Map, Value, json};

use crate::JobError;
use crate::command::{Library, Outcome, flag, number, only, settings, text, whole};
use crate::store::MediaKind;

/// The options a training takes, as `reel train` names them (and `every` of `faceset extract`).
const OPTIONS: [&str; 13] = [
    "source",
    "iterations",
    "resolution",
    "architecture",
    "encoder_dims",
    "latent_dims",
    "decoder_dims",
    "batch",
    "learning_rate",
    "uniform_yaw",
    "gan_power",
    "every",
    "seed",
];

/// The options with their help and defaults, for the page's panel.
pub fn described() -> Value {
    json!([
        {"name": "source", "help": "a clip of the person whose face goes on (its faces are learned)", "default": null, "media": "video"},
        {"name": "iterations", "help": "iterations in all (a retry goes on from the last checkpoint)", "default": 2000},
        {"name": "resolution", "help": "face size in pixels, a multiple of 16", "default": 64},
        {"name": "architecture", "help": "df (a decoder per person) or liae (keeps more of the performer's light)", "default": "df"},
        {"name": "encoder_dims", "help": "encoder width (DeepFaceLab's SAEHD: 64)", "default": 32},
        {"name": "latent_dims", "help": "bottleneck size (SAEHD: 256)", "default": 256},
        {"name": "decoder_dims", "help": "decoder width (SAEHD: 64)", "default": 32},
        {"name": "batch", "help": "faces of each person an iteration", "default": 8},
        {"name": "every", "help": "take faces from every Nth frame of the clips", "default": 1},
        {"name": "uniform_yaw", "help": "draw faces evenly over head turn", "default": false},
        {"name": "gan_power", "help": "weight of the adversarial term (0: off; 0.1 sharpens)", "default": 0},
    ])
}

/// How often the job tells its curve, and how often the grid is drawn again.
const TELL_EVERY: Duration = Duration::from_secs(1);
const PREVIEW_EVERY: Duration = Duration::from_secs(15);
/// Points the loss curve keeps; past them, neighbours are averaged together.
const CURVE_POINTS: usize = 400;

/// A training, checked.
#[derive(Debug)]
pub struct Training {
    /// The clips of the person whose face goes on.
    source: Vec<PathBuf>,
    config: reel_swap::model::ModelConfig,
    iterations: u64,
    batch: usize,
    learning_rate: f64,
    uniform_yaw: bool,
    gan_power: f64,
    every: u64,
    seed: u64,
}

pub(crate) fn plan(options: &Map<String, Value>, library: Library) -> Result<Training, JobError> {
    only("train", options, &OPTIONS)?;
    let source = match options.get("source") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids.clone(),
        Some(id) => vec![id.clone()],
    };
    if source.is_empty() {
        return Err(settings(
            "train needs source: a clip of the person whose face goes on (the job's input is the performer)",
        ));
    }
    // Clips, or stills of the face (many, to learn it from).
    let source = source
        .iter()
        .map(|id| {
            let f = library(id.as_u64().ok_or_else(|| {
                settings(format!(
                    "source must be media ids (clips of the face), not {id}"
                ))
            })?)?;
            match f.kind {
                MediaKind::Video | MediaKind::Image => Ok(f.path),
                _ => Err(settings(format!(
                    "source: {} is not a clip or a still",
                    f.name
                ))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let architecture = match text(options, "architecture")?.as_deref() {
        None | Some("df") => Architecture::Df,
        Some("liae") => Architecture::Liae,
        Some(other) => {
            return Err(settings(format!("architecture {other}: use df or liae")));
        }
    };
    let defaults = reel_swap::model::ModelConfig::default();
    let width = |name: &str, default: usize| -> Result<usize, JobError> {
        Ok(whole(options, name, 1..=4096)?.map_or(default, |n| n as usize))
    };
    let config = reel_swap::model::ModelConfig {
        architecture,
        resolution: width("resolution", defaults.resolution)?,
        encoder_dims: width("encoder_dims", defaults.encoder_dims)?,
        latent_dims: width("latent_dims", defaults.latent_dims)?,
        decoder_dims: width("decoder_dims", defaults.decoder_dims)?,
    };
    let training = Training {
        source,
        config,
        iterations: whole(options, "iterations", 1..=10_000_000)?.unwrap_or(2000),
        batch: whole(options, "batch", 1..=256)?.unwrap_or(8) as usize,
        learning_rate: number(options, "learning_rate")?.unwrap_or(2e-4),
        uniform_yaw: flag(options, "uniform_yaw")?,
        gan_power: number(options, "gan_power")?.unwrap_or(0.0),
        every: whole(options, "every", 1..=1000)?.unwrap_or(1),
        seed: whole(options, "seed", 0..=u64::MAX)?.unwrap_or(1),
    };
    training.settings(None).check()?;
    Ok(training)
}

/// The loss of every iteration, kept to a few hundred points: once full, each two neighbours
/// become their mean, and later points each average as many iterations.
struct Curve {
    points: Vec<(u64, f32)>,
    per_point: u64,
    sum: f64,
    count: u64,
}

impl Curve {
    fn new() -> Curve {
        Curve {
            points: Vec::new(),
            per_point: 1,
            sum: 0.0,
            count: 0,
        }
    }

    fn add(&mut self, iteration: u64, loss: f32) {
        self.sum += f64::from(loss);
        self.count += 1;
        if self.count < self.per_point {
            return;
        }
        self.points
            .push((iteration, (self.sum / self.count as f64) as f32));
        (self.sum, self.count) = (0.0, 0);
        if self.points.len() >= CURVE_POINTS {
            self.points = self
                .points
                .chunks(2)
                .map(|pair| {
                    let last = pair[pair.len() - 1].0;
                    let mean = pair.iter().map(|p| p.1).sum::<f32>() / pair.len() as f32;
                    (last, mean)
                })
                .collect();
            self.per_point *= 2;
        }
    }
}

impl Training {
    fn settings(&self, consent: Option<String>) -> TrainSettings {
        TrainSettings {
            config: self.config,
            batch: self.batch,
            learning_rate: self.learning_rate,
            iterations: Some(self.iterations),
            save_every: Duration::from_secs(60),
            preview_every: PREVIEW_EVERY,
            // About twenty measurements over the run.
            evaluate_every: (self.iterations / 20).clamp(10, 250),
            seed: self.seed,
            consent,
            uniform_yaw: self.uniform_yaw,
            gan_power: self.gan_power,
            ..TrainSettings::default()
        }
    }

    /// Trains from the clips of the performer (`performer`) and of the source into the model
    /// folder `out`; the face sets are kept beside it, so that a retry extracts nothing again.
    pub fn run(
        &self,
        performer: &Path,
        out: &Path,
        progress: &mut dyn FnMut(f64) -> bool,
        detail: &mut dyn FnMut(Value),
    ) -> Result<Outcome, JobError> {
        let folder = out.parent().unwrap_or(Path::new("."));
        let (source_set, performer_set) =
            (folder.join("faces-source"), folder.join("faces-performer"));
        // Faces first (a fifth of the job), then the iterations.
        for (n, (clips, set)) in [
            (self.source.clone(), &source_set),
            (vec![performer.to_path_buf()], &performer_set),
        ]
        .into_iter()
        .enumerate()
        {
            // A set is taken as it is only where its extraction finished (the extractor writes
            // its report however it ends).
            let complete = set.join(".complete");
            if complete.exists() {
                continue;
            }
            let _ = std::fs::remove_dir_all(set);
            let extracted = extract(
                &clips,
                set,
                &ExtractSettings {
                    every: self.every,
                    min_change: 0.0,
                    ..ExtractSettings::default()
                },
                |_, done, total| {
                    let share = total.map_or(0.0, |t| done as f64 / t.max(1) as f64);
                    progress(0.1 * (n as f64 + share))
                },
            );
            match extracted {
                Ok(_) => reel_core::output::write_atomic(&complete, b"")
                    .map_err(|e| JobError::Faceset(e.into()))?,
                Err(reel_faceset::FacesetError::Interrupted { .. }) => {
                    return Err(JobError::Cancelled);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut notes = Vec::new();
        let consent = crate::consent::of_face_set(&source_set)?;
        if consent.is_none() {
            notes.push("no consent is recorded for the person whose face this model puts on; a swap with it is refused until one is (reel consent add)".into());
        }
        let settings = self.settings(consent.map(|c| c.id));
        let mut curve = Curve::new();
        let mut quality: Vec<(u64, f32, f32)> = Vec::new();
        let mut told = Instant::now();
        let mut cancelled = false;
        let preview = out.join("preview.png");
        let mut tell = |curve: &Curve, quality: &[(u64, f32, f32)], iteration: u64, speed: f32| {
            // The grid's time tells the page when to fetch it again.
            let drawn = std::fs::metadata(&preview)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64());
            detail(json!({
                "iteration": iteration,
                "iterations": self.iterations,
                "iterations_per_second": speed,
                "loss": curve.points,
                "quality": quality,
                "preview": drawn,
            }));
        };
        let report = train(&source_set, &performer_set, out, &settings, |p| {
            curve.add(p.iteration, p.loss);
            if let Some((a, b)) = p.quality {
                quality.push((p.iteration, a, b));
            }
            if told.elapsed() >= TELL_EVERY || p.quality.is_some() {
                told = Instant::now();
                tell(&curve, &quality, p.iteration, p.iterations_per_second);
            }
            let share = p.iteration as f64 / self.iterations.max(1) as f64;
            cancelled = !progress(0.2 + 0.8 * share);
            !cancelled
        })?;
        // Stopped by the user: the checkpoint is saved, and a retry goes on from it.
        if cancelled {
            return Err(JobError::Cancelled);
        }
        // The whole held-back history, as the model keeps it.
        let history: Vec<(u64, f32, f32)> = report.info.history.clone();
        tell(&curve, &history, report.info.iterations, 0.0);
        notes.push(format!(
            "{} iterations ({} in this run), {:.0} s of training; held-back masked SSIM {}",
            report.info.iterations,
            report.iterations,
            report.info.seconds,
            history
                .last()
                .map_or("not measured".into(), |(_, a, b)| format!(
                    "source {a:.3}, performer {b:.3}"
                ))
        ));
        Ok(Outcome { frames: 0, notes })
    }

    /// Face size of the model it makes.
    pub fn resolution(&self) -> usize {
        self.config.resolution
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_keeps_a_few_hundred_points_of_means() {
        let mut curve = Curve::new();
        for i in 1..=10_000u64 {
            curve.add(i, (i % 2) as f32);
        }
        assert!(curve.points.len() < CURVE_POINTS && curve.points.len() >= CURVE_POINTS / 4);
        // Every point is the mean of an even run of alternating 0s and 1s.
        for &(_, loss) in &curve.points[..curve.points.len() - 1] {
            assert!((loss - 0.5).abs() < 1e-6, "{loss}");
        }
        let iterations: Vec<u64> = curve.points.iter().map(|p| p.0).collect();
        assert!(iterations.windows(2).all(|w| w[0] < w[1]));
        assert!(*iterations.last().unwrap() > 9_900);
    }
}
