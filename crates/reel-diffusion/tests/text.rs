//! Prompts to text states against diffusers' `WanPipeline._get_t5_prompt_embeds` (cleaning,
//! the tokenizer, umT5, truncation and zero padding) on a trained tokenizer and a small random
//! umT5 (fixtures by tools/reference/wan_fixtures.py).

mod common;

use candle_core::{DType, Device};
use common::{difference, fixture, tensors};
use reel_diffusion::DiffusionError;
use reel_diffusion::models::umt5::Umt5Encoder;
use reel_diffusion::pipelines::prompt::PromptEncoder;

#[test]
fn prompt_states_match_diffusers() {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("wan-t2v/prompts.json")).unwrap())
            .unwrap();
    let length = meta["text_length"].as_u64().unwrap() as usize;
    let encoder = PromptEncoder::load(
        &fixture("wan-t2v/tokenizer"),
        &fixture("wan-t2v/text_encoder"),
        &Device::Cpu,
        DType::F32,
        length,
    )
    .unwrap();
    let io = tensors("wan-t2v/prompts.safetensors");
    for (i, prompt) in meta["prompts"].as_array().unwrap().iter().enumerate() {
        let prompt = prompt.as_str().unwrap();
        let ids: Vec<i64> = io[&format!("ids.{i}")].to_vec1().unwrap();
        let ours: Vec<i64> = encoder
            .tokens(prompt)
            .unwrap()
            .iter()
            .map(|&t| t as i64)
            .collect();
        assert_eq!(ours, ids, "tokens of {prompt:?}");
        let states = encoder.encode(prompt).unwrap();
        let (max, relative) = difference(&states, &io[&format!("states.{i}")]);
        eprintln!(
            "{prompt:?}: {} tokens, max difference {max:e} ({relative:e})",
            ids.len()
        );
        assert!(relative < 1e-5, "{prompt:?}: {max} ({relative})");
    }
}

#[test]
fn a_transformer_folder_is_not_a_text_encoder() {
    let err = match Umt5Encoder::load(&fixture("wan-t2v/transformer"), &Device::Cpu, DType::F32) {
        Err(e) => e,
        Ok(_) => panic!("loaded a transformer as umT5"),
    };
    assert!(matches!(err, DiffusionError::Model { .. }), "{err}");
}
