//! `reel bench train`: swap-model training speed, and the trained model's swap speed.

use std::time::Instant;

use clap::Args;

use crate::common::{edit_timed, load};
use crate::{Result, sample};

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
    /// Timed training iterations (after one untimed).
    #[arg(long, default_value_t = 3)]
    pub iterations: u64,
}

/// `reel bench train`: swap-model training speed on this machine, and the trained model's swap
/// speed on 720p video end to end, beside the same pipeline with no processor.
pub fn train(args: &BenchTrainArgs) -> Result<()> {
    use reel_faceset::extract::{ExtractSettings, extract};
    use reel_process::Chain;
    use reel_swap::train::{TrainSettings, train};
    let dir = std::env::temp_dir().join(format!("reel-bench-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| -> Result<()> {
        let every = ExtractSettings {
            min_change: 0.0,
            every: 2,
            ..ExtractSettings::default()
        };
        let (a, b) = (dir.join("a"), dir.join("b"));
        extract(&[sample("speaker.mp4")], &a, &every, |_, _, _| true)?;
        extract(&[sample("talking_head.mp4")], &b, &every, |_, _, _| true)?;
        let model = dir.join("model");
        let mut settings = TrainSettings {
            batch: args.batch,
            iterations: Some(1),
            evaluate_every: u64::MAX,
            ..TrainSettings::default()
        };
        settings.config.resolution = args.resolution;
        settings.config.architecture = if args.architecture == "liae" {
            reel_swap::model::Architecture::Liae
        } else {
            reel_swap::model::Architecture::Df
        };
        train(&a, &b, &model, &settings, |_| true)?;
        settings.iterations = Some(1 + args.iterations.max(1));
        let t = Instant::now();
        train(&a, &b, &model, &settings, |_| true)?;
        let secs = t.elapsed().as_secs_f64();
        let its = args.iterations.max(1) as f64 / secs;
        println!(
            "reel bench train: {}, {} px, batch {} per person, {} ({})",
            args.architecture.to_uppercase(),
            args.resolution,
            args.batch,
            if cfg!(feature = "cuda") {
                "CUDA build"
            } else {
                "CPU"
            },
            if reel_runtime::device::device().is_cpu() {
                "running on the CPU"
            } else {
                "running on the GPU"
            }
        );
        println!(
            "  training: {its:.3} iterations/s, {:.1} faces/s (both people), {:.2} s per iteration",
            its * 2.0 * args.batch as f64,
            1.0 / its
        );
        let (_, hd) = load(&sample("talking_head.mp4"), 1, Some((1280, 720)), &dir)?;
        let mut fps = Vec::new();
        for with_model in [false, true] {
            let mut chain = Chain::new();
            if with_model {
                chain = chain.then(reel_swap::model_swap::ModelSwap::load(&model)?);
            }
            let (frames, seconds) = edit_timed(&hd, &dir.join("out.mp4"), &mut chain)?;
            fps.push(frames as f64 / seconds);
        }
        // The network alone, one face at a time as the swap runs it.
        let dev = reel_runtime::device::device();
        let (net, _, _weights) = reel_swap::train::load(&model, &dev)?;
        let r = args.resolution;
        let face = candle_core::Tensor::full(0.5f32, (1, 3, r, r), &dev)?;
        net.swap(&face)?;
        let runs = 10;
        let t = Instant::now();
        for _ in 0..runs {
            net.swap(&face)?.0.flatten_all()?.to_vec1::<f32>()?;
        }
        let network_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
        println!(
            "  swap with the model, 720p end to end: {:.1} fps (decode + analysis + encode alone {:.1} fps); the swap adds {:.1} ms a frame, of which the network takes {network_ms:.1} ms and alignment, colour matching and blending the rest",
            fps[1],
            fps[0],
            1000.0 / fps[1] - 1000.0 / fps[0]
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
