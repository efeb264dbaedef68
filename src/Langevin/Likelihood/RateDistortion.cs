using Langevin.Models;
using Langevin.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Likelihood;

/// <summary>One point of DDPM's rate–distortion curve: what a receiver holding x_t has paid and how well it can guess x₀.</summary>
/// <param name="Timestep">t (0-based, as the schedule's tables).</param>
/// <param name="Rate">Bits/dim sent so that the receiver holds x_t: L_T + Σ_{s&gt;t} L_{s−1} (Ho et al. 2020, §4.3).</param>
/// <param name="Distortion">RMSE of x̂₀(x_t) against x₀ (on the [0, 255] scale for images).</param>
/// <param name="Term">This timestep's own term in bits/dim: L_{t−1} for t ≥ 1, the decoder NLL L_0 for t = 0.</param>
public sealed record RateDistortionPoint(int Timestep, double Sigma, double Rate, double Distortion, double Term);

/// <summary>
/// The curve, from t = T − 1 down to t = 0; <see cref="TotalRate"/> (the rate at t = 0) is the variational bound without
/// its decoder term, <see cref="Bound"/> with it. <see cref="Snapshots"/>[k] holds x̂₀ of the first items at
/// <see cref="SnapshotTimesteps"/>[k] (descending), for the progressive-decompression picture.
/// </summary>
public sealed record RateDistortionCurve(IReadOnlyList<RateDistortionPoint> Points, double PriorRate, double DecoderRate,
    double DataRms, int Items, long Dimensions, int Evaluations, int[] SnapshotTimesteps, Tensor[] Snapshots) : IDisposable
{
    public double TotalRate => Points[^1].Rate;
    public double Bound => TotalRate + DecoderRate;
    public void Dispose() { foreach (var s in Snapshots) s.Dispose(); }
}

/// <summary>
/// DDPM's progressive lossy compression (Ho et al. 2020, §4.3, Alg. 3–4, Fig. 5): the sender transmits x_{T−1} ~ q(x_{T−1}|x₀),
/// then each x_{t−1} ~ q(x_{t−1}|x_t, x₀) coded with p_θ(x_{t−1}|x_t), which costs L_{t−1} nats (relative entropy coding);
/// the receiver holding x_t predicts x̂₀ = D(x_t) at once. The chain here is that sender's chain (its x_t are exact draws
/// of q(x_t|x₀)); the terms are <see cref="VariationalBound.Term"/>, evaluated at every timestep or, with
/// <see cref="Every"/> = k &gt; 1, at every k-th one, at all t &lt; k (where the terms change fastest) and at T − 1, the
/// terms between two evaluated t's interpolated linearly (the rate is then an estimate; the decoder term L_0 is never used).
/// </summary>
/// <param name="Bound">The terms' settings (schedule, decoder, reverse variance).</param>
/// <param name="DistortionScale">Multiplies the RMSE: 127.5 for images in [−1, 1] (Ho et al.'s [0, 255] scale), 1 for points.</param>
/// <param name="ClampDenoised">Clamp x̂₀ to [−1, 1] before measuring (images).</param>
public sealed record RateDistortion(VariationalBound Bound, double DistortionScale = 1, bool ClampDenoised = false, int Every = 1)
{
    /// <summary>The timesteps at which the model is evaluated, descending.</summary>
    public int[] EvaluatedTimesteps(IEnumerable<int>? extra = null)
    {
        int bigT = Bound.Schedule.T;
        if (Every < 1) throw new SettingException("every", Every, "must be ≥ 1");
        var set = new SortedSet<int>(Enumerable.Range(0, bigT).Where(t => t % Every == 0 || t < Every || t == bigT - 1));
        foreach (int t in extra ?? [])
            set.Add(t >= 0 && t < bigT ? t : throw new ArgumentOutOfRangeException(nameof(extra), t, $"timestep must be in 0..{bigT - 1}"));
        return [.. set.Reverse()];
    }

    /// <summary>
    /// Walks the sender's chain for <paramref name="x0"/> ([B, …]) and returns the curve, keeping x̂₀ of the first
    /// <paramref name="snapshotItems"/> items at <paramref name="snapshotTimesteps"/>. <paramref name="onStep"/> reports
    /// network evaluations (done, total).
    /// </summary>
    public RateDistortionCurve Measure(IScoreModel model, Tensor x0, Generator? gen, IReadOnlyList<int>? snapshotTimesteps = null,
        int snapshotItems = 0, Action<int, int>? onStep = null)
    {
        var schedule = Bound.Schedule;
        var terms = new HybridLoss(schedule, Bound.Discretised);
        var evaluated = EvaluatedTimesteps(snapshotTimesteps);
        int[] snapshotAt = [.. (snapshotTimesteps ?? []).Distinct().OrderDescending()];
        int keep = (int)Math.Min(snapshotItems, x0.shape[0]);
        long b = x0.shape[0], dims = x0[0].numel();
        double bitsPerDim = 1 / (dims * Math.Log(2));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        double prior = Bound.PriorNats(x0).mean().to(float64).item<double>() * bitsPerDim;
        var dataRms = DistortionScale * (x0 - x0.mean([0], keepdim: true)).square().mean().sqrt().to(float64).item<double>();
        double abarLast = schedule.AlphasCumprod[schedule.T - 1];
        var xt = (Math.Sqrt(abarLast) * x0 + Math.Sqrt(1 - abarLast) * randn(x0.shape, generator: gen, dtype: x0.dtype, device: x0.device))
            .DetachFromDisposeScope();                                                 // Alg. 3 l. 1: x_T ~ q(x_T | x₀)
        var points = new List<RateDistortionPoint>();
        var snapshots = new List<Tensor>();
        double received = prior;                                                         // L_T plus the terms of t' > t
        int done = 0, next = 0;
        try
        {
            for (int t = schedule.T - 1; t >= 0; t--)
            {
                using var step = NewDisposeScope();
                if (next < evaluated.Length && evaluated[next] == t)
                {
                    next++;
                    var (nats, x0Hat) = Bound.Term(model, x0, xt, t, terms);
                    done++;
                    onStep?.Invoke(done, evaluated.Length);
                    var guess = ClampDenoised ? x0Hat.clamp(-1, 1) : x0Hat;
                    double distortion = DistortionScale * (guess - x0).square().mean().sqrt().to(float64).item<double>();
                    double term = nats.mean().to(float64).item<double>() * bitsPerDim;
                    if (points.Count > 0)                                                // + L_{s−1} for t < s ≤ the last evaluated t
                    {
                        var (high, gap) = (points[^1].Term, points[^1].Timestep - t);
                        received += gap * term + (high - term) * (gap + 1) / 2;          // linear between the evaluated terms (exact for gap 1)
                    }
                    points.Add(new RateDistortionPoint(t, schedule.Sigma(t), received, distortion, term));
                    if (snapshotAt.Contains(t)) snapshots.Add(guess.narrow(0, 0, keep).cpu().DetachFromDisposeScope());
                }
                if (t == 0) break;
                var (mean, logVar) = terms.Posterior(x0, xt, full([b], (long)t, dtype: ScalarType.Int64, device: x0.device));
                var previous = mean + (0.5 * logVar).exp() * randn(x0.shape, generator: gen, dtype: x0.dtype, device: x0.device);
                xt.Dispose();
                xt = previous.DetachFromDisposeScope();                                  // Alg. 3 l. 3: x_{t−1} ~ q(x_{t−1} | x_t, x₀)
            }
        }
        catch
        {
            foreach (var s in snapshots) s.Dispose();
            throw;
        }
        finally { xt.Dispose(); }
        var decoder = points[^1];
        // the decoder term is not a rate of this lossy code: the rate at t = 0 stops before it (Ho et al. 2020, §4.3)
        return new RateDistortionCurve(points, prior, decoder.Term, dataRms, (int)b, dims, done, snapshotAt, [.. snapshots]);
    }
}
