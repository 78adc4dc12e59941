//! The Wan transformer against diffusers' `WanTransformer3DModel` on small random models (made by
//! tools/reference/wan_fixtures.py): the same weights and inputs give the same outputs.

mod common;

use candle_core::{DType, Device};
use common::{difference, fixture, tensors};
use reel_diffusion::DiffusionError;
use reel_diffusion::models::wan_transformer::WanTransformer;

#[test]
fn text_to_video_matches_diffusers() {
    let model =
        WanTransformer::load(&fixture("wan-t2v/transformer"), &Device::Cpu, DType::F32).unwrap();
    let io = tensors("wan-t2v/transformer_io.safetensors");
    let out = model
        .forward(&io["latents"], &io["timestep"], &io["text"], None)
        .unwrap();
    let (max, relative) = difference(&out, &io["output"]);
    eprintln!("t2v: max difference {max:e} ({relative:e} of the output's range)");
    assert!(
        relative < 1e-5,
        "max difference {max} ({relative} of the output's range)"
    );
    // The per-token case differs from it by far more: the comparison can tell.
    assert!(difference(&out, &io["per_token_output"]).1 > 1e-2);

    // Wan2.2's per-token timesteps: the conditioning frame's tokens at t = 0.
    let out = model
        .forward(&io["latents"], &io["per_token_timestep"], &io["text"], None)
        .unwrap();
    let (max, relative) = difference(&out, &io["per_token_output"]);
    assert!(
        relative < 1e-5,
        "per-token: max difference {max} ({relative})"
    );
}

#[test]
fn image_to_video_matches_diffusers() {
    let model =
        WanTransformer::load(&fixture("wan-i2v/transformer"), &Device::Cpu, DType::F32).unwrap();
    let io = tensors("wan-i2v/transformer_io.safetensors");
    let out = model
        .forward(
            &io["latents"],
            &io["timestep"],
            &io["text"],
            Some(&io["image"]),
        )
        .unwrap();
    let (max, relative) = difference(&out, &io["output"]);
    assert!(
        relative < 1e-5,
        "max difference {max} ({relative} of the output's range)"
    );
}

#[test]
fn wrong_inputs_are_refused_by_name() {
    let model =
        WanTransformer::load(&fixture("wan-t2v/transformer"), &Device::Cpu, DType::F32).unwrap();
    let io = tensors("wan-t2v/transformer_io.safetensors");
    // A latent that does not divide into 2x2 patches.
    let odd = io["latents"].narrow(4, 0, 11).unwrap();
    let err = model
        .forward(&odd, &io["timestep"], &io["text"], None)
        .unwrap_err();
    assert!(matches!(err, DiffusionError::Usage(_)), "{err}");
    // An image given to a text-to-video model.
    let err = model
        .forward(
            &io["latents"],
            &io["timestep"],
            &io["text"],
            Some(&io["text"]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("takes no image"), "{err}");
    // The image model's folder read as another family's config.
    let err = match WanTransformer::load(&fixture("wan-t2v"), &Device::Cpu, DType::F32) {
        Err(e) => e,
        Ok(_) => panic!("a folder without a config loaded"),
    };
    assert!(matches!(err, DiffusionError::Model { .. }), "{err}");
}

#[test]
fn a_missing_shard_is_named() {
    // The fixture's transformer laid out as a sharded folder whose index lists a shard that is
    // not there.
    let dir = std::env::temp_dir().join(format!("reel-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = fixture("wan-t2v/transformer");
    std::fs::copy(source.join("config.json"), dir.join("config.json")).unwrap();
    std::fs::copy(
        source.join("diffusion_pytorch_model.safetensors"),
        dir.join("diffusion_pytorch_model-00001-of-00002.safetensors"),
    )
    .unwrap();
    let index = serde_json::json!({ "weight_map": {
        "proj_out.weight": "diffusion_pytorch_model-00001-of-00002.safetensors",
        "blocks.1.ffn.net.2.weight": "diffusion_pytorch_model-00002-of-00002.safetensors",
    }});
    std::fs::write(
        dir.join("diffusion_pytorch_model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    let err = match WanTransformer::load(&dir, &Device::Cpu, DType::F32) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded with a shard missing"),
    };
    assert!(
        err.contains("00002-of-00002") && err.contains("missing"),
        "{err}"
    );
    // With both shards there (the second a copy of the first), it loads.
    std::fs::copy(
        source.join("diffusion_pytorch_model.safetensors"),
        dir.join("diffusion_pytorch_model-00002-of-00002.safetensors"),
    )
    .unwrap();
    assert!(WanTransformer::load(&dir, &Device::Cpu, DType::F32).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
