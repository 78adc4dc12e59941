//! Face sets with records of any shape are reported or refused, never a panic.

use proptest::prelude::*;
use serde_json::json;

fn number() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e300)),
        Just(json!("NaN")),
        (-500.0f64..500.0).prop_map(|v| json!(v)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_record_is_reported_or_refused(
        landmarks in 0usize..500,
        identity in 0usize..200,
        size in prop_oneof![Just(0u64), Just(1), Just(256), Just(1 << 40)],
        yaw in number(),
        sharpness in number(),
        lab in number(),
        cut in any::<bool>(),
    ) {
        let dir = std::env::temp_dir().join(format!("reel-faceset-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let record = json!({
            "source": "a.mp4", "frame": 3, "time": 0.1, "track": 1, "size": size, "margin": 0.4,
            "landmarks": vec![[1.0, 2.0, 0.0]; landmarks],
            "pose": {"yaw": yaw, "pitch": 0.0, "roll": 0.0},
            "sharpness": sharpness, "presence": 1.0,
            "identity": vec![0.1; identity],
            "skin_lab": [lab.clone(), 0.0, 0.0], "light_balance": 0.0,
        });
        let mut text = record.to_string();
        if cut {
            text.truncate(text.len() / 2);
        }
        std::fs::write(dir.join("000000.json"), text).unwrap();
        let _ = reel_faceset::stats::report(&dir);
        let _ = reel_faceset::record::read_set(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
