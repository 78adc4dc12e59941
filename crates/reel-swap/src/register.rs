//! The model swap in the processor registry, beside the processors of `reel-process`.

use reel_core::HasKind;
use reel_process::registry::{
    Registry, SWAP_SETTINGS, Setting, Spec, color_and_blend, number, paths,
};
use reel_process::{FrameProcessor, ProcessError};

use crate::SwapError;
use crate::model_swap::ModelSwap;

const MODEL_SWAP_SETTINGS: [Setting; 5] = [
    Setting {
        name: "model",
        help: "a model folder made by `reel train` (its source person's face goes on)",
        default: None,
    },
    SWAP_SETTINGS[0],
    SWAP_SETTINGS[1],
    Setting {
        name: "steady",
        help: "how much of the drawn face's shimmer from frame to frame is held back, 0 (off) to 1",
        default: Some("0.5"),
    },
    Setting {
        name: "grain",
        help: "how much of the plate's grain the drawn face is given, 0 (none) to 1 (all)",
        default: Some("1.0"),
    },
];

/// A swap error as the registry reports it, its kind kept.
pub fn process_error(e: SwapError) -> ProcessError {
    match e {
        SwapError::Settings(m) => ProcessError::Settings(m),
        SwapError::Model(e) => ProcessError::Model(e),
        SwapError::Video(e) => ProcessError::Video(e),
        other => ProcessError::Other {
            kind: other.kind(),
            message: other.to_string(),
        },
    }
}

fn build(o: &reel_process::Options) -> Result<Box<dyn FrameProcessor>, ProcessError> {
    let (color, blend) = color_and_blend(o)?;
    let dir = paths(o, "model")?
        .into_iter()
        .next()
        .ok_or_else(|| ProcessError::Settings("give the model folder (--model)".into()))?;
    let fraction = |name: &str, default: f32| {
        let v = number(o, name, default)?;
        match (0.0..=1.0).contains(&v) {
            true => Ok(v),
            false => Err(ProcessError::Settings(format!(
                "{name} must be from 0 to 1, not {v}"
            ))),
        }
    };
    let steady = fraction("steady", crate::model_swap::STEADY)?;
    let grain = fraction("grain", crate::model_swap::GRAIN)?;
    let swap = ModelSwap::load(&dir).map_err(process_error)?;
    Ok(Box::new(
        swap.with_color(color)
            .with_blend(blend)
            .with_steady(steady)
            .with_grain(grain),
    ))
}

/// Every processor reel has: those of `reel-process` and the model swap.
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    r.register(Spec {
        name: "model-swap",
        about: "face replacement with a model trained by `reel train`",
        needs_faces: true,
        settings: &MODEL_SWAP_SETTINGS,
        build,
    });
    r
}
