using static TorchSharp.torch;

namespace Langevin.Cld;

/// <summary>
/// The 2×2 covariance that CLD's kernels share in every data dimension (position x, velocity v), as tensors
/// (a batch of times, or a scalar) of float64.
/// </summary>
public sealed record CldCovariance(Tensor Xx, Tensor Xv, Tensor Vv)
{
    /// <summary>
    /// Cholesky factor L = [[L_xx, 0], [L_vx, L_vv]] with Σ = L Lᵀ: L_xx = √Σxx, L_vx = Σxv / L_xx,
    /// L_vv = √(Σvv − L_vx²) (Dockhorn et al. 2022, App. B.1, the reparameterisation u = μ + L_t ε).
    /// </summary>
    public (Tensor Lxx, Tensor Lvx, Tensor Lvv) Cholesky()
    {
        var lxx = Xx.sqrt();
        var lvx = Xv / lxx;
        return (lxx, lvx, (Vv - lvx.square()).sqrt());
    }

    /// <summary>ℓ = √(Σxx / (Σxx Σvv − Σxv²)) = 1 / L_vv (Dockhorn et al. 2022, Sec. 3.2 / Eq. 10).</summary>
    public Tensor Ell() => (Xx / (Xx * Vv - Xv.square())).sqrt();
}

/// <summary>
/// Critically-damped Langevin diffusion (Dockhorn, Vahdat &amp; Kreis 2022, "Score-based generative modeling with
/// critically-damped Langevin diffusion", ICLR; Eq. 5): the data x is coupled to a velocity v of mass M,
/// <code>
///   dx = M⁻¹ v β dt,   dv = (−x − Γ M⁻¹ v) β dt + √(2Γβ) dW,   Γ² = 4M (critical damping),
/// </code>
/// with constant β, x₀ ~ data, v₀ ~ N(0, γM I), and equilibrium N(x; 0, I) N(v; 0, M I). Every data dimension evolves
/// independently with the same 2×2 linear dynamics, so its perturbation kernel is Gaussian in closed form (App. B.1).
/// State tensors hold x and v side by side along dimension 1 (u = [x, v]), as the paper's code does.
/// </summary>
public sealed class CriticallyDampedLangevin
{
    /// <param name="mass">M &gt; 0 (the paper's default M = 0.25, i.e. M⁻¹ = 4).</param>
    /// <param name="beta">β &gt; 0, the constant time scaling (default 4), over t ∈ [0, 1].</param>
    /// <param name="velocityVariance">γ: v₀ ~ N(0, γM I) (default 0.04).</param>
    /// <param name="numericalEps">added to Σxx and Σvv so that ℓ stays finite near t = 0 (the paper's code uses 1e-6 for toy data).</param>
    public CriticallyDampedLangevin(double mass = 0.25, double beta = 4, double velocityVariance = 0.04, double numericalEps = 1e-6)
    {
        if (!(mass > 0) || !double.IsFinite(mass)) throw SettingException.About("cld.mass", mass, $"CLD's mass M must be > 0 (got {mass})");
        if (!(beta > 0) || !double.IsFinite(beta)) throw SettingException.About("cld.beta", beta, $"CLD's β must be > 0 (got {beta})");
        if (!(velocityVariance > 0) || !double.IsFinite(velocityVariance)) throw SettingException.About("cld.velocity_variance", velocityVariance, $"CLD's γ (v₀ ~ N(0, γM)) must be > 0 (got {velocityVariance})");
        if (!(numericalEps >= 0)) throw new UsageException($"CLD numerical ε must be ≥ 0 (got {numericalEps})");
        Mass = mass;
        Beta = beta;
        VelocityVariance = velocityVariance;
        NumericalEps = numericalEps;
    }

    public double Mass { get; }

    /// <summary>Γ = 2√M: critical damping, Γ² = 4M (Dockhorn et al. 2022, Sec. 3.1).</summary>
    public double Friction => 2 * Math.Sqrt(Mass);

    public double Beta { get; }

    /// <summary>γ in v₀ ~ N(0, γM I).</summary>
    public double VelocityVariance { get; }

    public double NumericalEps { get; }

    /// <summary>B(t) = ∫₀ᵗ β ds = βt.</summary>
    public double BetaIntegral(double t) => Beta * t;

    /// <summary>Squared diffusion of v: G Gᵀ = 2Γβ (Eq. 5).</summary>
    public double DiffusionSquared => 2 * Friction * Beta;

    /// <summary>
    /// The transition matrix Φ(B) = e^{−2B/Γ} [[1 + 2B/Γ, 4B/Γ²], [−B, 1 − 2B/Γ]] of the drift over B = ∫β: the double
    /// eigenvalue −2/Γ of critical damping gives e^{AB} = e^{λB}(I + B(A/β − λI)) (App. B.1; the mean of Eq. 6).
    /// </summary>
    public static (Tensor Xx, Tensor Xv, Tensor Vx, Tensor Vv) Transition(Tensor b, double friction)
    {
        double g = 1 / friction;
        var decay = (-2 * g * b).exp();
        return (decay * (1 + 2 * g * b), decay * (4 * g * g * b), -decay * b, decay * (1 - 2 * g * b));
    }

    /// <summary>
    /// Covariance after B = ∫β from a deterministic start: e^{−4B/Γ} [e^{4B/Γ} − 1 − 4B/Γ − 8B²/Γ², 4B²/Γ,
    /// Γ²(e^{4B/Γ} − 1)/4 + ΓB − 2B²] (App. B.1 with Σ₀ = 0), which tends to diag(1, M) as B → ∞.
    /// </summary>
    public static CldCovariance NoiseCovariance(Tensor b, double friction)
    {
        double g = 1 / friction, f = friction;
        var m = (-4 * g * b).exp();
        var xx = m * ((4 * g * b).exp() - 1 - 4 * g * b - 8 * g * g * b.square());
        var xv = m * (4 * g * b.square());
        var vv = m * (f * f * ((4 * g * b).exp() - 1) / 4 + f * b - 2 * b.square());
        return new(xx, xv, vv);
    }

    /// <summary>Mean of p(u_t | x₀, v₀): Φ(B(t)) [x₀; v₀] (App. B.1). t: [B] or scalar; returns [x_t mean, v_t mean].</summary>
    public (Tensor X, Tensor V) Mean(Tensor x0, Tensor v0, Tensor t)
    {
        var (pxx, pxv, pvx, pvv) = Transition(Beta * Expand(t, x0), Friction);
        return ((pxx * x0 + pxv * v0).to(x0.dtype), (pvx * x0 + pvv * v0).to(x0.dtype));
    }

    /// <summary>
    /// Covariance of p(u_t | x₀) per dimension when x₀ has variance <paramref name="var0x"/> and v₀ variance
    /// <paramref name="var0v"/> (uncorrelated): Φ diag(var0x, var0v) Φᵀ + Σ_noise(B), plus the numerical ε on the
    /// diagonal (App. B.1). t: [B] or scalar; float64.
    /// </summary>
    public CldCovariance Covariance(Tensor t, double var0x, double var0v)
    {
        var b = Beta * t.to(float64);
        var (pxx, pxv, pvx, pvv) = Transition(b, Friction);
        var n = NoiseCovariance(b, Friction);
        return new(
            pxx.square() * var0x + pxv.square() * var0v + n.Xx + NumericalEps,
            pxx * pvx * var0x + pxv * pvv * var0v + n.Xv,
            pvx.square() * var0x + pvv.square() * var0v + n.Vv + NumericalEps);
    }

    /// <summary>The covariance hybrid score matching perturbs with: x₀ fixed, v₀ ~ N(0, γM) marginalised (Sec. 3.2).</summary>
    public CldCovariance HsmCovariance(Tensor t) => Covariance(t, 0, VelocityVariance * Mass);

    /// <summary>
    /// Draws u_t ~ p(u_t | x₀) = N(Φ [x₀; 0], Σ_t^HSM) by u_t = μ + L_t ε (App. B.1). Returns x_t, v_t and the velocity
    /// noise ε_v the hybrid score matching target is built from. t: [B].
    /// </summary>
    public (Tensor X, Tensor V, Tensor EpsV) PerturbHsm(Tensor x0, Tensor t, Generator? gen)
    {
        var (mx, mv) = Mean(x0, zeros_like(x0), t);
        var (lxx, lvx, lvv) = HsmCovariance(t).Cholesky();
        var ex = randn(x0.shape, generator: gen, dtype: x0.dtype, device: x0.device);
        var ev = randn(x0.shape, generator: gen, dtype: x0.dtype, device: x0.device);
        var x = mx + Expand(lxx, x0).to(x0.dtype) * ex;
        var v = mv + Expand(lvx, x0).to(x0.dtype) * ex + Expand(lvv, x0).to(x0.dtype) * ev;
        return (x, v, ev);
    }

    /// <summary>The equilibrium N(0, I) × N(0, M I) the reverse processes start from, as u = [x, v] of items of <paramref name="itemShape"/>.</summary>
    public Tensor SamplePrior(long n, long[] itemShape, Generator? gen, Device? device = null)
    {
        var x = randn([n, .. itemShape], generator: gen, device: device);
        var v = randn([n, .. itemShape], generator: gen, device: device) * Math.Sqrt(Mass);
        return cat([x, v], 1);
    }

    /// <summary>The forward drift f(u) = β [M⁻¹ v; −x − Γ M⁻¹ v] (Eq. 5).</summary>
    public Tensor Drift(Tensor u)
    {
        var (x, v) = Split(u);
        return cat([Beta / Mass * v, -Beta * x - Beta * Friction / Mass * v], 1);
    }

    /// <summary>Splits u = [x, v] along dimension 1.</summary>
    public static (Tensor X, Tensor V) Split(Tensor u)
    {
        var parts = u.chunk(2, 1);
        return (parts[0], parts[1]);
    }

    /// <summary>A [B] (or scalar) tensor viewed as [B, 1, …] against <paramref name="like"/>.</summary>
    public static Tensor Expand(Tensor t, Tensor like) =>
        t.dim() == 0 ? t : t.reshape([t.shape[0], .. Enumerable.Repeat(1L, (int)like.dim() - 1)]);
}
