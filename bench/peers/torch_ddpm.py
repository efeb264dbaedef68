#!/usr/bin/python3
"""PyTorch peer of `langevin train --method ddpm` on Fashion-MNIST (issue 3, section 8).

Trains the reference U-Net of shared/peers/torch_unet.py as a DDPM (Ho et al. 2020): linear betas
1e-4..0.02 over T = 1000, L_simple (epsilon MSE at a uniform integer t), batch 128 drawn uniformly with
replacement, Adam 2e-4 without warm-up or gradient clipping, EMA 0.999 with warm-up
min(0.999, (1+n)/(10+n)). Then samples N images from the EMA weights with DDIM (eta = 0, 50 steps, leading
spacing, steps_offset 0, set_alpha_to_one, no per-step clipping; the output is clamped to [-1, 1]) and writes
them as float32 .npy [N, 1, 28, 28] in [0, 1] -- the convention of `langevin sample --out` for images.

Usage (Debian's interpreter and python3-torch):

    /usr/bin/python3 bench/peers/torch_ddpm.py --steps 700 --n 1000 --threads 2 --out torch_ddpm.npy

The last line printed is JSON: steps, final loss (mean of the last 50), train and sample seconds.
"""

import argparse
import copy
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

PEERS = os.environ.get("LANGEVIN_PEERS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "peers"))
sys.path.insert(0, os.path.abspath(PEERS))
from torch_unet import ReferenceUNet, ddpm_loss  # noqa: E402  (the shared reference network and L_simple)

T_STEPS = 1000


def load_fashion_mnist(folder):
    """train-images-idx3-ubyte.gz -> float32 [N, 1, 28, 28] in [-1, 1] (uint8 / 127.5 - 1)."""
    path = os.path.join(folder, "train-images-idx3-ubyte.gz")
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 2051:
        sys.exit(f"{path}: not an IDX image file (magic {magic})")
    images = np.frombuffer(raw[16:16 + n * rows * cols], dtype=np.uint8).reshape(n, 1, rows, cols)
    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)


def alphas_cumprod():
    """diffusers' tables: betas = linspace(1e-4, 0.02, T) and cumprod(1 - betas) in float32."""
    betas = torch.linspace(1e-4, 0.02, T_STEPS, dtype=torch.float32)
    return torch.cumprod(1.0 - betas, dim=0)


@torch.no_grad()
def ema_update(ema, model, n_updates, decay=0.999):
    d = min(decay, (1.0 + n_updates) / (10.0 + n_updates))
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.mul_(d).add_(pm, alpha=1.0 - d)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


@torch.no_grad()
def ddim_sample(model, noise, abar, steps=50):
    """DDIM eta = 0 (Song et al. 2021, Eq. 12) on diffusers' leading timesteps [980, 960, ..., 0] for 50 steps."""
    ratio = T_STEPS // steps
    timesteps = (np.arange(0, steps) * ratio)[::-1]
    x = noise
    for t in timesteps:
        a_t = abar[t]
        a_prev = abar[t - ratio] if t - ratio >= 0 else torch.tensor(1.0)   # set_alpha_to_one
        eps = model(x, torch.full((x.shape[0],), float(t)))
        x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x.clamp(-1, 1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=700)
    p.add_argument("--n", type=int, default=1000, help="images to sample")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--sample-steps", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--out", default="torch_ddpm.npy")
    a = p.parse_args()
    if a.steps < 1 or a.n < 1 or T_STEPS % a.sample_steps != 0:
        sys.exit("--steps and --n must be >= 1 and --sample-steps must divide 1000")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = load_fashion_mnist(a.data)
    abar = alphas_cumprod()
    model = ReferenceUNet()
    ema = copy.deepcopy(model)
    ema.eval()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)

    t0 = time.perf_counter()
    losses = []
    model.train()
    for step in range(a.steps):
        idx = torch.randint(0, data.shape[0], (a.batch,))
        loss = ddpm_loss(model, data[idx], abar)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema_update(ema, model, step)
        losses.append(loss.item())
        if (step + 1) % 50 == 0 or step + 1 == a.steps:
            print(f"step {step + 1}/{a.steps} loss {np.mean(losses[-50:]):.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    train_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    gen = torch.Generator().manual_seed(a.seed)
    chunks = []
    for start in range(0, a.n, 250):
        noise = torch.randn(min(250, a.n - start), 1, 28, 28, generator=gen)
        chunks.append(ddim_sample(ema, noise, abar, a.sample_steps))
    images = ((torch.cat(chunks) + 1) / 2).clamp(0, 1).numpy().astype(np.float32)
    sample_s = time.perf_counter() - t1
    np.save(a.out, images)
    print(f"wrote {a.out} {list(images.shape)}")
    print(json.dumps({"steps": a.steps, "loss": round(float(np.mean(losses[-50:])), 5), "train_s": round(train_s, 1),
                      "sample_s": round(sample_s, 1), "n": a.n, "out": a.out}))


if __name__ == "__main__":
    main()
