//! The samplers against diffusers' `UniPCMultistepScheduler` and `FlowMatchEulerDiscreteScheduler`
//! (fixtures by tools/reference/wan_fixtures.py): the same timesteps, and the same sample after
//! every step given the same model outputs.

mod common;

use common::{difference, fixture, tensors};
use reel_diffusion::schedulers::SchedulerConfig;

fn check(name: &str) {
    let config = SchedulerConfig::read(&fixture(&format!("schedulers/{name}"))).unwrap();
    let io = tensors(&format!("schedulers/{name}/steps.safetensors"));
    let reference_t: Vec<f32> = io["timesteps"].to_vec1().unwrap();
    let reference_s: Vec<f32> = io["sigmas"].to_vec1().unwrap();
    let mut scheduler = config.build(None, reference_t.len(), None).unwrap();
    assert_eq!(scheduler.timesteps(), &reference_t[..], "{name}: timesteps");
    for (ours, theirs) in scheduler.sigmas().iter().zip(&reference_s) {
        assert!(
            (ours - theirs).abs() <= 1e-7,
            "{name}: sigmas {:?} against {reference_s:?}",
            scheduler.sigmas()
        );
    }
    let mut sample = io["initial"].clone();
    let mut worst = 0f32;
    for i in 0..reference_t.len() {
        sample = scheduler
            .step(&io[&format!("output.{i}")], &sample)
            .unwrap();
        let (_, relative) = difference(&sample, &io[&format!("sample.{i}")]);
        worst = worst.max(relative);
    }
    eprintln!(
        "{name}: worst relative difference over {} steps {worst:e}",
        reference_t.len()
    );
    assert!(worst < 1e-5, "{name}: {worst}");
}

#[test]
fn unipc_matches_diffusers() {
    check("unipc");
}

#[test]
fn unipc_order_three_bh1_matches_diffusers() {
    check("unipc-order3-bh1");
}

#[test]
fn flow_euler_matches_diffusers() {
    check("euler");
}
