using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>
/// The built-in 2-D datasets, each with an exact i.i.d. sampler. Scales follow FFJORD's <c>toy_data.py</c>
/// (Grathwohl et al. 2019), except <c>25gaussians</c>, which follows WGAN-GP (Gulrajani et al. 2017).
/// All randomness comes from the <see cref="Generator"/> passed to <see cref="Sample"/>, so a seed reproduces the samples.
/// </summary>
public abstract class Toy2D
{
    private protected Toy2D(string name, string description) { Name = name; Description = description; }

    /// <summary>The name used in data specs, e.g. <c>checkerboard</c>.</summary>
    public string Name { get; }

    /// <summary>One line for <c>langevin datasets</c>.</summary>
    public string Description { get; }

    /// <summary>Centres of the mixture components (equal weights), or null when the dataset is not a Gaussian mixture.</summary>
    public virtual IReadOnlyList<(float X, float Y)>? Modes => null;

    /// <summary>Per-coordinate standard deviation of each (isotropic) mixture component, or null when not a mixture.</summary>
    public virtual float? ComponentStd => null;

    /// <summary>Draws <paramref name="n"/> i.i.d. points: float32 [n, 2] on the CPU.</summary>
    public Tensor Sample(int n, Generator gen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentNullException.ThrowIfNull(gen);
        using var scope = NewDisposeScope();
        return SampleCore(n, gen).to_type(ScalarType.Float32).contiguous().MoveToOuterDisposeScope();
    }

    private protected abstract Tensor SampleCore(int n, Generator gen);

    /// <summary>
    /// The same points as <see cref="Sample"/> (same random numbers) and, for a Gaussian mixture, each point's component as its
    /// class label (int64 [n]; the mode a class-conditional model or a classifier learns); null labels otherwise.
    /// </summary>
    public (Tensor X, Tensor? Labels) SampleLabelled(int n, Generator gen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        using var scope = NewDisposeScope();
        var (x, labels) = SampleLabelledCore(n, gen);
        return (x.to_type(ScalarType.Float32).contiguous().MoveToOuterDisposeScope(), labels?.MoveToOuterDisposeScope());
    }

    private protected virtual (Tensor X, Tensor? Labels) SampleLabelledCore(int n, Generator gen) => (SampleCore(n, gen), null);

    static readonly Toy2D[] All =
    [
        new Checkerboard(), new SwissRoll(), new Moons(), new GaussianGrid8(), new GaussianGrid25(), new Rings(), new Pinwheel(),
    ];

    /// <summary>The names accepted by <see cref="Get"/>, in catalogue order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToArray();

    /// <summary>All built-in datasets, in catalogue order.</summary>
    public static IReadOnlyList<Toy2D> Datasets { get; } = All;

    /// <summary>Looks a dataset up by name (case-insensitive).</summary>
    /// <exception cref="UsageException">The name is not a built-in 2-D dataset.</exception>
    public static Toy2D Get(string name) =>
        TryGet(name) ?? throw new UsageException($"unknown 2-D dataset '{name}'; use one of: {string.Join(", ", Names)}");

    /// <summary>Looks a dataset up by name (case-insensitive); null when unknown.</summary>
    public static Toy2D? TryGet(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Which of the checkerboard's 8 data squares holds (x, y): 0..7, numbered column-major from (−4, −4); −1 when the
    /// point is on no data square. Squares are half-open, [a, a+2) × [b, b+2).
    /// </summary>
    public static int CheckerboardSquare(float x, float y)
    {
        if (!(x >= -4f && x < 4f && y >= -4f && y < 4f)) return -1;
        int col = (int)MathF.Floor(x / 2f) + 2, row = (int)MathF.Floor(y / 2f) + 2;   // 0..3 each
        if (((col + row) & 1) != 0) return -1;
        return col * 2 + row / 2;
    }

    // FFJORD: x1 ~ U[-2,2), x2 ~ U on the two unit squares of x1's column whose parity matches, all times 2:
    // 8 squares of side 2 alternating on [-4,4]^2 (a data square where floor(x/2)+floor(y/2) is even).
    // Sampled as square index ~ U{0..7} plus an offset on a 2^-21 grid, exact in float32, so no point rounds onto
    // the upper edge of its square (a float32 x1 + offset could round to 4).
    sealed class Checkerboard() : Toy2D("checkerboard", "8 squares of side 2 alternating in [-4,4]^2, uniform on them (FFJORD)")
    {
        private protected override Tensor SampleCore(int n, Generator gen)
        {
            var square = randint(0, 8, [n], ScalarType.Int64, generator: gen);
            var col = square.div(2, rounding_mode: RoundingMode.floor);                 // 0..3
            var row = square.remainder(2).mul(2).add(col.remainder(2));               // (col + row) even
            var offset = randint(0, 1L << 22, [n, 2], ScalarType.Int64, generator: gen).to_type(ScalarType.Float64).mul(1.0 / (1 << 21));
            var corner = stack([col, row], 1).to_type(ScalarType.Float64).mul(2).sub(4);
            return corner.add(offset);
        }
    }

    // sklearn make_swiss_roll(noise=1.0), coordinates (x, z), divided by 5 (FFJORD):
    // t = 1.5π(1 + 2u), point = (t cos t, t sin t) + N(0, 1).
    sealed class SwissRoll() : Toy2D("swissroll", "Swiss roll: t~U[1.5pi,4.5pi], (t cos t, t sin t) + N(0,1), divided by 5 (FFJORD)")
    {
        private protected override Tensor SampleCore(int n, Generator gen)
        {
            var t = rand([n], ScalarType.Float64, generator: gen).mul(2).add(1).mul(1.5 * Math.PI);
            var noise = randn([n, 2], ScalarType.Float64, generator: gen);
            return stack([t.mul(t.cos()), t.mul(t.sin())], 1).add(noise).div(5);
        }
    }

    // sklearn make_moons(noise=0.1) * 2 + (-1, -0.2) (FFJORD), with each point's moon and angle drawn i.i.d.
    // (sklearn spaces the angles evenly): upper (cos θ, sin θ), lower (1 − cos θ, 0.5 − sin θ), θ ~ U[0, π].
    sealed class Moons() : Toy2D("moons", "two moons: sklearn make_moons(noise=0.1) * 2 + (-1,-0.2) (FFJORD)")
    {
        private protected override Tensor SampleCore(int n, Generator gen)
        {
            var theta = rand([n], ScalarType.Float64, generator: gen).mul(Math.PI);
            var lower = randint(0, 2, [n], ScalarType.Int64, generator: gen).to_type(ScalarType.Bool);
            var x = where(lower, theta.cos().neg().add(1), theta.cos());
            var y = where(lower, theta.sin().neg().add(0.5), theta.sin());
            var noise = randn([n, 2], ScalarType.Float64, generator: gen).mul(0.1);
            return stack([x, y], 1).add(noise).mul(2).add(tensor(new[] { -1.0, -0.2 }));
        }
    }

    abstract class GaussianMixture(string name, string description, (double X, double Y)[] centres, double std)
        : Toy2D(name, description)
    {
        readonly double[] _centres = centres.SelectMany(c => new[] { c.X, c.Y }).ToArray();
        public override IReadOnlyList<(float X, float Y)>? Modes { get; } = centres.Select(c => ((float)c.X, (float)c.Y)).ToArray();
        public override float? ComponentStd => (float)std;

        private protected override Tensor SampleCore(int n, Generator gen) => SampleLabelledCore(n, gen).X;

        private protected override (Tensor X, Tensor? Labels) SampleLabelledCore(int n, Generator gen)
        {
            int k = _centres.Length / 2;
            var which = randint(0, k, [n], ScalarType.Int64, generator: gen);
            var noise = randn([n, 2], ScalarType.Float64, generator: gen).mul(std);
            return (tensor(_centres, [k, 2]).index_select(0, which).add(noise), which);
        }
    }

    // FFJORD: centres 4·(unit vectors at multiples of 45°), std 0.5, then everything divided by 1.414.
    sealed class GaussianGrid8() : GaussianMixture("8gaussians",
        "8 Gaussians on a circle of radius 4/1.414, std 0.5/1.414 (FFJORD)",
        Enumerable.Range(0, 8).Select(i => (4 * Math.Cos(i * Math.PI / 4) / 1.414, 4 * Math.Sin(i * Math.PI / 4) / 1.414)).ToArray(),
        0.5 / 1.414);

    // WGAN-GP: centres 2·(i, j) for i, j in −2..2, std 0.05, then everything divided by 2.828.
    sealed class GaussianGrid25() : GaussianMixture("25gaussians",
        "5x5 grid of Gaussians, spacing 2/2.828, std 0.05/2.828 (WGAN-GP)",
        Enumerable.Range(0, 25).Select(i => (2.0 * (i / 5 - 2) / 2.828, 2.0 * (i % 5 - 2) / 2.828)).ToArray(),
        0.05 / 2.828);

    // FFJORD: 4 concentric circles of radii 3·{1, .75, .5, .25}, equal mass, + N(0, 0.08²) (angles i.i.d. here).
    sealed class Rings() : Toy2D("rings", "4 concentric circles of radii 0.75..3, equal mass, noise std 0.08 (FFJORD)")
    {
        private protected override Tensor SampleCore(int n, Generator gen)
        {
            var ring = randint(0, 4, [n], ScalarType.Int64, generator: gen).to_type(ScalarType.Float64);
            var radius = ring.add(1).mul(0.75);
            var angle = rand([n], ScalarType.Float64, generator: gen).mul(2 * Math.PI);
            var noise = randn([n, 2], ScalarType.Float64, generator: gen).mul(0.08);
            return stack([radius.mul(angle.cos()), radius.mul(angle.sin())], 1).add(noise);
        }
    }

    // FFJORD pinwheel: 5 arms; features f = (1 + 0.3 ε₁, 0.1 ε₂); angle a = 2πk/5 + 0.25·exp(f₀);
    // point = 2 · (f₀ cos a + f₁ sin a, −f₀ sin a + f₁ cos a) (its einsum "ti,tij->tj"). Arm k ~ U{0..4} here.
    sealed class Pinwheel() : Toy2D("pinwheel", "5-armed pinwheel, radial std 0.3, tangential std 0.1, rate 0.25, times 2 (FFJORD)")
    {
        private protected override Tensor SampleCore(int n, Generator gen)
        {
            var arm = randint(0, 5, [n], ScalarType.Int64, generator: gen).to_type(ScalarType.Float64);
            var f = randn([n, 2], ScalarType.Float64, generator: gen).mul(tensor(new[] { 0.3, 0.1 })).add(tensor(new[] { 1.0, 0.0 }));
            var f0 = f[.., 0]; var f1 = f[.., 1];
            var a = arm.mul(2 * Math.PI / 5).add(f0.exp().mul(0.25));
            var c = a.cos(); var s = a.sin();
            return stack([f0.mul(c).add(f1.mul(s)), f0.neg().mul(s).add(f1.mul(c))], 1).mul(2);
        }
    }
}
