"""PyTorch's side of `reel bench train`: the same swap network (DF or LIAE), losses and optimiser
as reel's trainer, on the initial weights and the batch that reel wrote, timed per iteration.
Prints one JSON line: the losses (for parity) and the seconds of each step.

    python tools/reference/bench_swap_train.py DIR ITERATIONS

DIR holds `config.json` (reel's model config and learning rate), `weights.safetensors` (named as
reel names them) and `batch.safetensors` (input, target, mask and priority of both people).
"""

import json
import math
import sys
import time


def main(folder, iterations):
    import torch
    import torch.nn.functional as F
    from safetensors.torch import load_file

    cfg = json.load(open(f"{folder}/config.json"))
    params = {k: torch.nn.Parameter(v) for k, v in load_file(f"{folder}/weights.safetensors").items()}
    batch = load_file(f"{folder}/batch.safetensors")
    res, slope = cfg["resolution"], 0.1

    def conv(x, name, stride=1, pad=1, up=False, act=True):
        if up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        y = F.conv2d(x, params[f"{name}.weight"], params[f"{name}.bias"], stride, pad)
        return F.leaky_relu(y, slope) if act else y

    def linear(x, name):
        return F.linear(x, params[f"{name}.weight"], params[f"{name}.bias"])

    def encoder(x):
        for i in range(4):
            x = conv(x, f"encoder.down{i}", stride=2, pad=2)
        return x.flatten(1)

    def inter(features, name):
        lowest = res // 16
        z = linear(linear(features, f"{name}.to_latent"), f"{name}.from_latent")
        return conv(z.reshape(z.shape[0], -1, lowest, lowest), f"{name}.up", up=True)

    def decoder(code, name):
        for i in range(3):
            code = conv(code, f"{name}.up{i}", up=True)
        out = torch.sigmoid(conv(code, f"{name}.out", pad=2, act=False))
        return out[:, :3], out[:, 3:]

    def reconstruct(x, person):
        features = encoder(x)
        if cfg["architecture"] == "df":
            return decoder(inter(features, "inter"), f"decoder_{'ab'[person]}")
        ab = inter(features, "inter_ab")
        own = ab if person == 0 else inter(features, "inter_b")
        return decoder(torch.cat([own, ab], 1), "decoder")

    def swap(x):
        features = encoder(x)
        if cfg["architecture"] == "df":
            return decoder(inter(features, "inter"), "decoder_a")
        ab = inter(features, "inter_ab")
        return decoder(torch.cat([ab, ab], 1), "decoder")

    # SSIM over a Gaussian window (sigma 1.5, 7 taps, zero padding), separable as the fast
    # PyTorch implementations write it.
    taps = torch.tensor([math.exp(-((i - 3) ** 2) / (2 * 1.5**2)) for i in range(7)])
    taps = taps / taps.sum()

    def blur(t):
        c = t.shape[1]
        t = F.conv2d(t, taps.view(1, 1, 1, 7).repeat(c, 1, 1, 1), padding=(0, 3), groups=c)
        return F.conv2d(t, taps.view(1, 1, 7, 1).repeat(c, 1, 1, 1), padding=(3, 0), groups=c)

    def ssim(a, b):
        c1, c2 = 0.01**2, 0.03**2
        ma, mb = blur(a), blur(b)
        saa = blur(a * a) - ma * ma
        sbb = blur(b * b) - mb * mb
        sab = blur(a * b) - ma * mb
        num = (2 * ma * mb + c1) * (2 * sab + c2)
        den = (ma * ma + mb * mb + c1) * (saa + sbb + c2)
        return (num / den).mean()

    def loss(person):
        p = "ab"[person]
        face, mask = reconstruct(batch[f"{p}_input"], person)
        m = batch[f"{p}_mask"]
        pm, tm = face * m, batch[f"{p}_target"] * m
        dssim = (1 - ssim(pm, tm)) / 2
        mse = ((pm - tm) ** 2).mean()
        focus = ((face - batch[f"{p}_target"]) ** 2 * batch[f"{p}_priority"]).mean()
        mask_loss = ((mask - m) ** 2).mean()
        return dssim * 10 + mse * 10 + focus * 30 + mask_loss * 10

    opt = torch.optim.Adam(params.values(), lr=cfg["learning_rate"], betas=(0.5, 0.999), eps=1e-7)
    losses, steps = [], []
    for _ in range(iterations + 1):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        total = loss(0) + loss(1)
        total.backward()
        opt.step()
        steps.append(time.perf_counter() - t)
        losses.append(total.item())

    with torch.no_grad():
        face = torch.full((1, 3, res, res), 0.5)
        swap(face)
        forward = []
        for _ in range(10):
            t = time.perf_counter()
            swap(face)
            forward.append(time.perf_counter() - t)

    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "losses": losses,
        "steps_s": steps[1:],
        "swap_s": forward,
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
