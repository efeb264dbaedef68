"""PyTorch peer of `dotnet run --project bench/Langevin.Bench -c Release -- mlp`: the same 2-D DDPM epsilon-MLP
(2 -> 3x256 SiLU, sinusoidal time embedding 32, concatenated), a train step at batch 1024 (eps-MSE at random integer t,
Adam lr 1e-3; median of 50 after 10 warm-up), and a 1000-step DDIM (eta = 0) run of 10,000 points. Last line: JSON."""
import argparse, json, math, time
import numpy as np
import torch
import torch.nn as nn

def embed(t, dim=32):
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / half))
    a = t.float()[:, None] * freqs[None]
    return torch.cat([a.sin(), a.cos()], 1)

class Mlp(nn.Module):
    def __init__(self, width=256, depth=3):
        super().__init__()
        layers, w = [], 2 + 32
        for _ in range(depth):
            layers += [nn.Linear(w, width), nn.SiLU()]
            w = width
        layers.append(nn.Linear(w, 2))
        self.net = nn.Sequential(*layers)
    def forward(self, x, t):
        return self.net(torch.cat([x, embed(t)], 1))

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = Mlp()
    abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float32), 0)
    x0 = torch.randn(1024, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    times = []
    for i in range(60):
        t0 = time.perf_counter()
        t = torch.randint(0, 1000, (1024,))
        eps = torch.randn_like(x0)
        ab = abar[t][:, None]
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        opt.zero_grad()
        nn.functional.mse_loss(net(xt, t.float()), eps).backward()
        opt.step()
        if i >= 10:
            times.append((time.perf_counter() - t0) * 1000)
    train_ms = float(np.median(times))
    net.eval()
    ratio = 1000 // 1000
    ts = (np.arange(0, 1000) * ratio)[::-1]
    x = torch.randn(10_000, 2)
    t0 = time.perf_counter()
    with torch.no_grad():
        for t in ts:
            a_t = abar[t]
            a_prev = abar[t - ratio] if t - ratio >= 0 else torch.tensor(1.0)
            e = net(x, torch.full((x.shape[0],), float(t)))
            x0p = (x - (1 - a_t).sqrt() * e) / a_t.sqrt()
            x = a_prev.sqrt() * x0p + (1 - a_prev).sqrt() * e      # DDIM eta = 0 (Song et al. 2021, Eq. 12)
    sample_s = time.perf_counter() - t0
    print(f"MLP train step (batch 1024): median {train_ms:.3f} ms; DDIM 1000 steps x 10000 points: {sample_s:.2f} s ({a.threads} threads)")
    print(json.dumps({"train_ms": round(train_ms, 4), "sample_s": round(sample_s, 3), "threads": a.threads}))

if __name__ == "__main__":
    main()
