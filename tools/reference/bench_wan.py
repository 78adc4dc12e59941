"""diffusers' side of `reel bench gen`: WanPipeline's denoising loop (guidance on, UniPC) on the
transformer folder and inputs that reel wrote, timed per step. Prints one JSON line.

    python tools/reference/bench_wan.py DIR STEPS GUIDANCE
"""

import json
import sys
import time


def main(folder, steps, guidance):
    started = time.perf_counter()
    import torch
    from diffusers import UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
    from safetensors.torch import load_file

    torch.set_grad_enabled(False)
    config = WanTransformer3DModel.load_config(f"{folder}/transformer")
    transformer = WanTransformer3DModel.from_config(config).eval()
    transformer.load_state_dict(load_file(f"{folder}/transformer/diffusion_pytorch_model.safetensors"))
    inputs = load_file(f"{folder}/inputs.safetensors")
    scheduler = UniPCMultistepScheduler.from_pretrained(f"{folder}/scheduler")
    pipe = WanPipeline(tokenizer=None, text_encoder=None, vae=None, scheduler=scheduler, transformer=transformer)
    pipe.set_progress_bar_config(disable=True)
    loaded = time.perf_counter()
    latents = inputs["latents"]
    frames = (latents.shape[2] - 1) * 4 + 1
    marks = [time.perf_counter()]

    def on_step(pipeline, i, t, kwargs):
        marks.append(time.perf_counter())
        return kwargs

    pipe(
        prompt_embeds=inputs["prompt"],
        negative_prompt_embeds=inputs["negative"],
        latents=latents,
        height=latents.shape[3] * 8,
        width=latents.shape[4] * 8,
        num_frames=frames,
        num_inference_steps=steps,
        guidance_scale=guidance,
        output_type="latent",
        callback_on_step_end=on_step,
    )
    done = time.perf_counter()
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_s": loaded - started,
        "steps_s": [b - a for a, b in zip(marks, marks[1:])],
        "total_s": done - started,
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
