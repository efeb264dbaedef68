using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>What a network trained in a scaled (VP-like) frame predicts.</summary>
public enum Prediction
{
    /// <summary>The noise ε (Ho et al. 2020).</summary>
    Epsilon,
    /// <summary>The clean data x₀.</summary>
    X0,
    /// <summary>v = α ε − σ_vp x₀ (Salimans &amp; Ho 2022, §4).</summary>
    V,
    /// <summary>The score of the scaled-frame marginal, ∇ log p(x_vp) (Song et al. 2021).</summary>
    Score,
}

public static class Predictions
{
    public static readonly IReadOnlyList<string> Names = ["eps", "x0", "v", "score"];

    public static Prediction Parse(string name) => name switch
    {
        "eps" => Prediction.Epsilon,
        "x0" => Prediction.X0,
        "v" => Prediction.V,
        "score" => Prediction.Score,
        _ => throw new SettingException("prediction", name, $"must be one of: {string.Join(", ", Names)}"),
    };

    public static string Name(this Prediction p) => Names[(int)p];
}

/// <summary>
/// The four functions of σ that turn a network F into a denoiser in the unscaled frame (Karras et al. 2022, Eq. 7 /
/// Table 1): D(x, σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x, c_noise(σ)). Every parameterisation (ε, x₀, v, score,
/// EDM's) is one choice of them. σ is [B]; each coefficient is [B].
/// </summary>
public interface IPreconditioning
{
    (Tensor Skip, Tensor Out, Tensor In) Coefficients(Tensor sigma);

    /// <summary>c_noise(σ): the conditioning value the network's embedding sees.</summary>
    Tensor NoiseLabel(Tensor sigma);
}

/// <summary>
/// A network trained in a scaled frame x_s = s(σ)·x = s x₀ + s σ ε (VP: s = 1/√(1+σ²), so x_s = √ᾱ x₀ + √(1−ᾱ) ε),
/// predicting ε, x₀, v or the scaled-frame score, conditioned on a noise label (a DDPM timestep, 999·t, …).
/// With a = s and b = sσ (x_s = a x₀ + b ε):
/// ε:     D = x − σ F                                (x₀ = (x_s − b ε)/a; Ho et al. 2020, Eq. 4 rearranged)
/// x₀:    D = F
/// v:     D = (a x_s − b v)/(a² + b²) = x/(1+σ²) − σ/(s(1+σ²)) F   (v = a ε − b x₀; Salimans &amp; Ho 2022, §4)
/// score: D = x + σ² s F                            (Tweedie, with ∇_{x_s} log p = ∇_x log p_σ / s)
/// </summary>
public sealed class ScaledFramePreconditioning(Prediction prediction, Func<Tensor, Tensor> inputScale, Func<Tensor, Tensor> noiseLabel)
    : IPreconditioning
{
    public Prediction Prediction { get; } = prediction;

    /// <summary>A discrete VP (DDPM) model: s = 1/√(1+σ²), c_noise = the continuous timestep of σ on the schedule.</summary>
    public static ScaledFramePreconditioning VpDiscrete(VpDiscreteSchedule schedule, Prediction prediction) =>
        new(prediction, VpScale, schedule.SigmaToT);

    /// <summary>x_vp = x/√(1+σ²) (Karras et al. 2022, Table 1, VP: s(t) = 1/√(1+σ(t)²)).</summary>
    public static Tensor VpScale(Tensor sigma) => (sigma.square() + 1).rsqrt();

    public (Tensor Skip, Tensor Out, Tensor In) Coefficients(Tensor sigma)
    {
        var s = inputScale(sigma);
        var one = ones_like(sigma);
        return Prediction switch
        {
            Prediction.Epsilon => (one, -sigma, s),                                      // D = x − σ ε
            Prediction.X0 => (zeros_like(sigma), one, s),                                // D = x̂₀
            Prediction.V => (1 / (sigma.square() + 1), -sigma / (s * (sigma.square() + 1)), s), // Salimans & Ho 2022, §4
            Prediction.Score => (one, sigma.square() * s, s),                            // D = x + σ² s·s_s
            _ => throw new ArgumentOutOfRangeException(nameof(prediction)),
        };
    }

    public Tensor NoiseLabel(Tensor sigma) => noiseLabel(sigma);
}

/// <summary>
/// EDM's preconditioning (Karras et al. 2022, Table 1): c_skip = σ_d²/(σ²+σ_d²), c_out = σσ_d/√(σ²+σ_d²),
/// c_in = 1/√(σ²+σ_d²), c_noise = ¼ ln σ. The labels span ≈ −1.6…1.1; networks here embed them scaled by 250
/// (<see cref="LabelScale"/>), the range of a DDPM timestep their sinusoidal embedding is made for.
/// </summary>
public sealed class EdmPreconditioning(double sigmaData) : IPreconditioning
{
    /// <summary>Factor between EDM's c_noise and what our sinusoidal embeddings see (highest frequency 1).</summary>
    public const double LabelScale = 250;

    public double SigmaData { get; } = sigmaData > 0 ? sigmaData : throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "σ_data must be > 0");

    public (Tensor Skip, Tensor Out, Tensor In) Coefficients(Tensor sigma)
    {
        double sd2 = SigmaData * SigmaData;
        var total = sigma.square() + sd2;
        return (sd2 / total, sigma * SigmaData * total.rsqrt(), total.rsqrt()); // Karras et al. 2022, Table 1
    }

    public Tensor NoiseLabel(Tensor sigma) => sigma.log() * (0.25 * LabelScale); // c_noise = ¼ ln σ (Table 1), ×250
}

/// <summary>
/// A network behind a preconditioning, seen as an <see cref="IScoreModel"/> in the unscaled σ-frame:
/// D(x, σ) = c_skip x + c_out F(c_in x, c_noise) (Karras et al. 2022, Eq. 7) and s = (D − x)/σ².
/// Networks with a learned variance output 2C channels; the first C are F. A class-conditional network's denoiser can be
/// bound to class labels (<see cref="WithClasses"/>): D(x, σ, y), the noise label and y packed by <see cref="ClassConditioning"/>.
/// </summary>
public sealed class PreconditionedDenoiser(nn.Module<Tensor, Tensor, Tensor> network, IPreconditioning preconditioning, Tensor? classes = null) : IScoreModel
{
    public nn.Module<Tensor, Tensor, Tensor> Network { get; } = network;
    public IPreconditioning Preconditioning { get; } = preconditioning;

    /// <summary>The class labels [B] (int64; "no class" = K) every call is conditioned on, or null (the network's plain call).</summary>
    public Tensor? Classes { get; } = classes;

    /// <summary>The same network and preconditioning conditioned on <paramref name="labels"/> ([B] int64, or a scalar for every item).</summary>
    public PreconditionedDenoiser WithClasses(Tensor labels) => new(Network, Preconditioning, labels);

    /// <summary>The raw network output at (c_in(σ) x, c_noise(σ)), or at the given noise label (e.g. an exact integer timestep).</summary>
    public Tensor NetworkOutput(Tensor x, Tensor sigma, Tensor? noiseLabel = null)
    {
        sigma = Batch(sigma, x);
        var (_, _, cIn) = Preconditioning.Coefficients(sigma);
        var label = noiseLabel ?? Preconditioning.NoiseLabel(sigma);
        if (Classes is { } y) label = ClassConditioning.Pack(label, y.dim() == 0 ? y.expand(x.shape[0]) : y);
        return Network.call(cIn.Broadcast(x) * x, label);
    }

    /// <summary>F: the first C channels of the network output (all of it without a learned variance).</summary>
    public static Tensor Prediction(Tensor output, Tensor x) =>
        output.shape[1] == x.shape[1] ? output : output.narrow(1, 0, x.shape[1]);

    /// <summary>D(x, σ) = c_skip x + c_out F (Karras et al. 2022, Eq. 7).</summary>
    public Tensor Denoise(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        sigma = Batch(sigma, x);
        var (skip, output, _) = Preconditioning.Coefficients(sigma);
        var f = Prediction(NetworkOutput(x, sigma), x);
        return (skip.Broadcast(x) * x + output.Broadcast(x) * f).MoveToOuterDisposeScope();
    }

    /// <summary>s = (D − x)/σ² = ((c_skip − 1) x + c_out F)/σ², written so that ε-models give −F/σ without cancellation.</summary>
    public Tensor Score(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        sigma = Batch(sigma, x);
        var (skip, output, _) = Preconditioning.Coefficients(sigma);
        var f = Prediction(NetworkOutput(x, sigma), x);
        var s2 = sigma.square().Broadcast(x);
        return (((skip - 1).Broadcast(x) * x + output.Broadcast(x) * f) / s2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// What F should output for data x₀ noised to x = x₀ + σ n: F* = (x₀ − c_skip x)/c_out (Karras et al. 2022, Eq. 8
    /// rearranged: ‖D − x₀‖² = c_out² ‖F − F*‖²), written as ((1 − c_skip) x₀ − c_skip σ n)/c_out so that the ε target
    /// is n without cancellation. For the scaled-frame models this is ε, x₀, v or the scaled score.
    /// </summary>
    public Tensor Target(Tensor x0, Tensor noise, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        sigma = Batch(sigma, x0);
        var (skip, output, _) = Preconditioning.Coefficients(sigma);
        var target = ((1 - skip).Broadcast(x0) * x0 - (skip * sigma).Broadcast(x0) * noise) / output.Broadcast(x0);
        return target.MoveToOuterDisposeScope();
    }

    static Tensor Batch(Tensor sigma, Tensor x) => sigma.dim() == 0 ? sigma.expand(x.shape[0]) : sigma;
}
