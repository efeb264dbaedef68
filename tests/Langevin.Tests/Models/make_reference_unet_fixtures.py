#!/usr/bin/python3
"""Regenerates the reference-U-Net fixtures from the PyTorch peer (run once; outputs are committed).

    /usr/bin/python3 tests/Langevin.Tests/Models/make_reference_unet_fixtures.py

reference_unet_keys.txt    "key AxBxC" for every entry of ReferenceUNet().state_dict(), in order.
reference_unet_output.txt  the peer's eval-mode output for a deterministic input, with every parameter set by
                           deterministic_parameters() below (UNetTests mirrors it), one float per line.
"""
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "shared", "peers"))
import torch_unet  # noqa: E402


def deterministic_parameters(model):
    """Entry j (in state-dict order), element k: u = frac(43758.5453 sin(12.9898 k + 78.233 j)) - 1/2, a
    hash-like uniform on [-1/2, 1/2); weights u sqrt(12 / fan_in) (variance 1/fan_in), 1-D entries (biases,
    GroupNorm affine) 1 + u / 2 for norm weights and u / 5 otherwise."""
    with torch.no_grad():
        for j, (key, p) in enumerate(model.state_dict().items()):
            k = torch.arange(p.numel(), dtype=torch.float64)
            s = 43758.5453 * torch.sin(12.9898 * k + 78.233 * j)
            u = s - torch.floor(s) - 0.5
            if p.dim() > 1:
                v = u * math.sqrt(12.0 / (p.numel() / p.shape[0]))
            elif "norm" in key and key.endswith(".weight"):
                v = 1.0 + u / 2
            else:
                v = u / 5
            p.copy_(v.reshape(p.shape).float())


def deterministic_input():
    """x[b, 0, i, j] = sin(0.1 (28 i + j) + b), b = 0, 1; t = [3, 700]."""
    n = torch.arange(28 * 28, dtype=torch.float64)
    x = torch.stack([torch.sin(0.1 * n + b) for b in range(2)]).reshape(2, 1, 28, 28).float()
    return x, torch.tensor([3.0, 700.0])


def main():
    model = torch_unet.ReferenceUNet()
    with open(os.path.join(HERE, "reference_unet_keys.txt"), "w") as f:
        for key, value in model.state_dict().items():
            f.write(f"{key} {'x'.join(map(str, value.shape))}\n")
    deterministic_parameters(model)
    model.eval()
    x, t = deterministic_input()
    with torch.no_grad():
        y = model(x, t)
    with open(os.path.join(HERE, "reference_unet_output.txt"), "w") as f:
        for value in y.flatten().tolist():
            f.write(f"{value:.9g}\n")
    print(f"params {torch_unet.count_params(model)}, output mean {y.mean().item():.4f} std {y.std().item():.4f}, "
          f"std over the batch {y.std(0).mean().item():.4f}")


if __name__ == "__main__":
    main()
