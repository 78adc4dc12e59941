//! A whole text-to-video run (prompt to frames) against diffusers' `WanPipeline` from the same
//! initial latents, with both samplers, on the small random model folder saved by
//! tools/reference/wan_fixtures.py. The bar: every frame within PSNR 35 dB of diffusers'.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{fixture, tensors};
use reel_diffusion::DiffusionError;
use reel_diffusion::pipelines::text_to_video::{Noise, Request, Stage, TextToVideo};
use reel_diffusion::schedulers::SchedulerKind;

fn request(kind: SchedulerKind) -> Request {
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("wan-t2v/pipeline_io.json")).unwrap(),
    )
    .unwrap();
    Request {
        prompt: run["prompt"].as_str().unwrap().into(),
        negative: run["negative_prompt"].as_str().unwrap().into(),
        width: run["width"].as_u64().unwrap() as usize,
        height: run["height"].as_u64().unwrap() as usize,
        frames: run["num_frames"].as_u64().unwrap() as usize,
        steps: run["num_inference_steps"].as_u64().unwrap() as usize,
        guidance: run["guidance_scale"].as_f64().unwrap(),
        shift: Some(3.0),
        scheduler: Some(kind),
        noise: Noise::File(fixture("wan-t2v/pipeline_io.safetensors")),
    }
}

/// Runs the pipeline; the frames as (frames, height, width, 3) in [0, 1], as diffusers' "np".
fn generate(request: &Request) -> (Tensor, usize) {
    let pipeline = TextToVideo::open(&fixture("wan-t2v"), &Device::Cpu, DType::F32).unwrap();
    let mut chunks = Vec::new();
    let mut steps = 0;
    pipeline
        .generate(
            request,
            |stage| {
                if let Stage::Step(_) = stage {
                    steps += 1;
                }
                Ok(())
            },
            |frames| {
                chunks.push(frames.clone());
                Ok(())
            },
        )
        .unwrap();
    let video = Tensor::cat(&chunks, 0).unwrap();
    let video = ((video / 2.0).unwrap() + 0.5)
        .unwrap()
        .clamp(0f32, 1f32)
        .unwrap();
    (
        video.permute((0, 2, 3, 1)).unwrap().contiguous().unwrap(),
        steps,
    )
}

fn psnr(a: &Tensor, b: &Tensor) -> f64 {
    let mse = (a - b)
        .unwrap()
        .sqr()
        .unwrap()
        .mean_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64;
    10.0 * (1.0 / mse.max(1e-20)).log10()
}

fn check(kind: SchedulerKind, name: &str) {
    let request = request(kind);
    let (video, steps) = generate(&request);
    let reference = tensors("wan-t2v/pipeline_io.safetensors")[&format!("{name}.frames")]
        .squeeze(0)
        .unwrap();
    assert_eq!(
        video.dims(),
        reference.dims(),
        "frames, height, width, channels"
    );
    assert_eq!(video.dim(0).unwrap(), request.frames);
    assert_eq!(steps, request.steps);
    let worst = (0..request.frames)
        .map(|f| psnr(&video.get(f).unwrap(), &reference.get(f).unwrap()))
        .fold(f64::INFINITY, f64::min);
    eprintln!("{name}: worst frame PSNR {worst:.1} dB against diffusers");
    assert!(worst >= 35.0, "{name}: worst frame {worst:.1} dB");
}

#[test]
fn text_to_video_with_unipc_matches_diffusers() {
    check(SchedulerKind::UniPc, "unipc");
}

#[test]
fn text_to_video_with_euler_matches_diffusers() {
    check(SchedulerKind::Euler, "euler");
}

#[test]
fn bad_requests_are_refused_before_any_model_loads() {
    let pipeline = TextToVideo::open(&fixture("wan-t2v"), &Device::Cpu, DType::F32).unwrap();
    let base = request(SchedulerKind::UniPc);
    let refused = |r: Request| pipeline.check(&r).unwrap_err().to_string();
    assert!(
        refused(Request {
            width: 50,
            ..base.clone()
        })
        .contains("multiples of 16")
    );
    assert!(
        refused(Request {
            frames: 8,
            ..base.clone()
        })
        .contains("4k+1")
    );
    assert!(
        refused(Request {
            prompt: "  \n ".into(),
            ..base.clone()
        })
        .contains("empty")
    );
    // A noise file of the wrong shape.
    let wrong = Request {
        frames: 5,
        ..base.clone()
    };
    let err = pipeline
        .generate(&wrong, |_| Ok(()), |_| Ok(()))
        .unwrap_err();
    assert!(err.to_string().contains("latents of shape"), "{err}");
    // Folders that are not a Wan text-to-video model.
    for folder in ["wan-t2v/transformer", "schedulers"] {
        let err = match TextToVideo::open(&fixture(folder), &Device::Cpu, DType::F32) {
            Err(e) => e,
            Ok(_) => panic!("{folder} opened as a model"),
        };
        assert!(matches!(err, DiffusionError::Model { .. }), "{err}");
    }
}
