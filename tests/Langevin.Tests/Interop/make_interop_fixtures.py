#!/usr/bin/python3
"""Regenerates the PyTorch interop fixtures (run once; outputs are committed). Needs Debian's python3-torch:

    apt-get install -y python3-torch
    /usr/bin/python3 tests/Langevin.Tests/Interop/make_interop_fixtures.py

Two small networks are built in PyTorch, key for key the library's, initialised with torch.manual_seed and written as
a state dict in safetensors (by hand: there is no safetensors module for Debian's torch) with the export config that
`langevin import` reads (docs/interop.md):

score_mlp.safetensors / .json   the score MLP (langevin_torch.ScoreMlp) of a DDPM run on moons: 2-D points, width 16, 2 hidden
                                layers, 6 Fourier features; F32.
score_mlp_output.txt            its output on mlp_input() below, one float per line.
unet.safetensors / .json        the reference U-Net at base 8, mults (1, 2), one res-block, no attention but the
                                middle's, for 3x8x8 images; stored F16 to stay small
                                (71,275 parameters), so the import's F16 → F32 conversion is exercised too. The model
                                computes with the F16-rounded weights in float32.
unet_output.txt                 its eval-mode output on unet_input() below, one float per line.

The committed files were made with shared/peers/torch_unet.py's ReferenceUNet (the benchmark's PyTorch peer, its
conv_in / conv_out swapped for 3 channels); the networks now come from python/langevin_torch.py, the module users load
exports with, and `fixtures` checks that it reproduces those committed outputs from the committed weights.

InteropTests mirrors mlp_input() and unet_input(). This script also loads a file back (read_safetensors) with
strict=True, the way docs/interop.md does. The System test PyTorchLoadTests runs `check EXPORT_DIR` against an export
of ours and `fixtures`.
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "python"))

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64"}


# ---------------------------------------------------------------------------------------------------- safetensors

def write_safetensors(path, tensors, metadata=None):
    """8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}} (+ __metadata__) padded
    with spaces to a multiple of 8, then the tensors' little-endian bytes, contiguous, in key order."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# read_safetensors and the networks (ScoreMlp, ReferenceUNet via build) are the ones users load exports with.
from langevin_torch import ScoreMlp, build, load, read_safetensors  # noqa: E402  python/langevin_torch.py


# ---------------------------------------------------------------------------------------------------- inputs

def mlp_input():
    """x[b, d] = 2 sin(0.7 (2 b + d) + 0.3), b < 5, d < 2; t = [0, 3, 250, 700, 999]."""
    n = torch.arange(10, dtype=torch.float64)
    return (2 * torch.sin(0.7 * n + 0.3)).reshape(5, 2).float(), torch.tensor([0.0, 3.0, 250.0, 700.0, 999.0])


def unet_input():
    """x[b, c, i, j] = sin(0.1 (64 c + 8 i + j) + b), b < 2; t = [3, 700]."""
    n = torch.arange(3 * 8 * 8, dtype=torch.float64)
    x = torch.stack([torch.sin(0.1 * n + b) for b in range(2)]).reshape(2, 3, 8, 8).float()
    return x, torch.tensor([3.0, 700.0])


# ---------------------------------------------------------------------------------------------------- fixtures

NETWORK = {"kind": "auto", "width": 256, "depth": 3, "fourier_features": 0, "base_channels": 32, "channel_mults": [1, 2, 2],
           "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0,
           "adm": {"heads": 4, "scale_shift_norm": True, "resblock_updown": True, "learn_sigma": False},
           "classes": 0, "label_dropout": 0.1}


def ddpm_config(data, steps, batch, lr, warmup, ema, network, limit=None):
    """A resolved `langevin train --method ddpm` config.json (what the CLI writes for these options)."""
    c = {"settings": {"method": "ddpm", "timesteps": 1000, "betas": "linear", "prediction": "eps", "loss": "simple"},
         "data": data, "steps": steps, "batch_size": batch, "learning_rate": lr, "optimizer": "adam",
         "adam_beta1": 0.9, "adam_beta2": 0.999, "weight_decay": 0, "warmup_steps": warmup, "grad_clip": 1,
         "ema_decay": ema, "ema_warmup": True, "checkpoint_every": 1000, "sample_every": 0, "log_every": 10, "seed": 0,
         "threads": 1, "device": "cpu", "horizontal_flip": False, "bf16": False}
    if limit is not None:
        c["data_limit"] = limit
    c["network"] = dict(NETWORK, **network)
    return c


def export_config(config, item_shape, module, pytorch_class, pytorch_args, parameters):
    return {"format": "langevin-export/1", "method": "ddpm", "step": 0, "weights": "ema", "item_shape": item_shape,
            "components": [{"name": "model", "prefix": "", "module": module, "parameters": parameters,
                            "pytorch_class": pytorch_class, "pytorch_args": pytorch_args}],
            "config": config}


def write_fixture(stem, model, export, x, t, dtype):
    model.eval()
    state = {k: v.to(dtype) for k, v in model.state_dict().items()}
    with torch.no_grad():                       # compute with the weights as stored
        for k, v in model.state_dict().items():
            v.copy_(state[k].float())
        y = model(x, t)
    path = os.path.join(HERE, stem + ".safetensors")
    write_safetensors(path, state, {"format": "pt"})
    with open(os.path.join(HERE, stem + ".json"), "w") as f:
        json.dump(export, f, indent=2)
        f.write("\n")
    with open(os.path.join(HERE, stem + "_output.txt"), "w") as f:
        for value in y.flatten().tolist():
            f.write(f"{value:.9g}\n")
    # read back the way docs/interop.md loads an export: strict, every key and shape
    again = build(export["components"][0])
    again.load_state_dict({k: v.float() for k, v in read_safetensors(path).items()}, strict=True)
    again.eval()
    with torch.no_grad():
        assert torch.equal(again(x, t), y)
    n = sum(p.numel() for p in model.parameters())
    print(f"{stem}: {len(state)} tensors, {n} parameters, {os.path.getsize(path)} bytes, output std {y.std().item():.4f}")


def main():
    torch.manual_seed(0)
    mlp_args = {"data_dim": 2, "hidden_width": 16, "hidden_layers": 2, "time_embed_dim": 32, "fourier_features": 6}
    mlp = ScoreMlp(**mlp_args)
    config = ddpm_config("moons", 2000, 512, 0.002, 100, 0.995, {"width": 16, "depth": 2, "fourier_features": 6})
    n = sum(p.numel() for p in mlp.parameters())
    write_fixture("score_mlp", mlp, export_config(config, [2], "ScoreMlp", "ScoreMlp", mlp_args, n), *mlp_input(), torch.float32)

    torch.manual_seed(1)
    unet_args = {"base": 8, "mults": [1, 2], "num_res_blocks": 1, "attn_resolutions": [], "resolution": 8, "dropout": 0.0,
                 "in_channels": 3}
    unet = build({"name": "model", "pytorch_class": "ReferenceUNet", "pytorch_args": unet_args})
    with torch.no_grad():                       # GroupNorm's affine is 1 / 0 at init; give it values a test can see
        for name, p in unet.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    config = ddpm_config("shapes:8", 1000, 8, 0.001, 0, 0.999,
                         {"base_channels": 8, "channel_mults": [1, 2], "num_res_blocks": 1}, limit=64)
    n = sum(p.numel() for p in unet.parameters())
    write_fixture("unet", unet, export_config(config, [3, 8, 8], "UNet", "ReferenceUNet", unet_args, n), *unet_input(), torch.float16)


def inputs(component):
    return mlp_input() if component["pytorch_class"] == "ScoreMlp" else unet_input()


def check(export_dir):
    """Loads an export of ours into the PyTorch model the way users do (langevin_torch.load: strict=True) and prints
    its output on the fixture input, one float per line (PyTorchLoadTests compares it with ours)."""
    model, export = load(export_dir)
    with torch.no_grad():
        for value in model(*inputs(export["components"][0])).flatten().tolist():
            print(f"{value:.9g}")


def fixtures():
    """The committed fixtures' weights, loaded strictly into langevin_torch's classes, give the committed outputs
    (made by the networks that wrote them) to within 1e-5; prints the largest difference per fixture."""
    worst = {}
    for stem in ("score_mlp", "unet"):
        with open(os.path.join(HERE, stem + ".json")) as f:
            (component,) = json.load(f)["components"]
        model = build(component)
        model.load_state_dict({k: v.float() for k, v in read_safetensors(os.path.join(HERE, stem + ".safetensors")).items()},
                              strict=True)
        with torch.no_grad():
            y = model.eval()(*inputs(component)).flatten()
        with open(os.path.join(HERE, stem + "_output.txt")) as f:
            expected = torch.tensor([float(line) for line in f if line.strip()])
        if y.shape != expected.shape:
            raise SystemExit(f"{stem}: {y.numel()} outputs, the fixture has {expected.numel()}")
        worst[stem] = (y - expected).abs().max().item()
        print(f"{stem}: {y.numel()} outputs, largest difference {worst[stem]:.3g}")
    if max(worst.values()) >= 1e-5:
        raise SystemExit(f"langevin_torch differs from the committed fixtures by up to {max(worst.values()):.3g}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "fixtures":
        fixtures()
    else:
        main()
