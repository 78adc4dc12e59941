//! `reel bench gen`: the Wan transformer's denoising loop (guidance on, UniPC) at the 1.3B
//! model's width and heads, with a few layers of random weights, beside diffusers' WanPipeline
//! on the very same weights and inputs, in the same run.

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Tensor};
use clap::Args;
use reel_diffusion::models::wan_transformer::{WanTransformer, WanTransformerConfig};
use reel_diffusion::pipelines::denoise::{Conditioning, denoise};
use reel_diffusion::schedulers::SchedulerConfig;
use reel_diffusion::weights::Weights;
use serde_json::{Value, json};

use crate::common::median;
use crate::{BenchError, Result, reference_script, run_reference};

#[derive(Args)]
pub struct BenchGenArgs {
    /// Transformer blocks (the 1.3B model has 30).
    #[arg(long, default_value_t = 2)]
    pub layers: usize,
    /// Video size WIDTHxHEIGHT (multiples of 16).
    #[arg(long, default_value = "256x256")]
    pub size: String,
    /// Frames (4k+1).
    #[arg(long, default_value_t = 17)]
    pub frames: usize,
    /// Denoising steps timed.
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Width of the model (1536 for the 1.3B model, 5120 for 14B).
    #[arg(long, default_value_t = 1536)]
    pub dim: usize,
    #[arg(long, default_value_t = 12)]
    pub heads: usize,
    #[arg(long, default_value_t = 8960)]
    pub ffn_dim: usize,
    /// A Python with torch and diffusers installed, to time diffusers beside reel.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// A folder with reel's reference scripts to run instead of the built-in ones.
    #[arg(long)]
    pub reference: Option<std::path::PathBuf>,
    /// Skip the diffusers run.
    #[arg(long)]
    pub no_reference: bool,
}

const GUIDANCE: f64 = 5.0;
const TEXT_TOKENS: usize = 512;
const TEXT_DIM: usize = 4096;

pub fn generation(args: &BenchGenArgs) -> Result<()> {
    if args.reference.is_some() {
        reference_script(args.reference.as_deref(), "bench_wan.py")?;
    }
    let (width, height) = parse_size(&args.size)?;
    if args.frames % 4 != 1
        || args.heads == 0
        || !args.dim.is_multiple_of(args.heads)
        || args.steps == 0
    {
        return Err(BenchError::usage(
            "--frames must be 4k+1, --dim a multiple of --heads, --steps above 0",
        ));
    }
    let dir = std::env::temp_dir().join(format!("reel-bench-gen-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("transformer"))?;
    std::fs::create_dir_all(dir.join("scheduler"))?;
    let result = run(args, width, height, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(args: &BenchGenArgs, width: usize, height: usize, dir: &Path) -> Result<()> {
    let device = reel_runtime::device::device();
    let config_json = json!({
        "_class_name": "WanTransformer3DModel",
        "patch_size": [1, 2, 2],
        "num_attention_heads": args.heads,
        "attention_head_dim": args.dim / args.heads,
        "in_channels": 16,
        "out_channels": 16,
        "text_dim": TEXT_DIM,
        "freq_dim": 256,
        "ffn_dim": args.ffn_dim,
        "num_layers": args.layers,
        "cross_attn_norm": true,
        "qk_norm": "rms_norm_across_heads",
        "eps": 1e-6,
        "rope_max_seq_len": 1024,
    });
    let config: WanTransformerConfig = serde_json::from_value(config_json.clone())?;
    let weights = Weights::random(&device, DType::F32);
    let transformer = WanTransformer::from_weights(config, &weights)?;
    std::fs::write(dir.join("transformer/config.json"), config_json.to_string())?;
    weights.save(&dir.join("transformer/diffusion_pytorch_model.safetensors"))?;
    std::fs::write(
        dir.join("scheduler/scheduler_config.json"),
        json!({
            "_class_name": "UniPCMultistepScheduler",
            "num_train_timesteps": 1000,
            "solver_order": 2,
            "prediction_type": "flow_prediction",
            "use_flow_sigmas": true,
            "flow_shift": 3.0,
        })
        .to_string(),
    )?;
    let latent_frames = (args.frames - 1) / 4 + 1;
    let latents = Tensor::randn(
        0f32,
        1f32,
        (1, 16, latent_frames, height / 8, width / 8),
        &device,
    )?;
    let prompt = Tensor::randn(0f32, 1f32, (1, TEXT_TOKENS, TEXT_DIM), &device)?;
    let negative = Tensor::randn(0f32, 1f32, (1, TEXT_TOKENS, TEXT_DIM), &device)?;
    let inputs = [
        ("latents", &latents),
        ("prompt", &prompt),
        ("negative", &negative),
    ];
    candle_core::safetensors::save(
        &inputs
            .iter()
            .map(|(n, t)| (n.to_string(), (*t).clone()))
            .collect(),
        dir.join("inputs.safetensors"),
    )?;
    let tokens = latent_frames * (height / 16) * (width / 16);
    println!(
        "reel bench gen: Wan transformer, width {} ({} heads, ffn {}), {} layers of random weights, \
         {width}x{height}x{} ({tokens} tokens, text {TEXT_TOKENS}), guidance {GUIDANCE}, UniPC, {} steps, f32 on {}",
        args.dim,
        args.heads,
        args.ffn_dim,
        args.layers,
        args.frames,
        args.steps,
        if device.is_cuda() { "CUDA" } else { "the CPU" },
    );

    // reel: the load from the folder just written, then the loop.
    let started = Instant::now();
    let transformer_loaded = WanTransformer::load(&dir.join("transformer"), &device, DType::F32)?;
    drop(transformer);
    let loaded = started.elapsed().as_secs_f64();
    let mut scheduler =
        SchedulerConfig::read(&dir.join("scheduler"))?.build(None, args.steps, None)?;
    let mut steps = Vec::new();
    let conditioning = Conditioning {
        prompt: &prompt,
        negative: Some(&negative),
        guidance: GUIDANCE,
        image: None,
        condition: None,
        first_frame: None,
        per_token_timesteps: false,
        hold: None,
    };
    denoise(
        &transformer_loaded,
        scheduler.as_mut(),
        latents,
        &conditioning,
        0..args.steps,
        |report| {
            steps.push(report.took.as_secs_f64());
            Ok(())
        },
    )?;
    let total = started.elapsed().as_secs_f64();
    drop(transformer_loaded);

    let reference = if args.no_reference {
        None
    } else {
        reference(args, dir)
    };
    println!(
        "  {:<28} {:>10} {:>10} {:>8}",
        "", "reel", "diffusers", "ratio"
    );
    let row = |name: &str, ours: f64, theirs: Option<f64>| match theirs {
        Some(t) => println!("  {name:<28} {ours:>9.2}s {t:>9.2}s {:>8.2}", ours / t),
        None => println!("  {name:<28} {ours:>9.2}s {:>10} {:>8}", "-", "-"),
    };
    let their_steps = reference.as_ref().and_then(|r| {
        r["steps_s"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect::<Vec<_>>())
    });
    row(
        "load",
        loaded,
        reference.as_ref().and_then(|r| r["load_s"].as_f64()),
    );
    row(
        "step (median)",
        median(steps.clone()),
        their_steps.map(median),
    );
    row(
        "whole job",
        total,
        reference.as_ref().and_then(|r| r["total_s"].as_f64()),
    );
    match &reference {
        Some(r) => println!(
            "  (diffusers on torch {} with {} threads; reel's ratio is its time over diffusers')",
            r["torch"].as_str().unwrap_or("?"),
            r["threads"]
        ),
        None if !args.no_reference => {
            println!(
                "  (no diffusers reference: give --python a Python with torch and diffusers installed)"
            )
        }
        None => {}
    }
    Ok(())
}

fn reference(args: &BenchGenArgs, dir: &Path) -> Option<Value> {
    let steps = [
        dir.as_os_str().to_owned(),
        args.steps.to_string().into(),
        GUIDANCE.to_string().into(),
    ];
    run_reference(
        &args.python,
        args.reference.as_deref(),
        "bench_wan.py",
        steps,
    )
}

fn parse_size(size: &str) -> Result<(usize, usize)> {
    let parsed = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<usize>().ok()?, h.parse::<usize>().ok()?)));
    match parsed {
        Some((w, h)) if w > 0 && h > 0 && w.is_multiple_of(16) && h.is_multiple_of(16) => {
            Ok((w, h))
        }
        _ => Err(BenchError::usage(format!(
            "--size {size}: WIDTHxHEIGHT, multiples of 16"
        ))),
    }
}
