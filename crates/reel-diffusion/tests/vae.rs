//! The Wan2.1 VAE against diffusers' `AutoencoderKLWan` on a small random VAE (fixtures by
//! tools/reference/wan_fixtures.py): the same frames from the same latents, with the frame
//! count 4·(latent frames − 1) + 1, and the same latents from the same frames.

mod common;

use candle_core::Tensor;
use candle_core::{DType, Device};
use common::{difference, fixture, tensors};
use reel_diffusion::models::wan_vae::{Decoded, Tiling, WanVaeDecoder, WanVaeEncoder};

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

#[test]
fn encoding_matches_diffusers() {
    let mut vae = WanVaeEncoder::load(&fixture("wan-t2v/vae"), &Device::Cpu, DType::F32).unwrap();
    let io = tensors("wan-t2v/vae_encode_io.safetensors");
    let latents = vae.encode(&io["video"]).unwrap();
    assert_eq!(latents.dims(), &[1, 16, 3, 4, 6]);
    let (max, relative) = difference(&latents, &io["latents"]);
    eprintln!("max difference {max:e} ({relative:e})");
    assert!(relative < 1e-5, "max difference {max} ({relative})");
    // The chunks must come as the causal cache expects them: one frame, then four.
    vae.reset();
    let video = io["video"]
        .squeeze(0)
        .unwrap()
        .permute((1, 0, 2, 3))
        .unwrap();
    let err = vae
        .encode_chunk(&video.narrow(0, 0, 2).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("first frame alone"), "{err}");
    let err = vae
        .encode(&io["video"].narrow(2, 0, 8).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("4k+1"), "{err}");
}

#[test]
fn the_wan22_vae_decodes_and_encodes_as_diffusers() {
    // Wan2.2's VAE (TI2V-5B's): 2x2 pixel patches in the channels, the residual shortcuts,
    // 16x compression in space.
    let folder = fixture("wan-ti2v/vae");
    let io = tensors("wan-ti2v/pipeline_io.safetensors");
    let mut decoder = WanVaeDecoder::load(&folder, &Device::Cpu, DType::F32).unwrap();
    let frames = decoder.decode(&io["vae.latents"]).unwrap();
    assert_eq!(frames.dims(), &[1, 3, 9, 32, 48]);
    let (max, relative) = difference(&frames, &io["vae.frames"]);
    eprintln!("decoding: max difference {max:e} ({relative:e})");
    assert!(max < 1e-4, "decoding: max difference {max}");
    let mut encoder = WanVaeEncoder::load(&folder, &Device::Cpu, DType::F32).unwrap();
    let latents = encoder.encode(&io["vae.video"]).unwrap();
    assert_eq!(latents.dims(), &[1, 12, 3, 2, 3]);
    let (max, relative) = difference(&latents, &io["vae.encoded"]);
    eprintln!("encoding: max difference {max:e} ({relative:e})");
    assert!(
        relative < 1e-5,
        "encoding: max difference {max} ({relative})"
    );
}

#[test]
fn tiled_decoding_matches_diffusers() {
    // Tiles of 64 pixels every 48 over frames of 80x112: six tiles a frame, blended over their
    // overlaps, each with its own causal caches; for both VAEs.
    for folder in ["wan-t2v", "wan-ti2v"] {
        let vae = WanVaeDecoder::load(&fixture(&format!("{folder}/vae")), &Device::Cpu, DType::F32)
            .unwrap();
        let io = tensors(&format!("{folder}/vae_tiled_io.safetensors"));
        let z = vae.denormalise(&io["latents"]).unwrap().squeeze(0).unwrap();
        let (_, frames, h, w) = z.dims4().unwrap();
        let tiling = Tiling {
            tile: 64,
            stride: 48,
        };
        let mut tiled = vae.tiled(h, w, tiling).unwrap();
        assert_eq!(tiled.tiles(), 6);
        let mut chunks: Vec<Tensor> = Vec::new();
        let mut tiles = 0;
        tiled
            .decode(&z, |event| {
                match event {
                    Decoded::Tile { done, .. } => tiles = done,
                    Decoded::Frames(chunk) => chunks.push(chunk.clone()),
                }
                Ok(())
            })
            .unwrap();
        assert_eq!((tiles, chunks.len()), (6, frames));
        let video = Tensor::cat(&chunks, 0)
            .unwrap()
            .permute((1, 0, 2, 3))
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        assert_eq!(video.dims(), &[1, 3, 9, 80, 112]);
        let (max, _) = difference(&video, &io["frames"]);
        eprintln!("{folder}: tiled, max difference {max:e}");
        assert!(max < 1e-4, "{folder}: tiled, max difference {max}");
        // The tiles are real: whole-frame decoding differs at their seams.
        let whole = vae.clone().decode(&io["latents"]).unwrap();
        assert!(
            difference(&whole, &video).0 > 1e-3,
            "{folder}: tiling changed nothing"
        );
    }
}
