using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>
/// What a discriminator judges: an item and, for a conditional one, what it is conditioned on. A GAN's D sees x alone;
/// DD-GAN's sees (x_{t−1}, x_t, t) (Xiao et al. 2022, Eq. 6), so real and generated x_{t−1} share x_t and t.
/// </summary>
public sealed record DiscriminatorInput(Tensor X, Tensor? Given = null, Tensor? Time = null)
{
    public DiscriminatorInput WithX(Tensor x) => this with { X = x };
}

/// <summary>The two sides of one adversarial method: where real items come from, how G makes its own, how D judges.</summary>
public interface IAdversarialSides
{
    /// <summary>A real item for D (a GAN: the batch; DD-GAN: x_{t−1} of a real chain with its x_t and t).</summary>
    DiscriminatorInput Real(Batch batch, Generator gen);

    /// <summary>G's item for the same conditioning as <paramref name="real"/>, differentiable in G's weights.</summary>
    Tensor Fake(DiscriminatorInput real, Generator gen);

    /// <summary>D's logits [B] for the items.</summary>
    Tensor Discriminate(DiscriminatorInput input);
}

/// <summary>
/// How G and D play: the loss, its regulariser (lazy R1 for the non-saturating and hinge losses; the gradient penalty for
/// WGAN-GP), critic steps per generator step, and when a run counts as collapsed.
/// </summary>
/// <param name="R1Gamma">γ of R1, γ/2·E‖∇D(x)‖² on real items (0: off).</param>
/// <param name="R1Every">Lazy regularisation (Karras et al. 2020, StyleGAN2 §3.1): R1 every k-th step, weighted by k.</param>
/// <param name="GradientPenalty">λ of WGAN-GP's penalty (Gulrajani et al. 2017: 10), used only with <see cref="GanLoss.Wasserstein"/>.</param>
/// <param name="CriticSteps">D updates per G update, each on a fresh batch (WGAN-GP: n_critic = 5).</param>
/// <param name="CollapsePatience">Steps in a row with D's loss below <see cref="AdversarialGame.WonLoss"/> after which training stops (0: never).</param>
public sealed record GameRules(GanLoss Loss, double R1Gamma, int R1Every, double GradientPenalty, int CriticSteps, int CollapsePatience);

/// <summary>
/// The piece every generator-against-discriminator method shares (GAN, DD-GAN, TDPM's implicit prior): one training step
/// is <see cref="GameRules.CriticSteps"/> discriminator updates, each on a fresh batch and with its penalty, then one
/// generator update — each through <see cref="ITrainingContext.Optimize"/> of its own component. It also watches for a
/// won game: a discriminator whose loss stays near zero (it separates real from generated perfectly, so G's gradients
/// vanish or explode) for <see cref="GameRules.CollapsePatience"/> steps stops training with one line; the count is method
/// state, so a resumed run stops where the uninterrupted one would.
/// </summary>
public sealed class AdversarialGame
{
    /// <summary>D's loss below which a step counts as won by D (NS: both log-losses below 5·10⁻⁴; hinge: all margins met).</summary>
    public const double WonLoss = 1e-3;

    const string WonSteps = "disc_won_steps";
    readonly string _gen, _disc;
    readonly MethodState _state;
    double _lastReal, _lastFake, _lastPenalty;

    public AdversarialGame(GameRules rules, string generator, string discriminator, MethodState state)
    {
        Rules = rules;
        (_gen, _disc, _state) = (generator, discriminator, state);
        state.Add(WonSteps, 0);
    }

    public GameRules Rules { get; }

    /// <summary>Mean real and generated logits of the last D update and its penalty (0 on steps without one).</summary>
    public IReadOnlyDictionary<string, double> Diagnostics => new Dictionary<string, double>
    {
        ["d_real"] = _lastReal, ["d_fake"] = _lastFake,
        [Rules.Loss == GanLoss.Wasserstein ? "gp" : "r1"] = _lastPenalty,
    };

    public void Step(ITrainingContext context, Batch batch, IAdversarialSides sides)
    {
        var gen = context.Generator;
        double lossD = 0;
        for (int k = 0; k < Rules.CriticSteps; k++)
            lossD = DiscriminatorStep(context, k == 0 ? batch : context.NextBatch(), sides, r1Now: k == 0 && context.Step % Rules.R1Every == 0);
        if (!context.Stage.TrainsComponent(_gen)) return;      // a D-only warm-up may win: G has not started
        WatchForCollapse(context, lossD);
        var real = sides.Real(batch, gen);
        var fake = real.WithX(sides.Fake(real, gen));
        context.Optimize(_gen, AdversarialLosses.Generator(Rules.Loss, sides.Discriminate(fake)));
    }

    double DiscriminatorStep(ITrainingContext context, Batch batch, IAdversarialSides sides, bool r1Now)
    {
        var gen = context.Generator;
        var real = sides.Real(batch, gen);
        Tensor fakeX;
        using (no_grad()) fakeX = sides.Fake(real, gen);
        bool r1 = Rules.Loss != GanLoss.Wasserstein && Rules.R1Gamma > 0 && r1Now;
        if (r1) real = real.WithX(real.X.detach().requires_grad_(true));
        var realLogits = sides.Discriminate(real);
        var fakeLogits = sides.Discriminate(real.WithX(fakeX));
        var loss = AdversarialLosses.Discriminator(Rules.Loss, realLogits, fakeLogits);
        double lossValue = loss.item<float>();
        _lastPenalty = 0;
        if (r1)
        {
            var penalty = AdversarialLosses.R1(real.X, realLogits);
            _lastPenalty = penalty.item<float>();
            loss = loss + Rules.R1Gamma / 2 * Rules.R1Every * penalty;      // lazy: every k-th step, weighted by k
        }
        else if (Rules.Loss == GanLoss.Wasserstein && Rules.GradientPenalty > 0)
        {
            var penalty = AdversarialLosses.GradientPenalty(x => sides.Discriminate(real.WithX(x)), real.X, fakeX, gen);
            _lastPenalty = penalty.item<float>();
            loss = loss + Rules.GradientPenalty * penalty;
        }
        (_lastReal, _lastFake) = (realLogits.mean().item<float>(), fakeLogits.mean().item<float>());
        context.Optimize(_disc, loss);
        return lossValue;
    }

    void WatchForCollapse(ITrainingContext context, double lossD)
    {
        if (Rules.Loss == GanLoss.Wasserstein) return;     // a critic's loss has no floor to sit on
        double won = lossD < WonLoss ? _state.Scalar(WonSteps) + 1 : 0;
        _state.SetScalar(WonSteps, won);
        if (Rules.CollapsePatience > 0 && won >= Rules.CollapsePatience)
            context.Stop($"the discriminator won: its loss stayed below {WonLoss:G} for {won:F0} steps (since step {context.Step - won + 1}), so the generator gets no useful gradient; " +
                "lower the discriminator's learning rate, raise the R1 γ, or use --gan-loss hinge or wgan-gp");
    }
}
