#!/usr/bin/python3
"""PyTorch peer of `langevin sample` for the sampling-throughput benchmark (`Langevin.Bench sampling`, issue 16).

Loads a `langevin export` (python/langevin_torch.py: the reference U-Net, strict-loaded EMA weights) and draws N
images from given start noise with one of two samplers, in batches of B, under no_grad:

  ddim  DDIM eta = 0 (Song et al. 2021, Eq. 12) on diffusers' leading timesteps, set_alpha_to_one: the library's
        `--sampler ddim --steps S` on a DDPM run (1 network call per step).
  edm   EDM's deterministic Heun sampler (Karras et al. 2022, Alg. 1/2 with S_churn = 0) on Karras sigmas (rho 7)
        between the discrete VP table's smallest and largest sigma, sigma -> t by interpolating log sigma in the
        table (k-diffusion's DiscreteSchedule), D(x, sigma) = x - sigma * eps(x / sqrt(1 + sigma^2), t): the library's
        `--sampler edm --steps S` on a DDPM run (2 S - 1 network calls).

Usage (Debian's interpreter and python3-torch):

    /usr/bin/python3 bench/peers/torch_sampling.py --export DIR --noise Z.npy --sampler ddim --steps 50 \
        --batch 125 --threads 2 --out X.npy

Writes the samples as float32 .npy [N, 1, 28, 28] in [0, 1] (the library's convention for images); the last line
printed is JSON: sampler, steps, nfe, n, batch, seconds (sampling only), samples_per_s, maxrss_mb.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import langevin_torch  # noqa: E402

T_STEPS = 1000


def alphas_cumprod():
    """diffusers' tables: betas = linspace(1e-4, 0.02, T) and cumprod(1 - betas) in float32."""
    betas = torch.linspace(1e-4, 0.02, T_STEPS, dtype=torch.float32)
    return torch.cumprod(1.0 - betas, dim=0)


@torch.no_grad()
def ddim(model, x, abar, steps):
    ratio = T_STEPS // steps
    for t in (np.arange(0, steps) * ratio)[::-1]:
        a_t = abar[t]
        a_prev = abar[t - ratio] if t - ratio >= 0 else torch.tensor(1.0)
        eps = model(x, torch.full((x.shape[0],), float(t)))
        x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x


@torch.no_grad()
def edm(model, z, abar, steps, rho=7.0):
    table = ((1 - abar) / abar).sqrt().double()
    log_table = table.log()
    smin, smax = table[0].item(), table[-1].item()
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
    sigmas = (smax ** (1 / rho) + ramp * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    sigmas = torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)])

    def t_of(sigma):
        ls = np.log(sigma)
        i = int(np.clip(np.searchsorted(log_table.numpy(), ls) - 1, 0, T_STEPS - 2))
        lo, hi = log_table[i].item(), log_table[i + 1].item()
        w = min(max((lo - ls) / (lo - hi), 0.0), 1.0)
        return (1 - w) * i + w * (i + 1)

    def denoise(x, sigma):
        eps = model(x / np.sqrt(1 + sigma * sigma), torch.full((x.shape[0],), t_of(sigma), dtype=torch.float32))
        return x - sigma * eps

    x = z * sigmas[0].item()
    for i in range(steps):
        s, n = sigmas[i].item(), sigmas[i + 1].item()
        d = (x - denoise(x, s)) / s
        x_next = x + (n - s) * d
        if n > 0:
            d2 = (x_next - denoise(x_next, n)) / n
            x_next = x + (n - s) * (d + d2) / 2
        x = x_next
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--export", required=True, help="a `langevin export` folder (model.safetensors + model.json)")
    p.add_argument("--noise", required=True, help="unit Gaussian start noise, float32 .npy [N, 1, 28, 28]")
    p.add_argument("--sampler", choices=["ddim", "edm"], required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--batch", type=int, default=125)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--out")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model, _ = langevin_torch.load(a.export)
    abar = alphas_cumprod()
    z = torch.from_numpy(np.load(a.noise).astype(np.float32))
    out = []
    start = time.perf_counter()
    for b in range(0, z.shape[0], a.batch):
        chunk = z[b:b + a.batch]
        x = ddim(model, chunk, abar, a.steps) if a.sampler == "ddim" else edm(model, chunk, abar, a.steps)
        out.append(((x.clamp(-1, 1) + 1) / 2).float())
    seconds = time.perf_counter() - start
    samples = torch.cat(out).numpy()
    if a.out:
        np.save(a.out, samples)
    nfe = a.steps if a.sampler == "ddim" else 2 * a.steps - 1
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}: {a.sampler} {a.steps} steps (NFE {nfe}), "
          f"{z.shape[0]} samples in batches of {a.batch}: {seconds:.1f} s, {z.shape[0] / seconds:.2f} samples/s")
    print(json.dumps({"sampler": a.sampler, "steps": a.steps, "nfe": nfe, "n": int(z.shape[0]), "batch": a.batch,
                      "seconds": round(seconds, 2), "samples_per_s": round(z.shape[0] / seconds, 3),
                      "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main()
