//! Model folders with any description are loaded or refused, never a panic.

use proptest::prelude::*;
use serde_json::json;

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn any_model_description_is_loaded_or_refused(
        format in prop_oneof![Just(json!(0)), Just(json!(1)), Just(json!(2)), Just(json!(99)), Just(json!("x"))],
        architecture in prop_oneof![Just(json!("df")), Just(json!("liae")), Just(json!("unet")), Just(json!(3))],
        resolution in prop_oneof![Just(0u64), Just(15), Just(16), Just(32), Just(48), Just(100), Just(513), Just(1 << 40)],
        dims in prop_oneof![Just(0u64), Just(1), Just(4), Just(8), Just(4097), Just(1 << 40)],
        face_size in prop_oneof![Just(0u64), Just(64), Just(1 << 40)],
        weights in prop_oneof![Just(None), Just(Some(Vec::new())), Just(Some(b"not safetensors".to_vec()))],
    ) {
        let dir = std::env::temp_dir().join(format!("reel-swap-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let info = json!({
            "format": format,
            "config": {"architecture": architecture, "resolution": resolution,
                       "encoder_dims": dims, "latent_dims": dims, "decoder_dims": dims},
            "face_size": face_size, "face_margin": 0.4, "iterations": 1, "seconds": 1.0,
            "history": [],
        });
        std::fs::write(dir.join("model.json"), info.to_string()).unwrap();
        if let Some(w) = weights {
            std::fs::write(dir.join("model.safetensors"), w).unwrap();
        }
        let _ = reel_swap::train::load(&dir, &candle_core::Device::Cpu);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
