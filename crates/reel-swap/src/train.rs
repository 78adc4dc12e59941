//! `reel train`: learns a swap model from two face sets, with masked structural-similarity and
//! pixel losses, extra weight on eyes and mouth, random-warp and colour augmentation; saves
//! checkpoints atomically every few minutes and resumes where it stopped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW, VarBuilder, VarMap};
use reel_core::output::write_atomic;
use serde::{Deserialize, Serialize};

use crate::SwapError;
use crate::adam::Adam;
use crate::data::{Batch, FaceData, Picker, Rng, Sample, fill};
use crate::gan::Gan;
use crate::model::{ModelConfig, Person, SwapModel};

/// What `model.json` records beside the weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The layout of the weights; models of an older layout are refused with a clear message.
    #[serde(default)]
    pub format: u32,
    pub config: ModelConfig,
    /// The face crops the model was trained on: size and margin (see reel_face::Alignment).
    pub face_size: usize,
    pub face_margin: f32,
    pub iterations: u64,
    pub seconds: f64,
    /// Held-back reconstruction quality (masked SSIM) as training went: (iteration, A, B).
    pub history: Vec<(u64, f32, f32)>,
    /// Whose face the model puts on: the mean identity descriptor of the source face set
    /// (empty for models trained before reel recorded it).
    #[serde(default)]
    pub source_identity: Vec<f32>,
    /// The consent the source face set rests on, as recorded when training.
    #[serde(default)]
    pub consent: Option<String>,
    /// Trained on a face set of many people to start pairs from: it puts no one's face on.
    #[serde(default)]
    pub pretrained: bool,
    /// The pretrained model this one started from.
    #[serde(default)]
    pub started_from: Option<PathBuf>,
}

impl ModelInfo {
    /// Refuses a pretrained model where a face is to be put on.
    pub fn check_swappable(&self, dir: &Path) -> Result<(), SwapError> {
        if self.pretrained {
            return Err(SwapError::Settings(format!(
                "{} is pretrained on many faces and puts no one's face on; train a pair from it: reel train --src A --dst B --start-from {} -o MODEL",
                dir.display(),
                dir.display()
            )));
        }
        Ok(())
    }
}

pub const WEIGHTS: &str = "model.safetensors";
/// The weight layout written now (2: one output convolution for face and mask together).
pub const FORMAT: u32 = 2;
pub const INFO: &str = "model.json";
/// The optimiser's state, so that a resumed run goes on as if it had never stopped.
pub const OPTIMISER: &str = "optimiser.safetensors";
/// Every file a model's folder holds.
pub const FILES: [&str; 4] = [WEIGHTS, INFO, OPTIMISER, crate::gan::WEIGHTS];

pub struct TrainSettings {
    pub config: ModelConfig,
    pub batch: usize,
    pub learning_rate: f64,
    /// Stop once the model has this many iterations in total (None: until cancelled).
    pub iterations: Option<u64>,
    pub save_every: Duration,
    pub preview_every: Duration,
    /// Measure held-back quality every this many iterations.
    pub evaluate_every: u64,
    pub seed: u64,
    /// The consent the source face set rests on (recorded in the model).
    pub consent: Option<String>,
    /// Pretraining: both sets are one set of many people, and the model is marked as a start
    /// for pairs rather than a swap.
    pub pretrain: bool,
    /// A new model starts from this pretrained one's weights (a model being resumed ignores it).
    pub start_from: Option<PathBuf>,
    /// Draw faces evenly over head turn rather than evenly over faces.
    pub uniform_yaw: bool,
    /// Weight of the adversarial term (0: off; DeepFaceLab suggests 0.1).
    pub gan_power: f64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            config: ModelConfig::default(),
            batch: 8,
            learning_rate: 2e-4,
            iterations: None,
            save_every: Duration::from_secs(120),
            preview_every: Duration::from_secs(300),
            evaluate_every: 250,
            seed: 1,
            consent: None,
            pretrain: false,
            start_from: None,
            uniform_yaw: false,
            gan_power: 0.0,
        }
    }
}

impl TrainSettings {
    /// Refuses settings that cannot train (a bad number would poison a good checkpoint), before
    /// anything is read.
    pub fn check(&self) -> Result<(), SwapError> {
        check_config(&self.config)?;
        let rate = self.learning_rate;
        if !(rate.is_finite() && rate > 0.0 && rate <= 1.0) {
            return Err(SwapError::Settings(format!(
                "--learning-rate must be above 0 and at most 1, not {rate}"
            )));
        }
        if !(self.gan_power.is_finite() && (0.0..=10.0).contains(&self.gan_power)) {
            return Err(SwapError::Settings(format!(
                "--gan-power must be from 0 to 10, not {}",
                self.gan_power
            )));
        }
        if self.batch == 0 || self.batch > 256 {
            return Err(SwapError::Settings(
                "--batch must be between 1 and 256".into(),
            ));
        }
        Ok(())
    }
}

/// What the caller hears as training goes.
pub struct Progress {
    pub iteration: u64,
    pub loss: f32,
    pub iterations_per_second: f32,
    pub quality: Option<(f32, f32)>,
}

fn ssim(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    // Structural similarity over Gaussian windows (sigma 1.5, 7x7), images in [0, 1]
    // (Wang et al. 2004), with a blur that has a backward pass so that it trains.
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let pool = |t: &Tensor| crate::conv::gaussian_blur(t, 1.5, 3);
    let (ma, mb) = (pool(a)?, pool(b)?);
    let saa = (pool(&a.sqr()?)? - ma.sqr()?)?;
    let sbb = (pool(&b.sqr()?)? - mb.sqr()?)?;
    let sab = (pool(&(a * b)?)? - (&ma * &mb)?)?;
    let num = (((&ma * &mb)? * 2.0)? + c1)?.mul(&((sab * 2.0)? + c2)?)?;
    let den = ((ma.sqr()? + mb.sqr()?)? + c1)?.mul(&((saa + sbb)? + c2)?)?;
    num.div(&den)?.mean_all()
}

/// One person's batch on the device.
pub struct Tensors {
    /// The warped faces the model sees.
    pub input: Tensor,
    /// The faces it must draw back.
    pub target: Tensor,
    pub mask: Tensor,
    /// Extra weight on eyes and mouth.
    pub priority: Tensor,
}

/// `n` samples of `b` at resolution `res` as tensors on `dev`.
pub fn tensors(b: &Batch, n: usize, res: usize, dev: &Device) -> candle_core::Result<Tensors> {
    Ok(Tensors {
        input: Tensor::from_slice(&b.input, (n, 3, res, res), dev)?,
        target: Tensor::from_slice(&b.target, (n, 3, res, res), dev)?,
        mask: Tensor::from_slice(&b.mask, (n, 1, res, res), dev)?,
        priority: Tensor::from_slice(&b.priority, (n, 1, res, res), dev)?,
    })
}

/// The optimiser training uses (Adam with DeepFaceLab's first-moment decay of 0.5).
pub fn optimiser(varmap: &VarMap, learning_rate: f64) -> candle_core::Result<Adam> {
    Adam::over(varmap, adam_settings(learning_rate))
}

/// Adam's settings for training.
pub(crate) fn adam_settings(learning_rate: f64) -> ParamsAdamW {
    ParamsAdamW {
        lr: learning_rate,
        beta1: 0.5,
        beta2: 0.999,
        eps: 1e-7,
        weight_decay: 0.0,
    }
}

/// One iteration's loss: both people drawn back from their warped faces.
pub fn iteration_loss(model: &SwapModel, a: &Tensors, b: &Tensors) -> candle_core::Result<Tensor> {
    Ok(iteration(model, a, b)?.0)
}

/// One iteration's loss, and A's faces as the model drew them back.
fn iteration(model: &SwapModel, a: &Tensors, b: &Tensors) -> candle_core::Result<(Tensor, Tensor)> {
    let (loss_a, face_a) = loss(model, a, Person::A)?;
    Ok(((loss_a + loss(model, b, Person::B)?.0)?, face_a))
}

fn loss(model: &SwapModel, t: &Tensors, person: Person) -> candle_core::Result<(Tensor, Tensor)> {
    let (face, mask) = model.reconstruct(&t.input, person)?;
    let pm = face.broadcast_mul(&t.mask)?;
    let tm = t.target.broadcast_mul(&t.mask)?;
    let dssim = ((1.0 - ssim(&pm, &tm)?)? / 2.0)?;
    let mse = (&pm - &tm)?.sqr()?.mean_all()?;
    let focus = (&face - &t.target)?
        .sqr()?
        .broadcast_mul(&t.priority)?
        .mean_all()?;
    let mask_loss = (&mask - &t.mask)?.sqr()?.mean_all()?;
    let total = ((dssim * 10.0)? + (mse * 10.0)? + (focus * 30.0)? + (mask_loss * 10.0)?)?;
    Ok((total, face))
}

/// Held-back reconstruction quality: masked SSIM of the person's own faces drawn back.
pub fn quality(
    model: &SwapModel,
    samples: &[Sample],
    size: usize,
    person: Person,
    dev: &Device,
) -> Result<f32, SwapError> {
    if samples.is_empty() {
        return Ok(f32::NAN);
    }
    let res = model.config.resolution;
    let mut batch = Batch::default();
    let mut rng = Rng::new(0);
    let mut total = 0.0;
    for chunk in samples.chunks(8) {
        let in_order: Vec<usize> = (0..chunk.len()).collect();
        fill(chunk, &in_order, size, res, false, &mut rng, &mut batch);
        let t = tensors(&batch, chunk.len(), res, dev)?;
        let (face, _) = model.reconstruct(&t.target, person)?;
        let s = ssim(
            &face.broadcast_mul(&t.mask)?,
            &t.target.broadcast_mul(&t.mask)?,
        )?
        .to_scalar::<f32>()?;
        total += s * chunk.len() as f32;
    }
    Ok(total / samples.len() as f32)
}

fn check_config(cfg: &ModelConfig) -> Result<(), SwapError> {
    if cfg.resolution < 32 || !cfg.resolution.is_multiple_of(16) || cfg.resolution > 512 {
        return Err(SwapError::Settings(format!(
            "--resolution must be a multiple of 16 from 32 to 512, not {}",
            cfg.resolution
        )));
    }
    let dims = [cfg.encoder_dims, cfg.latent_dims, cfg.decoder_dims];
    if dims.iter().any(|&d| d == 0 || d > 4096) {
        return Err(SwapError::Settings(format!(
            "model widths must be from 1 to 4096, not {dims:?}"
        )));
    }
    Ok(())
}

/// A trained model's description, without its weights.
pub fn read_info(dir: &Path) -> Result<ModelInfo, SwapError> {
    let info_path = dir.join(INFO);
    let text = std::fs::read_to_string(&info_path).map_err(|_| {
        SwapError::Settings(format!(
            "{} is not a trained model (no {INFO}); train one with `reel train`",
            dir.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| SwapError::Settings(format!("{}: {e}", info_path.display())))
}

/// Loads a trained model from its directory.
pub fn load(dir: &Path, dev: &Device) -> Result<(SwapModel, ModelInfo, VarMap), SwapError> {
    let info = read_info(dir)?;
    if info.format != FORMAT {
        return Err(SwapError::Settings(format!(
            "{} was trained by another version of reel (weight layout {}, this one reads {FORMAT}); train it again",
            dir.display(),
            info.format
        )));
    }
    check_config(&info.config)?;
    let mut varmap = VarMap::new();
    let model = SwapModel::new(
        info.config,
        VarBuilder::from_varmap(&varmap, DType::F32, dev),
    )?;
    varmap.load(dir.join(WEIGHTS)).map_err(|e| {
        SwapError::Settings(format!(
            "{}: the weights do not fit the model described in {INFO} ({e})",
            dir.display()
        ))
    })?;
    Ok((model, info, varmap))
}

/// Restores the optimiser's moments saved with the checkpoint in `dir`, when they belong to
/// its iteration (a run killed between the two files leaves them a checkpoint apart).
fn restore_optimiser(dir: &Path, info: &ModelInfo, opt: &mut Adam) -> Result<(), SwapError> {
    let path = dir.join(OPTIMISER);
    if info.iterations == 0 || !path.exists() {
        return Ok(());
    }
    let state = candle_core::safetensors::load(&path, &Device::Cpu).map_err(|e| {
        SwapError::Settings(format!(
            "{}: unreadable ({e}); delete it to resume with a fresh optimiser",
            path.display()
        ))
    })?;
    let tagged = state
        .get("iteration")
        .and_then(|t| t.to_vec1::<f64>().ok())
        .and_then(|v| v.first().copied());
    if tagged == Some(info.iterations as f64) {
        opt.restore(&state)?;
    }
    Ok(())
}

/// Training went to infinities: what is on disk (the last good checkpoint) is kept.
fn diverged(iteration: u64, dir: &Path) -> SwapError {
    SwapError::Settings(format!(
        "training diverged at iteration {iteration} (the loss or the weights are no longer finite); the last good checkpoint in {} is kept; lower --learning-rate",
        dir.display()
    ))
}

/// Writes `path` through a temporary file, so a kill leaves the old file whole.
fn save_atomic(
    path: PathBuf,
    write: impl FnOnce(&Path) -> candle_core::Result<()>,
) -> Result<(), SwapError> {
    let temp = reel_core::output::prepare(&path)?;
    if let Err(e) = write(&temp) {
        let _ = std::fs::remove_file(&temp);
        return Err(e.into());
    }
    reel_core::output::commit(&temp, &reel_core::output::Destination::File(path))?;
    Ok(())
}

/// Saves a checkpoint, unless its weights are not all finite (then the last good one stays):
/// the weights, the optimiser's moments (tagged with the iteration, so that stale ones are
/// never paired with newer weights), then the description.
fn save(dir: &Path, varmap: &VarMap, opt: &Adam, info: &ModelInfo) -> Result<(), SwapError> {
    for var in varmap.all_vars() {
        if !var.sum_all()?.to_scalar::<f32>()?.is_finite() {
            return Err(diverged(info.iterations, dir));
        }
    }
    save_atomic(dir.join(WEIGHTS), |temp| varmap.save(temp))?;
    let mut state = opt.state()?;
    if !state.is_empty() {
        let iteration = Tensor::new(&[info.iterations as f64], &Device::Cpu)?;
        state.insert("iteration".into(), iteration);
        save_atomic(dir.join(OPTIMISER), |temp| {
            candle_core::safetensors::save(&state, temp)
        })?;
    }
    write_atomic(
        &dir.join(INFO),
        &serde_json::to_vec_pretty(info).expect("serialises"),
    )?;
    Ok(())
}

fn to_rgb(t: &Tensor, index: usize, res: usize) -> Result<Vec<u8>, SwapError> {
    let v: Vec<f32> = t.get(index)?.flatten_all()?.to_vec1()?;
    let plane = res * res;
    Ok((0..plane)
        .flat_map(|i| [0, 1, 2].map(|c| (v[c * plane + i] * 255.0).round().clamp(0.0, 255.0) as u8))
        .collect())
}

/// A grid of up to 4 rows: A's face, A drawn back, B's face, B drawn back, B drawn as A.
fn preview(
    model: &SwapModel,
    a: &[Sample],
    b: &[Sample],
    size: usize,
    dev: &Device,
    path: &Path,
) -> Result<(), SwapError> {
    let res = model.config.resolution;
    let rows = a.len().min(b.len()).min(4);
    let mut rng = Rng::new(7);
    let (mut ba, mut bb) = (Batch::default(), Batch::default());
    let in_order: Vec<usize> = (0..rows).collect();
    fill(&a[..rows], &in_order, size, res, false, &mut rng, &mut ba);
    fill(&b[..rows], &in_order, size, res, false, &mut rng, &mut bb);
    let (ta, tb) = (tensors(&ba, rows, res, dev)?, tensors(&bb, rows, res, dev)?);
    let columns = [
        ta.target.clone(),
        model.reconstruct(&ta.target, Person::A)?.0,
        tb.target.clone(),
        model.reconstruct(&tb.target, Person::B)?.0,
        model.swap(&tb.target)?.0,
    ];
    let (w, h) = (res * columns.len(), res * rows);
    let mut img = vec![0u8; w * h * 3];
    for r in 0..rows {
        for (c, t) in columns.iter().enumerate() {
            let tile = to_rgb(t, r, res)?;
            for y in 0..res {
                let dst = ((r * res + y) * w + c * res) * 3;
                img[dst..dst + res * 3].copy_from_slice(&tile[y * res * 3..(y + 1) * res * 3]);
            }
        }
    }
    write_atomic(path, &reel_image::png::encode(w, h, 3, &img))?;
    Ok(())
}

pub struct TrainReport {
    pub iterations: u64,
    pub info: ModelInfo,
    pub checkpoint: PathBuf,
}

/// Trains (or goes on training) the model in `out` to put `src`'s face on `dst`'s.
/// `progress` returns false to stop (the model is saved first).
pub fn train(
    src: &Path,
    dst: &Path,
    out: &Path,
    settings: &TrainSettings,
    mut progress: impl FnMut(&Progress) -> bool,
) -> Result<TrainReport, SwapError> {
    let cfg = settings.config;
    settings.check()?;
    let a = FaceData::load(src, 10)?;
    let b = FaceData::load(dst, 10)?;
    if (a.size, a.margin) != (b.size, b.margin) {
        return Err(SwapError::Settings(format!(
            "the face sets were extracted differently (size {} margin {} against size {} margin {}); extract both alike",
            a.size, a.margin, b.size, b.margin
        )));
    }
    std::fs::create_dir_all(out).map_err(reel_core::io(format!("creating {}", out.display())))?;
    // One run at a time into a model: two would overwrite each other's checkpoints.
    let _lock = reel_core::output::FolderLock::take(out)?;
    let dev = reel_runtime::device::device();
    let (model, mut info, varmap) = if out.join(INFO).exists() {
        let (model, info, varmap) = load(out, &dev)?;
        if info.config != cfg {
            return Err(SwapError::Settings(format!(
                "{} holds a model of another shape ({}; asked for {}); train with the same settings to resume, or choose another -o",
                out.display(),
                info.config,
                cfg
            )));
        }
        // A pretrained model is a start for many pairs: training one pair into it would spend it.
        if info.pretrained != settings.pretrain {
            return Err(SwapError::Settings(match info.pretrained {
                true => format!(
                    "{} is a pretrained model; start a pair from it with --start-from {} and another -o",
                    out.display(),
                    out.display()
                ),
                false => format!(
                    "{} is a pair's model; pretrain into another -o",
                    out.display()
                ),
            }));
        }
        (model, info, varmap)
    } else {
        let (model, varmap, started_from) = match &settings.start_from {
            Some(start) => {
                let (model, start_info, varmap) = load(start, &dev)?;
                if !start_info.pretrained {
                    return Err(SwapError::Settings(format!(
                        "{} is not a pretrained model (train one with reel train --pretrain FACES -o MODEL)",
                        start.display()
                    )));
                }
                if start_info.config != cfg {
                    return Err(SwapError::Settings(format!(
                        "{} is of another shape ({}; asked for {}); train with its settings",
                        start.display(),
                        start_info.config,
                        cfg
                    )));
                }
                if (start_info.face_size, start_info.face_margin) != (a.size, a.margin) {
                    return Err(SwapError::Settings(format!(
                        "{} was pretrained on faces extracted at size {} margin {}, these are size {} margin {}; extract them alike",
                        start.display(),
                        start_info.face_size,
                        start_info.face_margin,
                        a.size,
                        a.margin
                    )));
                }
                (model, varmap, Some(start.clone()))
            }
            None => {
                let varmap = VarMap::new();
                let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
                (SwapModel::new(cfg, vb)?, varmap, None)
            }
        };
        let info = ModelInfo {
            format: FORMAT,
            config: cfg,
            face_size: a.size,
            face_margin: a.margin,
            iterations: 0,
            seconds: 0.0,
            history: Vec::new(),
            source_identity: Vec::new(),
            consent: None,
            pretrained: settings.pretrain,
            started_from,
        };
        (model, info, varmap)
    };
    if !settings.pretrain
        && let Some(identity) = reel_faceset::record::set_identity(src)?
    {
        info.source_identity = identity;
    }
    if settings.consent.is_some() {
        info.consent = settings.consent.clone();
    }
    let mut opt = optimiser(&varmap, settings.learning_rate)?;
    restore_optimiser(out, &info, &mut opt)?;
    let mut gan = (settings.gan_power > 0.0)
        .then(|| Gan::new(settings.gan_power, settings.learning_rate, out, &dev))
        .transpose()?;
    // The discriminator is saved with each checkpoint, through a temporary file.
    let save_all = |opt: &Adam, info: &ModelInfo, gan: &Option<Gan>| -> Result<(), SwapError> {
        save(out, &varmap, opt, info)?;
        if let Some(gan) = gan {
            save_atomic(out.join(crate::gan::WEIGHTS), |temp| gan.save(temp))?;
        }
        Ok(())
    };
    let mut rng = Rng::new(settings.seed ^ info.iterations);
    let (mut batch_a, mut batch_b) = (Batch::default(), Batch::default());
    let res = cfg.resolution;
    let (mut last_save, mut last_preview) = (Instant::now(), Instant::now());
    let started = Instant::now();
    let seconds_before = info.seconds;
    let first = info.iterations;
    // Held-back quality of both people, recorded in the history at the current iteration.
    let evaluate = |info: &mut ModelInfo| -> Result<(f32, f32), SwapError> {
        let qa = quality(&model, &a.held_back, a.size, Person::A, &dev)?;
        let qb = quality(&model, &b.held_back, b.size, Person::B, &dev)?;
        info.history.push((info.iterations, qa, qb));
        Ok((qa, qb))
    };
    let write_preview = || {
        preview(
            &model,
            &a.train,
            &b.train,
            a.size,
            &dev,
            &out.join("preview.png"),
        )
    };
    if info.history.is_empty() {
        evaluate(&mut info)?;
    }
    let picker = |set: &FaceData| match settings.uniform_yaw {
        true => Picker::by_yaw(&set.train),
        false => Picker::uniform(&set.train),
    };
    let (pick_a, pick_b) = (picker(&a), picker(&b));
    loop {
        if settings.iterations.is_some_and(|n| info.iterations >= n) {
            break;
        }
        for (set, picker, batch) in [(&a, &pick_a, &mut batch_a), (&b, &pick_b, &mut batch_b)] {
            let picks = picker.pick(settings.batch, &mut rng);
            fill(&set.train, &picks, set.size, res, true, &mut rng, batch);
        }
        let (ta, tb) = (
            tensors(&batch_a, settings.batch, res, &dev)?,
            tensors(&batch_b, settings.batch, res, &dev)?,
        );
        let (mut l, face_a) = iteration(&model, &ta, &tb)?;
        // A's faces as drawn, masked: what the adversarial term judges, before and after the
        // model's step.
        let drawn = match &gan {
            Some(gan) => {
                let drawn = face_a.broadcast_mul(&ta.mask)?;
                l = (l + gan.model_loss(&drawn)?)?;
                Some(drawn)
            }
            None => None,
        };
        let loss_value = l.to_scalar::<f32>()?;
        if !loss_value.is_finite() {
            return Err(diverged(info.iterations, out));
        }
        opt.backward_step(&l)?;
        if let (Some(gan), Some(drawn)) = (&mut gan, &drawn) {
            let real = ta.target.broadcast_mul(&ta.mask)?;
            gan.step(&real, drawn)?;
        }
        info.iterations += 1;
        info.seconds = seconds_before + started.elapsed().as_secs_f64();
        let q = if info.iterations.is_multiple_of(settings.evaluate_every) {
            Some(evaluate(&mut info)?)
        } else {
            None
        };
        let done = info.iterations - first;
        let keep_going = progress(&Progress {
            iteration: info.iterations,
            loss: loss_value,
            iterations_per_second: done as f32 / started.elapsed().as_secs_f32().max(1e-3),
            quality: q,
        });
        if last_preview.elapsed() >= settings.preview_every {
            write_preview()?;
            last_preview = Instant::now();
        }
        if last_save.elapsed() >= settings.save_every {
            save_all(&opt, &info, &gan)?;
            last_save = Instant::now();
        }
        if !keep_going {
            break;
        }
    }
    if info.history.last().is_none_or(|h| h.0 != info.iterations) {
        evaluate(&mut info)?;
    }
    save_all(&opt, &info, &gan)?;
    write_preview()?;
    Ok(TrainReport {
        iterations: info.iterations - first,
        info,
        checkpoint: out.join(WEIGHTS),
    })
}
