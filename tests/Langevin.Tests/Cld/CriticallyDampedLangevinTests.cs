using Langevin.Processes;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Langevin.Cld;

namespace Langevin.Tests.Cld;

public sealed class CriticallyDampedLangevinTests
{
    static readonly CriticallyDampedLangevin Cld = new(mass: 0.25, beta: 4, velocityVariance: 0.04, numericalEps: 0);

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.25)]
    public void KernelMatchesEulerMaruyamaSimulationOfTheForwardSde(double t)
    {
        // x₀ = 1.5 fixed, v₀ ~ N(0, γM): simulate Eq. 5 with a fine Euler–Maruyama step and compare moments within MC error.
        const int n = 40_000;
        using var scope = NewDisposeScope();
        using var gen = new Generator(11);
        double x0 = 1.5;
        var x = full([n, 1], x0, float64);
        var v = randn([n, 1], float64, generator: gen) * Math.Sqrt(Cld.VelocityVariance * Cld.Mass);
        int steps = (int)Math.Round(t / 5e-4);
        double dt = t / steps, noise = Math.Sqrt(Cld.DiffusionSquared * dt);
        for (int i = 0; i < steps; i++)
        {
            using var s = NewDisposeScope();
            var u = cat([x, v], 1);
            var (dx, dv) = CriticallyDampedLangevin.Split(Cld.Drift(u));
            var nx = x + dt * dx;
            var nv = v + dt * dv + noise * randn([n, 1], float64, generator: gen);
            x.Dispose(); v.Dispose();
            x = nx.MoveToOuterDisposeScope();
            v = nv.MoveToOuterDisposeScope();
        }
        var tt = tensor(t, float64);
        var (mx, mv) = Cld.Mean(tensor(new[] { x0 }, float64), tensor(new[] { 0.0 }, float64), tt);
        var cov = Cld.HsmCovariance(tt);
        double sxx = cov.Xx.item<double>(), sxv = cov.Xv.item<double>(), svv = cov.Vv.item<double>();

        var ex = x.mean().item<double>();
        var ev = v.mean().item<double>();
        var cx = x - ex; var cv = v - ev;
        double vxx = cx.square().mean().item<double>(), vxv = (cx * cv).mean().item<double>(), vvv = cv.square().mean().item<double>();
        // standard errors of the sample mean and (co)variances of a Gaussian; + 1% for the O(dt) bias of Euler–Maruyama
        Assert.InRange(ex - mx.item<double>(), -5 * Math.Sqrt(sxx / n) - 1e-3, 5 * Math.Sqrt(sxx / n) + 1e-3);
        Assert.InRange(ev - mv.item<double>(), -5 * Math.Sqrt(svv / n) - 1e-3, 5 * Math.Sqrt(svv / n) + 1e-3);
        Assert.InRange(vxx, sxx - 5 * sxx * Math.Sqrt(2.0 / n) - 0.01 * sxx, sxx + 5 * sxx * Math.Sqrt(2.0 / n) + 0.01 * sxx);
        Assert.InRange(vvv, svv - 5 * svv * Math.Sqrt(2.0 / n) - 0.01 * svv, svv + 5 * svv * Math.Sqrt(2.0 / n) + 0.01 * svv);
        double seXv = Math.Sqrt((sxx * svv + sxv * sxv) / n);
        Assert.InRange(vxv, sxv - 5 * seXv - 0.01 * Math.Abs(sxv), sxv + 5 * seXv + 0.01 * Math.Abs(sxv));
    }

    [Fact]
    public void CovarianceSolvesTheLyapunovEquation()
    {
        // dΣ/dB = AΣ + ΣAᵀ + Q with A = [[0, 1/M], [−1, −Γ/M]], Q = diag(0, 2Γ) per unit of B; RK4 from Σ₀ = diag(0.3, γM).
        double m = Cld.Mass, f = Cld.Friction, var0x = 0.3, var0v = Cld.VelocityVariance * m;
        double[] a = [0, 1 / m, -1, -f / m];
        double[] Rhs(double[] s)
        {
            // s = [xx, xv, vv]; (AΣ + ΣAᵀ)
            double xx = 2 * (a[0] * s[0] + a[1] * s[1]);
            double xv = a[0] * s[1] + a[1] * s[2] + a[2] * s[0] + a[3] * s[1];
            double vv = 2 * (a[2] * s[1] + a[3] * s[2]) + 2 * f;
            return [xx, xv, vv];
        }
        double[] sig = [var0x, 0, var0v];
        double bEnd = 1.7, h = 1e-4;
        int steps = (int)Math.Round(bEnd / h);
        for (int i = 0; i < steps; i++)
        {
            var k1 = Rhs(sig);
            var k2 = Rhs(sig.Select((s, j) => s + h / 2 * k1[j]).ToArray());
            var k3 = Rhs(sig.Select((s, j) => s + h / 2 * k2[j]).ToArray());
            var k4 = Rhs(sig.Select((s, j) => s + h * k3[j]).ToArray());
            sig = sig.Select((s, j) => s + h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j])).ToArray();
        }
        using var t = tensor(bEnd / Cld.Beta, float64);
        var cov = Cld.Covariance(t, var0x, var0v);
        Assert.Equal(sig[0], cov.Xx.item<double>(), 1e-9);
        Assert.Equal(sig[1], cov.Xv.item<double>(), 1e-9);
        Assert.Equal(sig[2], cov.Vv.item<double>(), 1e-9);
    }

    [Fact]
    public void LimitsAtZeroAndInfinityAndTheCholeskyFactor()
    {
        var cld = new CriticallyDampedLangevin(mass: 0.5, beta: 3, velocityVariance: 0.1, numericalEps: 0);
        using var zero = tensor(0.0, float64);
        var c0 = cld.HsmCovariance(zero);
        Assert.Equal(0, c0.Xx.item<double>(), 1e-15);
        Assert.Equal(0, c0.Xv.item<double>(), 1e-15);
        Assert.Equal(0.1 * 0.5, c0.Vv.item<double>(), 1e-15);
        var (mx, mv) = cld.Mean(tensor(new[] { 2.0 }), tensor(new[] { -0.5 }), zero);
        Assert.Equal(2.0, mx.item<double>(), 1e-12);
        Assert.Equal(-0.5, mv.item<double>(), 1e-12);

        using var late = tensor(20.0, float64);
        var cInf = cld.Covariance(late, 5, 5);
        Assert.Equal(1, cInf.Xx.item<double>(), 1e-9);
        Assert.Equal(0, cInf.Xv.item<double>(), 1e-9);
        Assert.Equal(0.5, cInf.Vv.item<double>(), 1e-9);     // equilibrium N(0, I) × N(0, M I)

        // small t (Lyapunov equation at Σ₀ = diag(0, γM)): Σvv ≈ γM + 2Γ(1 − γ)βt, Σxv ≈ γβt, Σxx = O(t³)
        using var small = tensor(1e-6, float64);
        var cs = cld.HsmCovariance(small);
        Assert.Equal(0.05 + 2 * cld.Friction * 0.9 * 3e-6, cs.Vv.item<double>(), 1e-10);
        Assert.Equal(0.05 / 0.5 * 3e-6, cs.Xv.item<double>(), 1e-10);

        using var t = tensor(new[] { 0.01, 0.3, 0.9 }, float64);
        var c = cld.HsmCovariance(t);
        var (lxx, lvx, lvv) = c.Cholesky();
        Assert.True((lxx.square() - c.Xx).abs().max().item<double>() < 1e-12);
        Assert.True((lxx * lvx - c.Xv).abs().max().item<double>() < 1e-12);
        Assert.True((lvx.square() + lvv.square() - c.Vv).abs().max().item<double>() < 1e-12);
        Assert.True((c.Ell() * lvv - 1).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void BadSettingsAreUsageErrors()
    {
        Assert.ThrowsAny<UsageException>(() => new CriticallyDampedLangevin(mass: 0));
        Assert.ThrowsAny<UsageException>(() => new CriticallyDampedLangevin(mass: -1));
        Assert.ThrowsAny<UsageException>(() => new CriticallyDampedLangevin(beta: 0));
        Assert.ThrowsAny<UsageException>(() => new CriticallyDampedLangevin(velocityVariance: double.NaN));
    }
}
