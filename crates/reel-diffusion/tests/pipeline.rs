//! Whole runs (prompt to frames) against diffusers from the same initial latents, on the small
//! random model folders saved by tools/reference/wan_fixtures.py: text to video (`WanPipeline`)
//! with both samplers, and image to video (`WanImageToVideoPipeline`, with its CLIP image
//! encoder). The bar: every frame within PSNR 35 dB of diffusers'.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{difference, fixture, tensors};
use reel_diffusion::DiffusionError;
use reel_diffusion::pipelines::wan::{Noise, Region, Request, SourceVideo, Stage, Task, WanVideo};
use reel_diffusion::schedulers::SchedulerKind;

fn request(kind: SchedulerKind) -> Request {
    read_request("wan-t2v", kind)
}

fn read_request(folder: &str, kind: SchedulerKind) -> Request {
    read_record(folder, "pipeline_io", kind)
}

/// The request a fixture's `{record}.json` describes, its noise from `{record}.safetensors`.
fn read_record(folder: &str, record: &str, kind: SchedulerKind) -> Request {
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("{folder}/{record}.json"))).unwrap(),
    )
    .unwrap();
    Request {
        prompt: run["prompt"].as_str().unwrap().into(),
        negative: run["negative_prompt"].as_str().unwrap().into(),
        width: run["width"].as_u64().unwrap() as usize,
        height: run["height"].as_u64().unwrap() as usize,
        frames: run["num_frames"].as_u64().unwrap() as usize,
        steps: run["num_inference_steps"].as_u64().unwrap() as usize,
        guidance: run["guidance_scale"].as_f64().unwrap(),
        guidance_low: run.get("guidance_scale_2").and_then(|g| g.as_f64()),
        shift: Some(3.0),
        scheduler: Some(kind),
        noise: Noise::File(fixture(&format!("{folder}/{record}.safetensors"))),
        image: None,
        last_image: None,
        video: None,
        region: None,
        vae_tiling: None,
        offload: None,
    }
}

/// Runs the pipeline; the frames as (frames, height, width, 3) in [0, 1], as diffusers' "np".
fn generate(folder: &str, request: &Request) -> (Tensor, usize) {
    let pipeline = WanVideo::open(&fixture(folder), &Device::Cpu, DType::F32).unwrap();
    let mut chunks = Vec::new();
    let mut steps = 0;
    pipeline
        .generate(
            request,
            |stage| {
                if let Stage::Step(_) = stage {
                    steps += 1;
                }
                Ok(())
            },
            |frames| {
                chunks.push(frames.clone());
                Ok(())
            },
        )
        .unwrap();
    let video = Tensor::cat(&chunks, 0).unwrap();
    let video = ((video / 2.0).unwrap() + 0.5)
        .unwrap()
        .clamp(0f32, 1f32)
        .unwrap();
    (
        video.permute((0, 2, 3, 1)).unwrap().contiguous().unwrap(),
        steps,
    )
}

fn psnr(a: &Tensor, b: &Tensor) -> f64 {
    let mse = (a - b)
        .unwrap()
        .sqr()
        .unwrap()
        .mean_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64;
    10.0 * (1.0 / mse.max(1e-20)).log10()
}

fn check(kind: SchedulerKind, name: &str) {
    let request = request(kind);
    let (video, steps) = generate("wan-t2v", &request);
    let reference = tensors("wan-t2v/pipeline_io.safetensors")[&format!("{name}.frames")]
        .squeeze(0)
        .unwrap();
    compare(name, &request, &video, steps, &reference);
}

fn compare(name: &str, request: &Request, video: &Tensor, steps: usize, reference: &Tensor) {
    assert_eq!(
        video.dims(),
        reference.dims(),
        "frames, height, width, channels"
    );
    assert_eq!(video.dim(0).unwrap(), request.frames);
    let run = match &request.video {
        Some(v) => reel_diffusion::schedulers::start_for_strength(request.steps, v.strength),
        None => 0,
    };
    assert_eq!(steps, request.steps - run);
    let worst = (0..request.frames)
        .map(|f| psnr(&video.get(f).unwrap(), &reference.get(f).unwrap()))
        .fold(f64::INFINITY, f64::min);
    eprintln!("{name}: worst frame PSNR {worst:.1} dB against diffusers");
    assert!(worst >= 35.0, "{name}: worst frame {worst:.1} dB");
}

#[test]
fn text_to_video_with_unipc_matches_diffusers() {
    check(SchedulerKind::UniPc, "unipc");
}

#[test]
fn text_to_video_with_euler_matches_diffusers() {
    check(SchedulerKind::Euler, "euler");
}

/// The fixture's still as an image.
pub fn still(name: &str, record: &str) -> reel_image::Image {
    let t = &tensors(record)[name];
    let (height, width, _) = t.dims3().unwrap();
    reel_image::Image {
        width,
        height,
        data: t.flatten_all().unwrap().to_vec1::<u8>().unwrap(),
    }
}

#[test]
fn image_to_video_matches_diffusers() {
    let pipeline = WanVideo::open(&fixture("wan-i2v"), &Device::Cpu, DType::F32).unwrap();
    assert_eq!(
        pipeline.task(),
        Task::ImageToVideo {
            image_encoder: true
        }
    );
    let request = Request {
        image: Some(still("still", "wan-i2v/pipeline_io.safetensors")),
        ..read_request("wan-i2v", SchedulerKind::UniPc)
    };
    let (video, steps) = generate("wan-i2v", &request);
    let reference = tensors("wan-i2v/pipeline_io.safetensors")["frames"]
        .squeeze(0)
        .unwrap();
    compare("image to video", &request, &video, steps, &reference);
    // Without the still, or a still for a text-to-video model: refused before loading.
    let err = pipeline
        .check(&Request {
            image: None,
            ..request.clone()
        })
        .unwrap_err();
    assert!(err.to_string().contains("--image"), "{err}");
    let t2v = WanVideo::open(&fixture("wan-t2v"), &Device::Cpu, DType::F32).unwrap();
    let err = t2v.check(&request).unwrap_err();
    assert!(err.to_string().contains("text-to-video model"), "{err}");
}

#[test]
fn video_to_video_matches_diffusers() {
    // WanVideoToVideoPipeline: the clip encoded, noised to the strength, the schedule's last
    // steps run; with both samplers, and at strength 1 (from noise, the clip's latents unused).
    let record = "wan-t2v/video_to_video_io.safetensors";
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("wan-t2v/video_to_video_io.json")).unwrap(),
    )
    .unwrap();
    let clip = &tensors(record)["video"];
    let frames: Vec<reel_image::Image> = (0..clip.dim(0).unwrap())
        .map(|i| {
            let t = clip.get(i).unwrap();
            let (height, width, _) = t.dims3().unwrap();
            reel_image::Image {
                width,
                height,
                data: t.flatten_all().unwrap().to_vec1::<u8>().unwrap(),
            }
        })
        .collect();
    for (name, case) in run["cases"].as_object().unwrap() {
        let kind = match case["scheduler"].as_str().unwrap() {
            "euler" => SchedulerKind::Euler,
            _ => SchedulerKind::UniPc,
        };
        let request = Request {
            video: Some(SourceVideo {
                frames: frames.clone(),
                strength: case["strength"].as_f64().unwrap(),
            }),
            ..read_record("wan-t2v", "video_to_video_io", kind)
        };
        let (video, steps) = generate("wan-t2v", &request);
        let reference = tensors(record)[&format!("{name}.frames")]
            .squeeze(0)
            .unwrap();
        compare(
            &format!("video to video, {name}"),
            &request,
            &video,
            steps,
            &reference,
        );
    }
    // Refused: a still with the clip, a strength outside (0, 1], one that runs no step, the
    // wrong number of frames, and an image-to-video folder.
    let pipeline = WanVideo::open(&fixture("wan-t2v"), &Device::Cpu, DType::F32).unwrap();
    let base = Request {
        video: Some(SourceVideo {
            frames: frames.clone(),
            strength: 0.6,
        }),
        ..read_record("wan-t2v", "video_to_video_io", SchedulerKind::UniPc)
    };
    let refused = |r: &Request| pipeline.check(r).unwrap_err().to_string();
    for strength in [0.0, 1.5, f64::NAN] {
        let r = Request {
            video: Some(SourceVideo {
                frames: frames.clone(),
                strength,
            }),
            ..base.clone()
        };
        assert!(refused(&r).contains("strength"), "{strength}");
    }
    let r = Request {
        video: Some(SourceVideo {
            frames: frames.clone(),
            strength: 0.1,
        }),
        ..base.clone()
    };
    assert!(refused(&r).contains("runs no step"), "{}", refused(&r));
    let r = Request {
        video: Some(SourceVideo {
            frames: frames[..5].to_vec(),
            strength: 0.6,
        }),
        ..base.clone()
    };
    assert!(refused(&r).contains("5 frames of video"), "{}", refused(&r));
    let r = Request {
        image: Some(frames[0].clone()),
        ..base.clone()
    };
    assert!(
        refused(&r).contains("video to video runs on"),
        "{}",
        refused(&r)
    );
    let i2v = WanVideo::open(&fixture("wan-i2v"), &Device::Cpu, DType::F32).unwrap();
    assert!(
        i2v.check(&base)
            .unwrap_err()
            .to_string()
            .contains("text-to-video folder")
    );
}

#[test]
fn first_and_last_frame_to_video_matches_diffusers() {
    // FLF2V's layout: both stills in the VAE's conditioning (the last in the last latent frame's
    // fourth place) and both stills' CLIP tokens with learnt positions.
    let record = "wan-flf2v/pipeline_io.safetensors";
    let first = still("first", record);
    let last = still("last", record);
    let request = Request {
        image: Some(first.clone()),
        last_image: Some(last.clone()),
        ..read_request("wan-flf2v", SchedulerKind::UniPc)
    };
    let (video, steps) = generate("wan-flf2v", &request);
    let reference = tensors(record)["frames"].squeeze(0).unwrap();
    compare("first and last frame", &request, &video, steps, &reference);
    // A loop: the same still at both ends.
    let looped = Request {
        last_image: Some(first.clone()),
        ..request.clone()
    };
    let (video, steps) = generate("wan-flf2v", &looped);
    let reference = tensors(record)["loop.frames"].squeeze(0).unwrap();
    compare("loop", &looped, &video, steps, &reference);
    // The last still alone (a clip that ends on it) runs; models that hold only the first
    // frame refuse a last one.
    let (ending, _) = generate(
        "wan-flf2v",
        &Request {
            image: None,
            ..request.clone()
        },
    );
    assert_eq!(ending.dim(0).unwrap(), request.frames);
    for folder in ["wan-t2v", "wan-ti2v"] {
        let pipeline = WanVideo::open(&fixture(folder), &Device::Cpu, DType::F32).unwrap();
        let err = pipeline
            .check(&Request {
                image: None,
                ..request.clone()
            })
            .unwrap_err();
        assert!(
            err.to_string().contains("last frame needs"),
            "{folder}: {err}"
        );
    }
}

#[test]
fn wan22_text_and_image_to_video_match_diffusers() {
    // TI2V's layout: the Wan2.2 VAE, a timestep a token; with a still, its latents stand for
    // the first latent frame.
    let pipeline = WanVideo::open(&fixture("wan-ti2v"), &Device::Cpu, DType::F32).unwrap();
    assert_eq!(pipeline.task(), Task::TextImageToVideo);
    assert_eq!(pipeline.size_multiple(), 32);
    let record = "wan-ti2v/pipeline_io.safetensors";
    let reference = tensors(record);
    let request = read_request("wan-ti2v", SchedulerKind::UniPc);
    let (video, steps) = generate("wan-ti2v", &request);
    let text = reference["text.frames"].squeeze(0).unwrap();
    compare("TI2V, text", &request, &video, steps, &text);
    let request = Request {
        image: Some(still("still", record)),
        ..request
    };
    let (video, steps) = generate("wan-ti2v", &request);
    let image = reference["image.frames"].squeeze(0).unwrap();
    compare("TI2V, image", &request, &video, steps, &image);
}

#[test]
fn two_experts_match_diffusers() {
    // Wan2.2 A14B's layout: the high-noise expert for the first steps, the low-noise one (with
    // its own guidance) after the boundary.
    let request = read_request("wan-a14b", SchedulerKind::UniPc);
    assert_eq!(request.guidance_low, Some(3.0));
    let (video, steps) = generate("wan-a14b", &request);
    let reference = tensors("wan-a14b/pipeline_io.safetensors")["frames"]
        .squeeze(0)
        .unwrap();
    compare("two experts", &request, &video, steps, &reference);
    // Streamed block by block (layer-by-layer offload), the same frames.
    let (streamed, _) = generate(
        "wan-a14b",
        &Request {
            offload: Some(true),
            ..request.clone()
        },
    );
    assert_eq!(difference(&streamed, &video).0, 0.0);
    // The low-noise expert really counts: without its own guidance the frames differ.
    let (same_guidance, _) = generate(
        "wan-a14b",
        &Request {
            guidance_low: None,
            ..request.clone()
        },
    );
    assert!(psnr(&same_guidance, &reference) < 60.0);
}

#[test]
fn bad_requests_are_refused_before_any_model_loads() {
    let pipeline = WanVideo::open(&fixture("wan-t2v"), &Device::Cpu, DType::F32).unwrap();
    let base = request(SchedulerKind::UniPc);
    let refused = |r: Request| pipeline.check(&r).unwrap_err().to_string();
    assert!(
        refused(Request {
            width: 50,
            ..base.clone()
        })
        .contains("multiples of 16")
    );
    assert!(
        refused(Request {
            frames: 8,
            ..base.clone()
        })
        .contains("4k+1")
    );
    assert!(
        refused(Request {
            prompt: "  \n ".into(),
            ..base.clone()
        })
        .contains("empty")
    );
    assert!(
        refused(Request {
            guidance_low: Some(3.0),
            ..base.clone()
        })
        .contains("two-expert")
    );
    assert!(
        refused(Request {
            vae_tiling: Some(reel_diffusion::models::wan_vae::Tiling {
                tile: 100,
                stride: 50,
            }),
            ..base.clone()
        })
        .contains("multiples of 8")
    );
    // A noise file of the wrong shape.
    let wrong = Request {
        frames: 5,
        ..base.clone()
    };
    let err = pipeline
        .generate(&wrong, |_| Ok(()), |_| Ok(()))
        .unwrap_err();
    assert!(err.to_string().contains("latents of shape"), "{err}");
    // Folders that are not a Wan model.
    for folder in ["wan-t2v/transformer", "schedulers"] {
        let err = match WanVideo::open(&fixture(folder), &Device::Cpu, DType::F32) {
            Err(e) => e,
            Ok(_) => panic!("{folder} opened as a model"),
        };
        assert!(matches!(err, DiffusionError::Model { .. }), "{err}");
    }
}

/// A region-masked run (diffusers has none to compare with): where nothing may move, every step
/// ends on the still's own latents, so the frames are the same whatever the noise, the steps,
/// the sampler or the prompt; where a region moves, they are not.
#[test]
fn a_held_region_is_the_still_whatever_the_noise_and_a_free_one_moves() {
    let base = request(SchedulerKind::UniPc);
    let (w, h) = (base.width, base.height);
    let mut still = reel_image::Image::new(w, h);
    for (i, v) in still.data.iter_mut().enumerate() {
        *v = ((i * 37) % 251) as u8;
    }
    let run = |moving: &[u8], seed: u64, steps: usize, kind: SchedulerKind, prompt: &str| {
        let request = Request {
            prompt: prompt.into(),
            steps,
            scheduler: Some(kind),
            noise: Noise::Seed(seed),
            region: Some(Region {
                still: still.clone(),
                moving: moving.to_vec(),
            }),
            ..base.clone()
        };
        generate("wan-t2v", &request).0
    };
    let held = vec![0u8; w * h];
    let a = run(
        &held,
        1,
        2,
        SchedulerKind::UniPc,
        "a red fox runs through the snow",
    );
    let b = run(&held, 2, 4, SchedulerKind::Euler, "waves on a beach");
    assert_eq!(difference(&a, &b).0, 0.0, "a held still moved");

    // The left half free: the frames now follow the noise there.
    let mut moving = vec![0u8; w * h];
    for y in 0..h {
        moving[y * w..y * w + w / 2].fill(255);
    }
    let c = run(
        &moving,
        1,
        2,
        SchedulerKind::UniPc,
        "a red fox runs through the snow",
    );
    let d = run(
        &moving,
        2,
        2,
        SchedulerKind::UniPc,
        "a red fox runs through the snow",
    );
    assert!(
        difference(&c, &d).0 > 1e-3,
        "a free region did not follow the noise"
    );
    assert!(difference(&a, &c).0 > 1e-3, "the free region was held");

    // A mask of another size is refused before anything loads.
    let pipeline = WanVideo::open(&fixture("wan-t2v"), &Device::Cpu, DType::F32).unwrap();
    let wrong = Request {
        region: Some(Region {
            still: still.clone(),
            moving: vec![0; 7],
        }),
        ..base.clone()
    };
    assert!(matches!(
        pipeline.check(&wrong),
        Err(DiffusionError::Usage(_))
    ));
}
