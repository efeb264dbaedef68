#!/usr/bin/python3
"""Load a `langevin export` in PyTorch (docs/interop.md). Needs only torch (Debian's python3-torch will do):

    import langevin_torch
    model, export = langevin_torch.load("DIR")          # DIR holds model.safetensors + model.json
    eps = model(x, t)                                   # eval mode, strict-loaded EMA weights

or, from a shell, `python3 python/langevin_torch.py DIR` prints what it loaded.

The classes name their parameters key for key as the library's ScoreMlp and reference-layout UNet do, so the state
dict loads with strict=True; `load` builds the class an export's component names (pytorch_class, pytorch_args).
ReferenceUNet is the network of shared/bench/reference-unet.md (the benchmark's PyTorch peer builds the same one);
the System test PyTorchLoadTests checks it against outputs that peer produced.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

_CODES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    """The tensors of a safetensors file: 8-byte little-endian header length, a JSON header
    {name: {dtype, shape, data_offsets}}, then the little-endian data (no safetensors package needed)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data, out = raw[8 + n:], {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        dtype = _CODES[e["dtype"]]
        buf = bytearray(data[begin:end])
        if not buf:
            t = torch.empty(0, dtype=dtype)
        elif dtype == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(buf, dtype=dtype)
        out[name] = t.reshape(e["shape"])
    return out


def sinusoidal_embedding(t, dim=32):
    """Half sin, half cos at frequencies exp(-ln(10000) i / (dim/2)), i < dim/2 (the library's TimeEmbedding)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32, device=t.device) * (-math.log(10000.0) / half))
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ScoreMlp(nn.Module):
    """concat(x, sin/cos(2^k pi x / 4) for k < K, sinusoidal(t)) -> (Linear, SiLU) x L -> Linear."""

    def __init__(self, data_dim=2, hidden_width=256, hidden_layers=3, time_embed_dim=32, fourier_features=0):
        super().__init__()
        self.time_embed_dim, self.fourier_features = time_embed_dim, fourier_features
        layers, inputs = [], data_dim * (1 + 2 * fourier_features) + time_embed_dim
        for _ in range(hidden_layers):
            layers += [nn.Linear(inputs, hidden_width), nn.SiLU()]
            inputs = hidden_width
        layers.append(nn.Linear(inputs, data_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x, t):
        k = self.fourier_features
        if k:
            freqs = 2.0 ** torch.arange(k, dtype=x.dtype, device=x.device) * (math.pi / 4)
            angles = (x[:, :, None] * freqs).reshape(x.shape[0], -1)
            x = torch.cat([x, angles.sin(), angles.cos()], 1)
        return self.net(torch.cat([x, sinusoidal_embedding(t, self.time_embed_dim)], 1))


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, + projected time embedding, GroupNorm-SiLU-dropout-conv, + (1x1 conv) skip (Ho et al. 2020)."""

    def __init__(self, cin, cout, temb_dim, dropout):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb_dim, cout)
        self.norm2, self.dropout = nn.GroupNorm(8, cout), nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x))) + self.temb_proj(F.silu(temb))[:, :, None, None]
        return self.skip(x) + self.conv2(self.dropout(F.silu(self.norm2(h))))


class AttnBlock(nn.Module):
    """Single-head self-attention over the H W positions, residual."""

    def __init__(self, c):
        super().__init__()
        self.norm = nn.GroupNorm(8, c)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.norm(x)
        q, k, v = (m(h).reshape(b, c, hh * ww) for m in (self.q, self.k, self.v))
        w = torch.softmax(torch.bmm(q.transpose(1, 2), k) * c ** -0.5, dim=-1)     # [B, N, N]
        return x + self.proj_out(torch.bmm(v, w.transpose(1, 2)).reshape(b, c, hh, ww))


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ReferenceUNet(nn.Module):
    """The DDPM-layout U-Net of the library's reference layout: per level num_res_blocks ResBlocks (each followed by
    attention at attn_resolutions) and a Downsample; a ResBlock-Attn-ResBlock middle; per level num_res_blocks + 1
    ResBlocks each taking one skip, then an Upsample. Time embedding 32 -> 128 -> 128."""

    def __init__(self, base=32, mults=(1, 2, 2), num_res_blocks=2, attn_resolutions=(7,), resolution=28, dropout=0.1,
                 in_channels=1, temb_dim=128):
        super().__init__()
        self.temb = nn.Sequential(nn.Linear(32, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        self.conv_in = nn.Conv2d(in_channels, base, 3, padding=1)
        self.down, self.up = nn.ModuleList(), nn.ModuleList()
        skips, ch, res = [base], base, resolution
        for level, mult in enumerate(mults):
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(ch, base * mult, temb_dim, dropout))
                ch = base * mult
                if res in attn_resolutions:
                    self.down.append(AttnBlock(ch))
                skips.append(ch)
            if level != len(mults) - 1:
                self.down.append(Downsample(ch))
                res //= 2
                skips.append(ch)
        self.mid = nn.ModuleList([ResBlock(ch, ch, temb_dim, dropout), AttnBlock(ch), ResBlock(ch, ch, temb_dim, dropout)])
        for level, mult in reversed(list(enumerate(mults))):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(ch + skips.pop(), base * mult, temb_dim, dropout))
                ch = base * mult
                if res in attn_resolutions:
                    self.up.append(AttnBlock(ch))
            if level != 0:
                self.up.append(Upsample(ch))
                res *= 2
        self.norm_out = nn.GroupNorm(8, ch)
        self.conv_out = nn.Conv2d(ch, in_channels, 3, padding=1)

    def forward(self, x, t):
        temb = self.temb(sinusoidal_embedding(t))
        h = self.conv_in(x)
        skips = [h]
        for m in self.down:
            if isinstance(m, ResBlock):
                h = m(h, temb)
                skips.append(h)
            elif isinstance(m, AttnBlock):
                h = skips[-1] = m(h)            # attention's output replaces its ResBlock's on the skip stack
            else:
                h = m(h)
                skips.append(h)
        for m in self.mid:
            h = m(h, temb) if isinstance(m, ResBlock) else m(h)
        for m in self.up:
            h = m(torch.cat([h, skips.pop()], 1), temb) if isinstance(m, ResBlock) else m(h)
        return self.conv_out(F.silu(self.norm_out(h)))


CLASSES = {"ScoreMlp": ScoreMlp, "ReferenceUNet": ReferenceUNet}


def build(component):
    """The PyTorch model an export's component names (its pytorch_class and pytorch_args), freshly initialised."""
    cls = CLASSES.get(component["pytorch_class"])
    if cls is None:
        raise SystemExit(f"no PyTorch class for component {component['name']} ({component['pytorch_class']}); "
                         f"this module has {', '.join(CLASSES)}")
    args = dict(component["pytorch_args"])
    for key in ("mults", "attn_resolutions"):
        if key in args:
            args[key] = tuple(args[key])
    return cls(**args)


def load(export_dir, component="model"):
    """(model, export): the named component of DIR/model.json built and strict-loaded from DIR/model.safetensors
    (its keys under the component's prefix), in eval mode, float32."""
    with open(os.path.join(export_dir, "model.json")) as f:
        export = json.load(f)
    matches = [c for c in export["components"] if c["name"] == component]
    if not matches:
        raise SystemExit(f"{export_dir}/model.json has no component {component!r} "
                         f"(it has {', '.join(c['name'] for c in export['components'])})")
    c = matches[0]
    prefix = c.get("prefix", "")
    state = {k[len(prefix):]: v.float() for k, v in read_safetensors(os.path.join(export_dir, "model.safetensors")).items()
             if k.startswith(prefix)}
    model = build(c)
    model.load_state_dict(state, strict=True)
    return model.eval(), export


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python3 langevin_torch.py EXPORT_DIR")
    model, export = load(sys.argv[1])
    n = sum(p.numel() for p in model.parameters())
    print(f"{type(model).__name__}: {n} parameters, method {export['method']}, step {export['step']}, "
          f"weights {export['weights']}, items {export['item_shape']}")
