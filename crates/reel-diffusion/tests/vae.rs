//! The Wan2.1 VAE's decoder against diffusers' `AutoencoderKLWan.decode` on a small random VAE
//! (fixtures by tools/reference/wan_fixtures.py): the same frames from the same latents, and
//! the frame count 4·(latent frames − 1) + 1.

mod common;

use candle_core::{DType, Device};
use common::{difference, fixture, tensors};
use reel_diffusion::models::wan_vae::WanVaeDecoder;

#[test]
fn decoding_matches_diffusers() {
    let mut vae = WanVaeDecoder::load(&fixture("wan-t2v/vae"), &Device::Cpu, DType::F32).unwrap();
    let io = tensors("wan-t2v/vae_io.safetensors");
    let frames = vae.decode(&io["latents"]).unwrap();
    assert_eq!(frames.dims(), &[1, 3, 9, 32, 48]);
    let reference: Vec<f32> = io["frames"].flatten_all().unwrap().to_vec1().unwrap();
    let clipped =
        reference.iter().filter(|v| v.abs() >= 1.0).count() as f32 / reference.len() as f32;
    let (max, relative) = difference(&frames, &io["frames"]);
    eprintln!(
        "max difference {max:e} ({relative:e}); {:.1} % of the reference clipped",
        100.0 * clipped
    );
    assert!(
        clipped < 0.2,
        "the fixture is mostly clipped: it would hide differences"
    );
    assert!(max < 1e-4, "max difference {max}");
    // Decoding again from the start gives the same frames: the stream state is reset.
    let again = vae.decode(&io["latents"]).unwrap();
    assert_eq!(difference(&again, &frames).0, 0.0);
    // A frame and a time tap at a time (as full-size frames go), the same frames.
    vae.set_unfold_budget(0);
    let (max, _) = difference(&vae.decode(&io["latents"]).unwrap(), &io["frames"]);
    assert!(max < 1e-4, "frame by frame: max difference {max}");
}
