//! The whole denoising loop (guidance, both samplers) against diffusers' `WanPipeline` run to
//! latents from the same initial latents and text states.

mod common;

use candle_core::{DType, Device};
use common::{difference, fixture, tensors};
use reel_diffusion::models::wan_transformer::WanTransformer;
use reel_diffusion::pipelines::denoise::{Conditioning, denoise};
use reel_diffusion::schedulers::{SchedulerConfig, SchedulerKind};

fn check(kind: SchedulerKind, name: &str) {
    let transformer =
        WanTransformer::load(&fixture("wan-t2v/transformer"), &Device::Cpu, DType::F32).unwrap();
    let io = tensors("wan-t2v/denoise.safetensors");
    // Both schedules from the UniPC folder, Euler with the shift given on the command line.
    let config = SchedulerConfig::read(&fixture("schedulers/unipc")).unwrap();
    let mut scheduler = config.build(Some(kind), 6, Some(3.0)).unwrap();
    let conditioning = Conditioning {
        prompt: &io["prompt"],
        negative: Some(&io["negative"]),
        guidance: 5.0,
        image: None,
        condition: None,
        first_frame: None,
        per_token_timesteps: false,
        hold: None,
    };
    let mut steps = 0;
    let out = denoise(
        &transformer,
        scheduler.as_mut(),
        io["latents"].clone(),
        &conditioning,
        0..6,
        |_| {
            steps += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(steps, 6);
    let (max, relative) = difference(&out, &io[&format!("{name}.denoised")]);
    eprintln!("{name}: max difference {max:e} ({relative:e} of the range)");
    assert!(relative < 1e-4, "{name}: {max} ({relative})");
}

#[test]
fn guided_unipc_loop_matches_diffusers() {
    check(SchedulerKind::UniPc, "unipc");
}

#[test]
fn guided_euler_loop_matches_diffusers() {
    check(SchedulerKind::Euler, "euler");
}
