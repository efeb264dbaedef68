using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// The adaptive Dormand–Prince 5(4) Runge–Kutta method (Dormand &amp; Prince 1980; the RK45 of scipy.integrate.solve_ivp
/// that score_sde uses for the probability-flow ODE): 7 stages with first-same-as-last, the 4th-order embedded solution
/// for the error, step control h ← h·min(10, max(0.2, 0.9·err^{−1/5})), err the RMS of e/(atol + rtol·max(|y|, |y_new|)).
/// The whole batch is one ODE system, as score_sde flattens it.
/// </summary>
public static class DormandPrince
{
    static readonly double[] C = [0, 1 / 5.0, 3 / 10.0, 4 / 5.0, 8 / 9.0, 1];
    static readonly double[][] A =
    [
        [],
        [1 / 5.0],
        [3 / 40.0, 9 / 40.0],
        [44 / 45.0, -56 / 15.0, 32 / 9.0],
        [19372 / 6561.0, -25360 / 2187.0, 64448 / 6561.0, -212 / 729.0],
        [9017 / 3168.0, -355 / 33.0, 46732 / 5247.0, 49 / 176.0, -5103 / 18656.0],
    ];
    static readonly double[] B = [35 / 384.0, 0, 500 / 1113.0, 125 / 192.0, -2187 / 6784.0, 11 / 84.0];
    // b − b* (5th minus embedded 4th order weights), the last for the FSAL stage.
    static readonly double[] E = [71 / 57600.0, 0, -71 / 16695.0, 71 / 1920.0, -17253 / 339200.0, 22 / 525.0, -1 / 40.0];

    /// <summary>
    /// Integrates dy/du = f(u, y) from <paramref name="u0"/> to <paramref name="u1"/> (either direction). Returns y(u1) and
    /// the number of evaluations of f; <paramref name="onEvaluation"/> is told each evaluation's running count, and
    /// <paramref name="onAccepted"/>(u, u_next, y, f(u, y)) each accepted step, before it is taken.
    /// </summary>
    public static (Tensor Y, int Evaluations) Solve(Func<double, Tensor, Tensor> f, Tensor y0, double u0, double u1,
        double rtol = 1e-5, double atol = 1e-5, Action<int>? onEvaluation = null, int maxEvaluations = 100_000,
        Action<double, double, Tensor, Tensor>? onAccepted = null)
    {
        if (!(rtol > 0)) throw new SettingException("rtol", rtol, "must be > 0");
        if (!(atol > 0)) throw new SettingException("atol", atol, "must be > 0");
        int evaluations = 0;
        Tensor F(double u, Tensor y)
        {
            if (++evaluations > maxEvaluations)
                throw new DataException($"the ODE solver needed more than {maxEvaluations} evaluations; loosen its tolerances rtol and atol or check the model for NaN");
            var r = f(u, y);
            onEvaluation?.Invoke(evaluations);
            return r;
        }
        double direction = Math.Sign(u1 - u0);
        var y = y0.clone();
        if (direction == 0) return (y, 0);
        var k1 = F(u0, y);
        double u = u0;
        double h = InitialStep(F, u0, y, k1, direction, rtol, atol, Math.Abs(u1 - u0));
        while (direction * (u1 - u) > 0)
        {
            using var scope = NewDisposeScope();
            if (h > Math.Abs(u1 - u)) h = Math.Abs(u1 - u);
            double step = direction * h;
            var k = new Tensor[7];
            k[0] = k1;
            for (int s = 1; s < 6; s++)
            {
                var ys = y.clone();
                for (int j = 0; j < s; j++) if (A[s][j] != 0) ys = ys + step * A[s][j] * k[j];
                k[s] = F(u + C[s] * step, ys);
            }
            var yNew = y.clone();
            for (int j = 0; j < 6; j++) if (B[j] != 0) yNew = yNew + step * B[j] * k[j];
            k[6] = F(u + step, yNew);
            var err = E[0] * k[0];
            for (int j = 1; j < 7; j++) if (E[j] != 0) err = err + E[j] * k[j];
            err = err * step;
            var scale = atol + rtol * maximum(y.abs(), yNew.abs());
            double norm = (err / scale).square().mean().sqrt().to(float64).item<double>();
            if (double.IsNaN(norm)) throw new DataException("the ODE solver met NaN; the model returned a non-finite value");
            if (norm <= 1)
            {
                onAccepted?.Invoke(u, u + step, y, k1);
                u += step;
                DiffusionSamplers.Replace(ref y, yNew);
                k1.Dispose();
                k1 = k[6].MoveToOuterDisposeScope();
                h *= norm == 0 ? 10 : Math.Min(10, 0.9 * Math.Pow(norm, -0.2));
            }
            else h *= Math.Max(0.2, 0.9 * Math.Pow(norm, -0.2));
            if (h < 1e-12 * Math.Max(1, Math.Abs(u))) throw new DataException("the ODE solver's step size underflowed; the problem is too stiff for these tolerances");
        }
        k1.Dispose();
        return (y, evaluations);
    }

    /// <summary>scipy's select_initial_step (Hairer, Nørsett &amp; Wanner, "Solving ODEs I", §II.4): one extra evaluation.</summary>
    static double InitialStep(Func<double, Tensor, Tensor> f, double u0, Tensor y0, Tensor f0, double direction,
        double rtol, double atol, double span)
    {
        using var scope = NewDisposeScope();
        var scale = atol + y0.abs() * rtol;
        double d0 = Rms(y0 / scale), d1 = Rms(f0 / scale);
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        var f1 = f(u0 + direction * h0, y0 + direction * h0 * f0);
        double d2 = Rms((f1 - f0) / scale) / h0;
        double h1 = Math.Max(d1, d2) <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / Math.Max(d1, d2), 1 / 5.0);
        return Math.Min(Math.Min(100 * h0, h1), span);
    }

    static double Rms(Tensor t) => t.square().mean().sqrt().to(float64).item<double>();
}
