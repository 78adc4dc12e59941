//! Image to video's still, against what diffusers' pipeline does with it (fixtures by
//! tools/reference/wan_fixtures.py): PIL's resampling, the CLIP image processor's resize, crop
//! and normalisation, and the CLIP vision encoder's states before its last layer.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{difference, fixture, tensors};
use reel_diffusion::models::clip_vision::ClipVision;
use reel_diffusion::pipelines::image::{ClipImageProcessor, crop_to_shape};
use reel_image::Image;
use reel_image::resize::{Filter, resize};

const RECORD: &str = "wan-i2v/pipeline_io.safetensors";

fn image(name: &str) -> Image {
    let t = &tensors(RECORD)[name];
    let (height, width, _) = t.dims3().unwrap();
    Image {
        width,
        height,
        data: t.flatten_all().unwrap().to_vec1::<u8>().unwrap(),
    }
}

#[test]
fn resampling_matches_pil() {
    let source = image("resize.source");
    for (name, filter) in [
        ("bicubic", Filter::Bicubic),
        ("lanczos", Filter::Lanczos3),
        ("lanczos_down", Filter::Lanczos3),
    ] {
        let reference = image(&format!("resize.{name}"));
        let ours = resize(&source, reference.width, reference.height, filter);
        let diffs: Vec<i32> = ours
            .data
            .iter()
            .zip(&reference.data)
            .map(|(&a, &b)| (a as i32 - b as i32).abs())
            .collect();
        let worst = *diffs.iter().max().unwrap();
        let off = diffs.iter().filter(|&&d| d > 0).count() as f64 / diffs.len() as f64;
        eprintln!(
            "{name}: worst {worst} level(s), {:.1} % of values off",
            100.0 * off
        );
        // PIL sums in fixed point; a value may round the other way.
        assert!(worst <= 1 && off < 0.05, "{name}: worst {worst}, {off} off");
    }
}

#[test]
fn the_clip_processor_resizes_crops_and_normalises_as_transformers() {
    let processor = ClipImageProcessor::read(&fixture("wan-i2v/image_processor"), 64).unwrap();
    let ours = processor
        .prepare(&image("clip.wide_source"), &Device::Cpu)
        .unwrap();
    let reference = &tensors(RECORD)["clip.wide_pixels"];
    let (max, _) = difference(&ours, reference);
    // One level of 255, over CLIP's std of about 0.27.
    eprintln!("max difference {max}");
    assert!(max <= 1.0 / 255.0 / 0.26 + 1e-4, "max difference {max}");
}

#[test]
fn the_image_encoder_matches_transformers() {
    let folder = fixture("wan-i2v/image_encoder");
    let encoder = ClipVision::load(&folder, &Device::Cpu, DType::F32).unwrap();
    let processor = ClipImageProcessor::read(&fixture("wan-i2v/image_processor"), 64).unwrap();
    let pixels = processor.prepare(&image("still"), &Device::Cpu).unwrap();
    let states = encoder.penultimate_states(&pixels).unwrap();
    let (max, relative) = difference(&states, &tensors(RECORD)["clip.states"]);
    eprintln!("max difference {max:e} ({relative:e})");
    assert!(relative < 1e-5, "max difference {max} ({relative})");
    let wrong = Tensor::zeros((1, 3, 32, 32), DType::F32, &Device::Cpu).unwrap();
    let err = encoder.penultimate_states(&wrong).unwrap_err();
    assert!(
        err.to_string().contains("takes (batch, 3, 64, 64)"),
        "{err}"
    );
}

#[test]
fn a_still_of_another_shape_is_cropped_not_stretched() {
    let mut wide = Image::new(300, 100);
    // A vertical stripe in the middle survives the crop to a square whole.
    for y in 0..100 {
        for x in 140..160 {
            wide.data[(y * 300 + x) * 3] = 255;
        }
    }
    let square = crop_to_shape(&wide, 64, 64);
    assert_eq!((square.width, square.height), (100, 100));
    assert_eq!(square.pixel(50, 50)[0], 255);
    assert_eq!(square.pixel(10, 50)[0], 0);
    let tall = crop_to_shape(&wide, 16, 32);
    assert_eq!((tall.width, tall.height), (50, 100));
}
