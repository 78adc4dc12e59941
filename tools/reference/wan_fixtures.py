"""Builds the small random Wan models and the diffusers outputs that reel-diffusion's parity
tests compare against (crates/reel-diffusion/tests/fixtures). Every weight is drawn at random,
including the ones diffusers initialises to zero, so that every path of the network shows in
the outputs. Run it in an environment with torch, diffusers and safetensors:

    python -m venv .venv-wan && .venv-wan/bin/pip install torch diffusers transformers safetensors
    .venv-wan/bin/python tools/reference/wan_fixtures.py
"""

import json
import pathlib

import torch
from diffusers import (
    FlowMatchEulerDiscreteScheduler,
    UniPCMultistepScheduler,
    WanTransformer3DModel,
)
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "crates" / "reel-diffusion" / "tests" / "fixtures"


def randomise(module, generator):
    """Every parameter drawn from N(0, 1/fan_in) (vectors: around 1 for norm weights)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            fan_in = p.shape[-1] if p.dim() > 1 else 1
            if p.dim() == 5:  # Conv3d: in_channels x kernel
                fan_in = p[0].numel()
            if p.dim() == 1 and "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) / fan_in**0.5)


def tiny_transformer(folder, generator, **extra):
    config = dict(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=24,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=32,
        ffn_dim=96,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=64,
    )
    config.update(extra)
    model = WanTransformer3DModel(**config).eval()
    randomise(model, generator)
    model.save_pretrained(folder, safe_serialization=True)
    return model


def transformer_fixtures(generator):
    # Text to video: a batch of two (a prompt and a negative prompt at different timesteps).
    model = t2v = tiny_transformer(FIXTURES / "wan-t2v" / "transformer", generator)
    latents = torch.randn(2, 16, 3, 8, 12, generator=generator)
    timestep = torch.tensor([999.0, 437.25])
    text = torch.randn(2, 7, 32, generator=generator)
    with torch.no_grad():
        out = model(latents, timestep, text, return_dict=False)[0]
        # Per-token timesteps (Wan2.2 TI2V's expand_timesteps): the first frame's tokens at 0.
        tokens = 3 * 4 * 6
        per_token = torch.full((2, tokens), 611.0)
        per_token[:, : 4 * 6] = 0.0
        out_per_token = model(latents, per_token, text, return_dict=False)[0]
    save_file(
        {
            "latents": latents,
            "timestep": timestep,
            "text": text,
            "output": out,
            "per_token_timestep": per_token,
            "per_token_output": out_per_token,
        },
        FIXTURES / "wan-t2v" / "transformer_io.safetensors",
    )

    # Image to video (Wan2.1 I2V-14B's layout): image tokens through their own keys and values.
    model = tiny_transformer(
        FIXTURES / "wan-i2v" / "transformer",
        generator,
        in_channels=36,
        image_dim=40,
        added_kv_proj_dim=48,
    )
    latents = torch.randn(1, 36, 2, 4, 6, generator=generator)
    timestep = torch.tensor([750.0])
    text = torch.randn(1, 512, 32, generator=generator)
    image = torch.randn(1, 5, 40, generator=generator)
    with torch.no_grad():
        out = model(latents, timestep, text, encoder_hidden_states_image=image, return_dict=False)[0]
    save_file(
        {"latents": latents, "timestep": timestep, "text": text, "image": image, "output": out},
        FIXTURES / "wan-i2v" / "transformer_io.safetensors",
    )
    transformer_fixtures.i2v = model
    return t2v


# Wan2.1's published scheduler config (the 480p models' shift).
WAN_UNIPC = dict(
    num_train_timesteps=1000,
    solver_order=2,
    prediction_type="flow_prediction",
    use_flow_sigmas=True,
    flow_shift=3.0,
    solver_type="bh2",
    lower_order_final=True,
    final_sigmas_type="zero",
)


def scheduler_fixtures(generator):
    cases = {
        "unipc": UniPCMultistepScheduler(**WAN_UNIPC),
        "unipc-order3-bh1": UniPCMultistepScheduler(**{**WAN_UNIPC, "solver_order": 3, "solver_type": "bh1", "flow_shift": 5.0}),
        "euler": FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=5.0),
    }
    steps = 9
    for name, scheduler in cases.items():
        folder = FIXTURES / "schedulers" / name
        scheduler.save_pretrained(folder)
        scheduler.set_timesteps(steps)
        sample = torch.randn(1, 16, 2, 4, 4, generator=generator)
        record = {"initial": sample.clone(), "timesteps": scheduler.timesteps.to(torch.float32), "sigmas": scheduler.sigmas.to(torch.float32)}
        for i, t in enumerate(scheduler.timesteps):
            # A stand-in for the model: a fixed random velocity with a part that follows the sample.
            output = torch.randn(sample.shape, generator=generator) + 0.5 * sample
            record[f"output.{i}"] = output
            sample = scheduler.step(output, t, sample, return_dict=False)[0]
            record[f"sample.{i}"] = sample.clone()
        save_file(record, folder / "steps.safetensors")


def denoise_fixtures(transformer, generator):
    """The whole denoising loop of WanPipeline (guidance, both schedulers) from fixed latents
    and fixed text states, on the small T2V transformer."""
    from diffusers import WanPipeline

    latents = torch.randn(1, 16, 3, 8, 12, generator=generator)
    prompt = torch.randn(1, 12, 32, generator=generator)
    negative = torch.randn(1, 12, 32, generator=generator)
    record = {"latents": latents, "prompt": prompt, "negative": negative}
    schedulers = {
        "unipc": UniPCMultistepScheduler(**WAN_UNIPC),
        "euler": FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0),
    }
    for name, scheduler in schedulers.items():
        pipe = WanPipeline(tokenizer=None, text_encoder=None, vae=None, scheduler=scheduler, transformer=transformer)
        with torch.no_grad():
            out = pipe(
                prompt_embeds=prompt,
                negative_prompt_embeds=negative,
                latents=latents.clone(),
                height=64,
                width=96,
                num_frames=9,
                num_inference_steps=6,
                guidance_scale=5.0,
                output_type="latent",
                return_dict=False,
            )[0]
        record[f"{name}.denoised"] = out
    save_file(record, FIXTURES / "wan-t2v" / "denoise.safetensors")


PROMPTS = [
    "A cat walks on the grass, realistic",
    "  fish &amp;amp; chips\n\n at   dusk &#233;t&eacute; ",
    "a very long prompt about a red fox running through a snowy forest at dawn while birds sing and the light turns gold over the hills",
    "",
]
TEXT_LENGTH = 24


def text_fixtures(generator):
    """A tokenizer trained on a few sentences (no hub is reachable), a small random umT5
    encoder, and diffusers' prompt states for a few prompts (cleaning, truncation, padding)."""
    from diffusers import WanPipeline
    from tokenizers import SentencePieceUnigramTokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

    corpus = [
        "a cat walks on the grass in the morning light",
        "fish and chips at dusk on the pier, été",
        "a red fox runs through a snowy forest at dawn while birds sing",
        "the light turns gold over the hills and the river",
        "realistic video of a dancer, slow motion, cinematic",
    ] * 20
    spm = SentencePieceUnigramTokenizer()
    spm.train_from_iterator(corpus, vocab_size=120, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    backend = spm._tokenizer
    backend.post_processor = TemplateProcessing(single="$A </s>", special_tokens=[("</s>", backend.token_to_id("</s>"))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="</s>", unk_token="<unk>", pad_token="<pad>")
    tokenizer.save_pretrained(FIXTURES / "wan-t2v" / "tokenizer")

    config = UMT5Config(
        vocab_size=backend.get_vocab_size(),
        d_model=32,
        d_kv=8,
        d_ff=48,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu",
    )
    encoder = UMT5EncoderModel(config).eval()
    randomise(encoder, generator)
    encoder.save_pretrained(FIXTURES / "wan-t2v" / "text_encoder", safe_serialization=True)

    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=None, scheduler=UniPCMultistepScheduler(**WAN_UNIPC), transformer=None)
    text_fixtures.parts = (tokenizer, encoder)
    record = {}
    for i, prompt in enumerate(PROMPTS):
        ids = tokenizer(prompt_clean_reference(prompt), max_length=TEXT_LENGTH, truncation=True, add_special_tokens=True)["input_ids"]
        with torch.no_grad():
            states = pipe._get_t5_prompt_embeds(prompt, max_sequence_length=TEXT_LENGTH, device=torch.device("cpu"))
        record[f"ids.{i}"] = torch.tensor(ids, dtype=torch.int64)
        record[f"states.{i}"] = states
    save_file(record, FIXTURES / "wan-t2v" / "prompts.safetensors")
    (FIXTURES / "wan-t2v" / "prompts.json").write_text(json.dumps({"prompts": PROMPTS, "text_length": TEXT_LENGTH}, indent=1))


def normalisation(vae):
    """The pipelines' latent statistics: the mean and 1/std, shaped to broadcast."""
    z_dim = vae.config.z_dim
    mean = torch.tensor(vae.config.latents_mean).view(1, z_dim, 1, 1, 1)
    std = 1.0 / torch.tensor(vae.config.latents_std).view(1, z_dim, 1, 1, 1)
    return mean, std


def vae_fixtures(generator):
    """A small random Wan2.1 VAE and its decoding of normalised latents, as WanPipeline
    decodes them (denormalised, decoded frame by frame with the causal cache, clipped)."""
    from diffusers import AutoencoderKLWan

    z_dim = 16
    vae = AutoencoderKLWan(
        base_dim=8,
        z_dim=z_dim,
        dim_mult=[1, 2, 2, 2],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[round(0.1 * ((i * 7) % 5 - 2), 2) for i in range(z_dim)],
        latents_std=[round(0.8 + 0.1 * ((i * 3) % 7), 2) for i in range(z_dim)],
    ).eval()
    randomise(vae, generator)
    # The channel norms' gains are named gamma.
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if name.endswith("gamma"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
    vae.save_pretrained(FIXTURES / "wan-t2v" / "vae", safe_serialization=True)
    latents = torch.randn(1, z_dim, 3, 4, 6, generator=generator)
    mean, std = normalisation(vae)
    with torch.no_grad():
        frames = vae.decode(latents / std + mean, return_dict=False)[0]
    save_file({"latents": latents, "frames": frames}, FIXTURES / "wan-t2v" / "vae_io.safetensors")
    return vae


def pipeline_fixtures(transformer, vae, generator):
    """The whole text-to-video pipeline (prompt to frames) from fixed latents, with both
    samplers; the folder saved as diffusers saves a pipeline (model_index.json and one folder
    a component), which is what `reel gen --model` reads."""
    from diffusers import WanPipeline

    tokenizer, encoder = text_fixtures.parts
    folder = FIXTURES / "wan-t2v"
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=vae, scheduler=UniPCMultistepScheduler(**WAN_UNIPC), transformer=transformer)
    pipe.save_pretrained(folder, safe_serialization=True)
    pipe.set_progress_bar_config(disable=True)
    latents = torch.randn(1, 16, 3, 4, 6, generator=generator)
    record = {"latents": latents}
    run = dict(prompt="a red fox runs through the snow", negative_prompt="blurry, dark", height=32, width=48, num_frames=9, num_inference_steps=6, guidance_scale=5.0, output_type="np")
    for name, scheduler in {"unipc": UniPCMultistepScheduler(**WAN_UNIPC), "euler": FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0)}.items():
        pipe.scheduler = scheduler
        with torch.no_grad():
            frames = pipe(latents=latents.clone(), **run).frames
        record[f"{name}.frames"] = torch.from_numpy(frames).float().contiguous()
    save_file(record, folder / "pipeline_io.safetensors")
    del run["output_type"]
    (folder / "pipeline_io.json").write_text(json.dumps(run, indent=1))


def vae_encode_fixtures(vae, generator):
    """The VAE's encoding of a short clip (the first frame alone, then four at a time with the
    causal cache), its mean normalised as the image-to-video pipeline normalises it."""
    video = torch.rand(1, 3, 9, 32, 48, generator=generator) * 2 - 1
    z_dim = vae.config.z_dim
    mean, std = normalisation(vae)
    with torch.no_grad():
        latents = (vae.encode(video).latent_dist.mode() - mean) * std
    save_file({"video": video, "latents": latents}, FIXTURES / "wan-t2v" / "vae_encode_io.safetensors")


def smooth_image(generator, width, height):
    """A still with structure at several scales (a random coarse grid, upsampled, plus detail)."""
    import numpy as np
    from PIL import Image

    coarse = torch.rand(1, 3, 5, 7, generator=generator)
    smooth = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    detail = 0.15 * torch.rand(1, 3, height, width, generator=generator)
    pixels = ((smooth + detail).clamp(0, 1) * 255).round().to(torch.uint8)[0].permute(1, 2, 0).contiguous()
    return Image.fromarray(np.ascontiguousarray(pixels.numpy())), pixels


def image_to_video_fixtures(vae, generator):
    """Wan2.1's image to video with a small random CLIP vision encoder: PIL's resizes, the
    image encoder's states, and the whole pipeline from fixed latents and a still, saved as
    diffusers saves the pipeline (the transformer is the I2V one the transformer test uses)."""
    import numpy as np
    from diffusers import WanImageToVideoPipeline
    from PIL import Image
    from transformers import CLIPVisionConfig, CLIPVisionModel
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    folder = FIXTURES / "wan-i2v"
    record = {}
    # PIL's resampling, which the pipelines prepare stills with.
    still, pixels = smooth_image(generator, 64, 48)
    record["resize.source"] = pixels
    for name, size, resample in [("bicubic", (30, 20), Image.BICUBIC), ("lanczos", (100, 70), Image.LANCZOS), ("lanczos_down", (48, 32), Image.LANCZOS)]:
        record[f"resize.{name}"] = torch.from_numpy(np.asarray(still.resize(size, resample=resample)).copy())

    clip = CLIPVisionModel(CLIPVisionConfig(hidden_size=40, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4, image_size=64, patch_size=16, hidden_act="gelu", layer_norm_eps=1e-5)).eval()
    randomise(clip, generator)
    processor = CLIPImageProcessorPil(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    transformer = transformer_fixtures.i2v
    tokenizer, encoder = text_fixtures.parts
    pipe = WanImageToVideoPipeline(tokenizer=tokenizer, text_encoder=encoder, image_encoder=clip, image_processor=processor, transformer=transformer, vae=vae, scheduler=UniPCMultistepScheduler(**WAN_UNIPC))
    pipe.save_pretrained(folder, safe_serialization=True)
    pipe.set_progress_bar_config(disable=True)

    # A still of a shape other than the encoder's: its resize and crop.
    wide, wide_pixels = smooth_image(generator, 300, 240)
    record["clip.wide_source"] = wide_pixels
    record["clip.wide_pixels"] = processor(images=wide, return_tensors="pt")["pixel_values"]
    still, pixels = smooth_image(generator, 64, 64)
    record["still"] = pixels
    with torch.no_grad():
        record["clip.states"] = pipe.encode_image(still, torch.device("cpu"))
    latents = torch.randn(1, 16, 2, 8, 8, generator=generator)
    record["latents"] = latents
    run = dict(prompt="a red fox runs through the snow", negative_prompt="blurry, dark", height=64, width=64, num_frames=5, num_inference_steps=4, guidance_scale=5.0, output_type="np")
    with torch.no_grad():
        frames = pipe(image=still, latents=latents.clone(), **run).frames
    record["frames"] = torch.from_numpy(frames).float().contiguous()
    save_file(record, folder / "pipeline_io.safetensors")
    del run["output_type"]
    (folder / "pipeline_io.json").write_text(json.dumps(run, indent=1))


def ti2v_fixtures(generator):
    """Wan2.2 TI2V's layout: a small random Wan2.2 VAE (2x2 pixel patches in the channels, the
    residual shortcuts, 16x spatial compression) with its decoding and encoding, and the whole
    pipeline with per-token timesteps, from text alone (`WanPipeline`) and from a still
    (`WanImageToVideoPipeline`, whose latents stand for the first frame), from fixed latents."""
    from diffusers import AutoencoderKLWan, WanImageToVideoPipeline, WanPipeline

    folder = FIXTURES / "wan-ti2v"
    z_dim = 12
    vae = AutoencoderKLWan(
        base_dim=8,
        z_dim=z_dim,
        dim_mult=[1, 2, 2, 2],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        is_residual=True,
        patch_size=2,
        in_channels=12,
        out_channels=12,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        latents_mean=[round(0.1 * ((i * 5) % 7 - 3), 2) for i in range(z_dim)],
        latents_std=[round(0.7 + 0.1 * ((i * 3) % 5), 2) for i in range(z_dim)],
    ).eval()
    randomise(vae, generator)
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if name.endswith("gamma"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
    mean, std = normalisation(vae)
    record = {}
    latents = torch.randn(1, z_dim, 3, 2, 3, generator=generator)
    video = torch.rand(1, 3, 9, 32, 48, generator=generator) * 2 - 1
    with torch.no_grad():
        record["vae.latents"] = latents
        record["vae.frames"] = vae.decode(latents / std + mean, return_dict=False)[0]
        record["vae.video"] = video
        record["vae.encoded"] = (vae.encode(video).latent_dist.mode() - mean) * std

    transformer = tiny_transformer(folder / "transformer", generator, in_channels=z_dim, out_channels=z_dim)
    tokenizer, encoder = text_fixtures.parts
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=vae, scheduler=UniPCMultistepScheduler(**WAN_UNIPC), transformer=transformer, expand_timesteps=True)
    pipe.save_pretrained(folder, safe_serialization=True)
    pipe.set_progress_bar_config(disable=True)
    noise = torch.randn(1, z_dim, 2, 4, 6, generator=generator)
    record["latents"] = noise
    run = dict(prompt="a red fox runs through the snow", negative_prompt="blurry, dark", height=64, width=96, num_frames=5, num_inference_steps=4, guidance_scale=5.0, output_type="np")
    with torch.no_grad():
        record["text.frames"] = torch.from_numpy(pipe(latents=noise.clone(), **run).frames).float().contiguous()
    still, pixels = smooth_image(generator, 96, 64)
    record["still"] = pixels
    i2v = WanImageToVideoPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=vae, scheduler=UniPCMultistepScheduler(**WAN_UNIPC), transformer=transformer, expand_timesteps=True)
    i2v.set_progress_bar_config(disable=True)
    with torch.no_grad():
        record["image.frames"] = torch.from_numpy(i2v(image=still, latents=noise.clone(), **run).frames).float().contiguous()
    save_file(record, folder / "pipeline_io.safetensors")
    del run["output_type"]
    (folder / "pipeline_io.json").write_text(json.dumps(run, indent=1))
    return vae


def two_expert_fixtures(high, vae, generator):
    """Wan2.2 A14B's layout: two experts, the high-noise one (transformer/) while the timestep is
    at or above boundary_ratio of the schedule and the low-noise one (transformer_2/) after, each
    with its own guidance; the whole pipeline from fixed latents."""
    from diffusers import WanPipeline

    folder = FIXTURES / "wan-a14b"
    low = tiny_transformer(folder / "transformer_2", generator)
    tokenizer, encoder = text_fixtures.parts
    scheduler = UniPCMultistepScheduler(**WAN_UNIPC)
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=encoder, vae=vae, scheduler=scheduler, transformer=high, transformer_2=low, boundary_ratio=0.875)
    pipe.save_pretrained(folder, safe_serialization=True)
    pipe.set_progress_bar_config(disable=True)
    latents = torch.randn(1, 16, 3, 4, 6, generator=generator)
    run = dict(prompt="a red fox runs through the snow", negative_prompt="blurry, dark", height=32, width=48, num_frames=9, num_inference_steps=6, guidance_scale=4.0, guidance_scale_2=3.0, output_type="np")
    scheduler.set_timesteps(6)
    high_steps = int((scheduler.timesteps >= 875).sum())
    assert 0 < high_steps < 6, scheduler.timesteps
    with torch.no_grad():
        frames = pipe(latents=latents.clone(), **run).frames
    save_file({"latents": latents, "frames": torch.from_numpy(frames).float().contiguous()}, folder / "pipeline_io.safetensors")
    del run["output_type"]
    run["high_noise_steps"] = high_steps
    (folder / "pipeline_io.json").write_text(json.dumps(run, indent=1))


def tiled_fixtures(vae, folder, latent_size, generator):
    """diffusers' tiled decoding (tiles of 64 pixels every 48, blended over the overlap) of a
    latent video larger than a tile."""
    z_dim = vae.config.z_dim
    mean, std = normalisation(vae)
    latents = torch.randn(1, z_dim, 3, *latent_size, generator=generator)
    vae.enable_tiling(tile_sample_min_height=64, tile_sample_min_width=64, tile_sample_stride_height=48, tile_sample_stride_width=48)
    with torch.no_grad():
        frames = vae.decode(latents / std + mean, return_dict=False)[0]
    vae.disable_tiling()
    save_file({"latents": latents, "frames": frames}, FIXTURES / folder / "vae_tiled_io.safetensors")


def prompt_clean_reference(text):
    from diffusers.pipelines.wan.pipeline_wan import prompt_clean

    return prompt_clean(text)


def main():
    generator = torch.Generator().manual_seed(20261201)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    t2v = transformer_fixtures(generator)
    scheduler_fixtures(generator)
    denoise_fixtures(t2v, generator)
    text_fixtures(generator)
    vae = vae_fixtures(generator)
    pipeline_fixtures(t2v, vae, generator)
    vae_encode_fixtures(vae, generator)
    image_to_video_fixtures(vae, generator)
    vae22 = ti2v_fixtures(generator)
    two_expert_fixtures(t2v, vae, generator)
    tiled_fixtures(vae, "wan-t2v", (10, 14), generator)
    tiled_fixtures(vae22, "wan-ti2v", (5, 7), generator)
    print(f"fixtures written under {FIXTURES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
