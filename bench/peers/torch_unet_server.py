#!/usr/bin/python3
"""The reference U-Net peer as a server, for timing interleaved with ours (`Langevin.Bench ref-unet --interleave N`).

Builds shared/peers/torch_unet.py's ReferenceUNet and its benchmark work items exactly as its `bench` mode does (train
step: batch 128, DDPM epsilon-MSE, Adam 2e-4; inference: batch 256 under no_grad, eval mode), warms both up, prints
"ready", then for each line on stdin -- "train" or "infer" -- runs one work item and prints its wall time in ms; "quit"
ends it. One step of ours and one of the peer alternate, seconds apart, so a slow phase of the machine falls on both.

The shared peer is found at $LANGEVIN_SHARED/peers or ../shared/peers from the repository root.
"""
import os
import sys
import time

import torch

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get("LANGEVIN_SHARED", os.path.join(here, "..", "..", "..", "shared"))
sys.path.insert(0, os.path.join(shared, "peers"))
import torch_unet  # noqa: E402


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count())
    torch.manual_seed(0)
    model = torch_unet.ReferenceUNet()
    alphas_cumprod = torch.cumprod(1.0 - torch_unet.linear_betas(), dim=0)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    x0 = torch.rand(128, 1, 28, 28) * 2 - 1
    xb = torch.randn(256, 1, 28, 28)
    tb = torch.randint(0, torch_unet.T_STEPS, (256,)).float()

    def train():
        model.train()
        opt.zero_grad(set_to_none=True)
        torch_unet.ddpm_loss(model, x0, alphas_cumprod).backward()
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            model(xb, tb)

    work = {"train": train, "infer": infer}
    for _ in range(2):
        train()
        infer()
    print("ready", flush=True)
    for line in sys.stdin:
        item = line.strip()
        if item == "quit":
            break
        t0 = time.perf_counter()
        work[item]()
        print(f"{(time.perf_counter() - t0) * 1000:.2f}", flush=True)


if __name__ == "__main__":
    main()
