//! `reel bench train`: swap-model training speed, and the trained model's swap speed.

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use clap::Args;
use reel_process::Chain;
use reel_swap::SwapModel;
use reel_swap::model::{Architecture, ModelConfig};
use serde_json::Value;

use crate::common::{edit_timed, load, median};
use crate::{BenchError, Result, reference_script, run_reference, sample};

#[derive(Args)]
pub struct BenchTrainArgs {
    /// Face resolution of the model.
    #[arg(long, default_value_t = 128)]
    pub resolution: usize,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Network design: df or liae.
    #[arg(long, default_value = "df", value_parser = ["df", "liae"])]
    pub architecture: String,
    /// Encoder width (DeepFaceLab's SAEHD default is 64).
    #[arg(long, default_value_t = ModelConfig::default().encoder_dims)]
    pub encoder_dims: usize,
    /// Bottleneck size (SAEHD: 256).
    #[arg(long, default_value_t = ModelConfig::default().latent_dims)]
    pub latent_dims: usize,
    /// Decoder width (SAEHD: 64).
    #[arg(long, default_value_t = ModelConfig::default().decoder_dims)]
    pub decoder_dims: usize,
    /// Timed training iterations (after one untimed).
    #[arg(long, default_value_t = 3)]
    pub iterations: u64,
    /// A Python with torch installed, to train the same network beside reel.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// A folder with reel's reference scripts to run instead of the built-in ones.
    #[arg(long)]
    pub reference: Option<std::path::PathBuf>,
    /// Skip the PyTorch run.
    #[arg(long)]
    pub no_reference: bool,
}

/// `reel bench train`: one training iteration of the swap network (forward, backward, Adam) on
/// a batch of real faces, beside PyTorch training the very same network from the same weights on
/// the same batch in the same run; then reel's whole training loop (augmentation included) and
/// the trained model's swap speed on 720p video end to end.
pub fn train(args: &BenchTrainArgs) -> Result<()> {
    if args.no_reference && args.reference.is_some() {
        return Err(BenchError::usage(
            "--reference and --no-reference exclude each other",
        ));
    }
    if args.reference.is_some() {
        reference_script(args.reference.as_deref(), "bench_swap_train.py")?;
    }
    let dir = std::env::temp_dir().join(format!("reel-bench-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(args: &BenchTrainArgs, dir: &Path) -> Result<()> {
    use reel_faceset::extract::{ExtractSettings, extract};
    use reel_swap::data::{Batch, FaceData, Picker, Rng, fill};
    use reel_swap::train::{TrainSettings, iteration_loss, optimiser, tensors};
    let every = ExtractSettings {
        min_change: 0.0,
        every: 2,
        ..ExtractSettings::default()
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    extract(&[sample("speaker.mp4")], &a, &every, |_, _, _| true)?;
    extract(&[sample("talking_head.mp4")], &b, &every, |_, _, _| true)?;
    let mut settings = TrainSettings {
        batch: args.batch,
        evaluate_every: u64::MAX,
        ..TrainSettings::default()
    };
    settings.config = ModelConfig {
        architecture: if args.architecture == "liae" {
            Architecture::Liae
        } else {
            Architecture::Df
        },
        resolution: args.resolution,
        encoder_dims: args.encoder_dims,
        latent_dims: args.latent_dims,
        decoder_dims: args.decoder_dims,
    };
    let cfg = settings.config;
    let dev = reel_runtime::device::device();
    println!(
        "reel bench train: {cfg}, batch {} per person, {} ({})",
        args.batch,
        if cfg!(feature = "cuda") {
            "CUDA build"
        } else {
            "CPU"
        },
        if dev.is_cpu() {
            "running on the CPU"
        } else {
            "running on the GPU"
        }
    );

    // One fixed batch of real faces, warped as training warps them, for both trainers.
    let (sets, mut rng) = (
        [FaceData::load(&a, 0)?, FaceData::load(&b, 0)?],
        Rng::new(1),
    );
    let mut batches = [Batch::default(), Batch::default()];
    for (set, batch) in sets.iter().zip(&mut batches) {
        let r = args.resolution;
        let picks = Picker::uniform(&set.train).pick(args.batch, &mut rng);
        fill(&set.train, &picks, set.size, r, true, &mut rng, batch);
    }
    let people = [
        tensors(&batches[0], args.batch, args.resolution, &dev)?,
        tensors(&batches[1], args.batch, args.resolution, &dev)?,
    ];
    let varmap = VarMap::new();
    let net = SwapModel::new(cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev))?;
    let shared = dir.join("reference");
    std::fs::create_dir_all(&shared)?;
    varmap.save(shared.join("weights.safetensors"))?;
    let mut saved = std::collections::HashMap::new();
    for (p, t) in ["a", "b"].iter().zip(&people) {
        for (name, tensor) in [
            ("input", &t.input),
            ("target", &t.target),
            ("mask", &t.mask),
            ("priority", &t.priority),
        ] {
            saved.insert(format!("{p}_{name}"), tensor.clone());
        }
    }
    candle_core::safetensors::save(&saved, shared.join("batch.safetensors"))?;
    let mut config = serde_json::to_value(cfg)?;
    config["learning_rate"] = settings.learning_rate.into();
    std::fs::write(shared.join("config.json"), config.to_string())?;

    // reel: the iteration as `reel train` runs it, on the fixed batch.
    let mut opt = optimiser(&varmap, settings.learning_rate)?;
    let (mut losses, mut steps) = (Vec::new(), Vec::new());
    for i in 0..=args.iterations.max(1) {
        let t = Instant::now();
        let l = iteration_loss(&net, &people[0], &people[1])?;
        losses.push(l.to_scalar::<f32>()? as f64);
        opt.backward_step(&l)?;
        if i > 0 {
            steps.push(t.elapsed().as_secs_f64());
        }
    }
    let face = Tensor::full(0.5f32, (1, 3, cfg.resolution, cfg.resolution), &dev)?;
    net.swap(&face)?;
    let mut forward = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        net.swap(&face)?.0.flatten_all()?.to_vec1::<f32>()?;
        forward.push(t.elapsed().as_secs_f64());
    }
    drop((net, opt, varmap));

    let theirs = if args.no_reference {
        None
    } else {
        reference(args, &shared)
    };
    let seconds = |r: &Value, key: &str| -> Option<Vec<f64>> {
        Some(
            r[key]
                .as_array()?
                .iter()
                .filter_map(Value::as_f64)
                .collect(),
        )
    };
    println!(
        "  {:<34} {:>10} {:>10} {:>8}",
        "", "reel", "PyTorch", "ratio"
    );
    let row = |name: &str, ours: f64, theirs: Option<f64>, unit: &str, scale: f64| match theirs {
        Some(t) => println!(
            "  {name:<34} {:>9.2}{unit} {:>9.2}{unit} {:>8.2}",
            ours * scale,
            t * scale,
            ours / t
        ),
        None => println!(
            "  {name:<34} {:>9.2}{unit} {:>10} {:>8}",
            ours * scale,
            "-",
            "-"
        ),
    };
    let their = |key: &str| theirs.as_ref().and_then(|r| seconds(r, key));
    row(
        "training iteration (median)",
        median(steps.clone()),
        their("steps_s").map(median),
        "s",
        1.0,
    );
    row(
        "network, one face (median)",
        median(forward.clone()),
        their("swap_s").map(median),
        "ms",
        1000.0,
    );
    let their_losses = their("losses");
    match (&theirs, &their_losses) {
        (Some(r), Some(l)) if l.len() == losses.len() => {
            let gap = losses
                .iter()
                .zip(l)
                .map(|(a, b)| ((a - b) / b).abs())
                .fold(0.0, f64::max);
            println!(
                "  loss, first and last iteration: reel {:.5} {:.5}, PyTorch {:.5} {:.5} (largest relative gap {gap:.1e})",
                losses[0],
                losses[losses.len() - 1],
                l[0],
                l[l.len() - 1]
            );
            println!(
                "  (PyTorch {} with {} threads, the same weights, batch, losses and Adam; the ratio is reel's time over PyTorch's)",
                r["torch"].as_str().unwrap_or("?"),
                r["threads"]
            );
        }
        _ if !args.no_reference => println!(
            "  (no PyTorch reference: give --python a Python with torch and safetensors installed)"
        ),
        _ => {}
    }
    println!(
        "  {:.2} s per iteration; the network takes {:.1} ms a face",
        median(steps),
        median(forward) * 1000.0
    );

    // reel's whole loop: augmenting fresh batches, stepping, checkpointing.
    let model = dir.join("model");
    settings.iterations = Some(2 + args.iterations.max(1));
    let mut marks = Vec::new();
    reel_swap::train::train(&a, &b, &model, &settings, |_| {
        marks.push(Instant::now());
        true
    })?;
    // Between the first iteration's end and the last's: augmenting, stepping, reporting.
    let per = (marks[marks.len() - 1] - marks[0]).as_secs_f64() / (marks.len() - 1) as f64;
    println!(
        "  reel train's loop (a freshly augmented batch each iteration): {per:.2} s per iteration, {:.1} faces/s (both people)",
        2.0 * args.batch as f64 / per
    );

    let (_, hd) = load(&sample("talking_head.mp4"), 1, Some((1280, 720)), dir)?;
    let mut fps = Vec::new();
    for with_model in [false, true] {
        let mut chain = Chain::new();
        if with_model {
            chain = chain.then(reel_swap::model_swap::ModelSwap::load(&model)?);
        }
        let (frames, seconds) = edit_timed(&hd, &dir.join("out.mp4"), &mut chain, true)?;
        fps.push(frames as f64 / seconds);
    }
    println!(
        "  swap with the model, 720p end to end: {:.1} fps (decode + analysis + encode alone {:.1} fps); the swap adds {:.1} ms a frame",
        fps[1],
        fps[0],
        1000.0 / fps[1] - 1000.0 / fps[0]
    );
    Ok(())
}

fn reference(args: &BenchTrainArgs, dir: &Path) -> Option<Value> {
    let iterations = [
        dir.as_os_str().to_owned(),
        args.iterations.max(1).to_string().into(),
    ];
    let reference = args.reference.as_deref();
    run_reference(&args.python, reference, "bench_swap_train.py", iterations)
}
