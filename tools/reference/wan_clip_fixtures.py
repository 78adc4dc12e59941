"""The diffusers outputs that reel's clip pipelines are compared against: video to video
(`WanVideoToVideoPipeline`, restyling) on the small random text-to-video folder, and first and
last frame to video (`WanImageToVideoPipeline` with `last_image`, bridging and loops) on a small
random FLF2V folder built here (the I2V folder's parts with a transformer that takes two
images' tokens with learnt positions). It reads the folders tools/reference/wan_fixtures.py
wrote and adds its own records beside them, so the older fixtures stay as they are. Run it in
the same environment:

    .venv-wan/bin/python tools/reference/wan_clip_fixtures.py
"""

import json
import pathlib

import torch
from diffusers import (
    FlowMatchEulerDiscreteScheduler,
    UniPCMultistepScheduler,
    WanImageToVideoPipeline,
    WanPipeline,
    WanVideoToVideoPipeline,
)
from safetensors.torch import save_file

from wan_fixtures import WAN_UNIPC, randomise, smooth_image, tiny_transformer

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "crates" / "reel-diffusion" / "tests" / "fixtures"
PROMPT = dict(prompt="a red fox runs through the snow", negative_prompt="blurry, dark")


def moving_clip(generator, frames, width, height):
    """A clip of `frames` stills: a window sliding over a larger smooth picture."""
    from PIL import Image

    big, _ = smooth_image(generator, width + 2 * frames, height + frames)
    clip = []
    for i in range(frames):
        clip.append(big.crop((2 * i, i, 2 * i + width, i + height)))
    pixels = torch.stack([torch.from_numpy(__import__("numpy").asarray(f).copy()) for f in clip])
    return clip, pixels


def video_to_video(generator):
    folder = FIXTURES / "wan-t2v"
    base = WanPipeline.from_pretrained(folder)
    record = {}
    clip, pixels = moving_clip(generator, 9, 48, 32)
    record["video"] = pixels
    # The noise the pipeline mixes in, drawn again from the same seed it is given.
    seed = 7
    shape = (1, 16, 3, 4, 6)
    record["latents"] = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    run = dict(**PROMPT, height=32, width=48, num_inference_steps=6, guidance_scale=5.0)
    cases = {}
    for name, scheduler, strength in [
        ("unipc", UniPCMultistepScheduler(**WAN_UNIPC), 0.6),
        ("euler", FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0), 0.5),
        ("full", UniPCMultistepScheduler(**WAN_UNIPC), 1.0),
    ]:
        pipe = WanVideoToVideoPipeline(tokenizer=base.tokenizer, text_encoder=base.text_encoder, vae=base.vae, scheduler=scheduler, transformer=base.transformer)
        pipe.set_progress_bar_config(disable=True)
        with torch.no_grad():
            frames = pipe(video=clip, strength=strength, generator=torch.Generator().manual_seed(seed), output_type="np", **run).frames
        record[f"{name}.frames"] = torch.from_numpy(frames).float().contiguous()
        cases[name] = dict(strength=strength, scheduler="unipc" if name != "euler" else "euler")
    save_file(record, folder / "video_to_video_io.safetensors")
    (folder / "video_to_video_io.json").write_text(json.dumps(dict(run, num_frames=len(clip), cases=cases), indent=1))


def first_last_frame(generator):
    source = WanImageToVideoPipeline.from_pretrained(FIXTURES / "wan-i2v")
    folder = FIXTURES / "wan-flf2v"
    tokens = (source.image_encoder.config.image_size // source.image_encoder.config.patch_size) ** 2 + 1
    transformer = tiny_transformer(folder / "transformer", generator, in_channels=36, image_dim=40, added_kv_proj_dim=48, pos_embed_seq_len=2 * tokens)
    pipe = WanImageToVideoPipeline(
        tokenizer=source.tokenizer,
        text_encoder=source.text_encoder,
        image_encoder=source.image_encoder,
        image_processor=source.image_processor,
        transformer=transformer,
        vae=source.vae,
        scheduler=UniPCMultistepScheduler(**WAN_UNIPC),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    # The parts loaded from another fixture name the folder they came from: no path of this
    # machine goes into the fixture.
    for config in folder.glob("*/config.json"):
        config.write_text("".join(l for l in config.read_text().splitlines(keepends=True) if '"_name_or_path"' not in l))
    pipe.set_progress_bar_config(disable=True)
    record = {}
    first, first_pixels = smooth_image(generator, 64, 64)
    last, last_pixels = smooth_image(generator, 64, 64)
    record["first"] = first_pixels
    record["last"] = last_pixels
    # Nine frames: the last frame sits in the second latent frame's fourth place.
    latents = torch.randn(1, 16, 3, 8, 8, generator=generator)
    record["latents"] = latents
    run = dict(**PROMPT, height=64, width=64, num_frames=9, num_inference_steps=4, guidance_scale=5.0)
    with torch.no_grad():
        record["frames"] = torch.from_numpy(pipe(image=first, last_image=last, latents=latents.clone(), output_type="np", **run).frames).float().contiguous()
        # A loop: the same still first and last.
        record["loop.frames"] = torch.from_numpy(pipe(image=first, last_image=first, latents=latents.clone(), output_type="np", **run).frames).float().contiguous()
    save_file(record, folder / "pipeline_io.safetensors")
    (folder / "pipeline_io.json").write_text(json.dumps(run, indent=1))


def main():
    generator = torch.Generator().manual_seed(20261202)
    video_to_video(generator)
    first_last_frame(generator)
    print(f"clip fixtures written under {FIXTURES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
