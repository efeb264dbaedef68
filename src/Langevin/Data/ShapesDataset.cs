using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>The kind of shape drawn in a <see cref="ShapesDataset"/> image; the image's label.</summary>
public enum ShapeKind { Circle = 0, Square = 1, Triangle = 2 }

/// <summary>
/// Procedurally generated images: one filled circle, square or equilateral triangle per image, with a random
/// bright colour, centre, size and rotation, on a random dark background. Rendered vectorised with 2×2 supersampling
/// (anti-aliased edges). A small image dataset that trains in minutes and whose samples are easy to judge by eye.
/// </summary>
public static class ShapesDataset
{
    /// <summary>The class names, indexed by label (<see cref="ShapeKind"/>'s values).</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["circle", "square", "triangle"];

    /// <summary>Generates <paramref name="n"/> images: float32 [n, 3, size, size] in [−1, 1].</summary>
    public static Tensor Generate(int n, int size, Generator gen)
    {
        var (images, labels) = GenerateWithLabels(n, size, gen);
        labels.Dispose();
        return images;
    }

    /// <summary>
    /// Generates <paramref name="n"/> images (float32 [n, 3, size, size] in [−1, 1]) and their labels
    /// (int64 [n], the <see cref="ShapeKind"/> of each image).
    /// </summary>
    public static (Tensor Images, Tensor Labels) GenerateWithLabels(int n, int size, Generator gen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 4);
        ArgumentNullException.ThrowIfNull(gen);
        const int Chunk = 1024;   // bounds the supersampled temporaries (~Chunk·(2·size)² floats each)
        var images = new List<Tensor>();
        var labels = new List<Tensor>();
        try
        {
            for (int start = 0; start < n; start += Chunk)
            {
                var (img, lab) = Render(Math.Min(Chunk, n - start), size, gen);
                images.Add(img); labels.Add(lab);
            }
            if (images.Count == 0) return (zeros([0, 3, size, size]), zeros([0], ScalarType.Int64));
            return images.Count == 1 ? (images[0], labels[0]) : (cat(images, 0), cat(labels, 0));
        }
        finally
        {
            if (images.Count > 1) { foreach (var t in images) t.Dispose(); foreach (var t in labels) t.Dispose(); }
        }
    }

    static (Tensor Images, Tensor Labels) Render(int n, int size, Generator gen)
    {
        using var scope = NewDisposeScope();
        var kind = randint(0, 3, [n], ScalarType.Int64, generator: gen);
        // Geometry in unit coordinates: r is the circumradius, the centre keeps the whole shape inside the image.
        var r = rand([n], generator: gen).mul(0.2f).add(0.18f);
        var cx = rand([n], generator: gen).mul(r.mul(-2).add(1)).add(r);
        var cy = rand([n], generator: gen).mul(r.mul(-2).add(1)).add(r);
        var angle = rand([n], generator: gen).mul(2 * MathF.PI);
        var colour = rand([n, 3], generator: gen).mul(0.55f).add(0.45f);       // bright: [0.45, 1]
        var background = rand([n, 3], generator: gen).mul(0.3f);               // dark: [0, 0.3]

        // Sample points: the centres of a 2×2 grid inside each pixel.
        int s = 2 * size;
        var grid = arange(s, ScalarType.Float32).add(0.5f).div(s);
        var px = grid.view(1, 1, s).sub(cx.view(n, 1, 1));                      // [n, 1, s]
        var py = grid.view(1, s, 1).sub(cy.view(n, 1, 1));                      // [n, s, 1]
        var cos = angle.cos().view(n, 1, 1); var sin = angle.sin().view(n, 1, 1);
        var u = px.mul(cos).add(py.mul(sin));                                    // rotate into the shape's frame
        var v = py.mul(cos).sub(px.mul(sin));
        var rr = r.view(n, 1, 1);

        var circle = u.square().add(v.square()).le(rr.square());
        float half = 0.8f;   // square half-side as a fraction of r: similar area to the circle and triangle
        var square = u.abs().le(rr.mul(half)).logical_and(v.abs().le(rr.mul(half)));
        // Equilateral triangle with circumradius r: inside all three edges, each at distance r/2 from the centre,
        // outward normals at −90°, 30° and 150°.
        var triangle = v.neg().le(rr.mul(0.5f))
            .logical_and(u.mul(MathF.Cos(MathF.PI / 6)).add(v.mul(0.5f)).le(rr.mul(0.5f)))
            .logical_and(u.mul(-MathF.Cos(MathF.PI / 6)).add(v.mul(0.5f)).le(rr.mul(0.5f)));
        var k = kind.view(n, 1, 1);
        var mask = where(k.eq(0), circle, where(k.eq(1), square, triangle)).to_type(ScalarType.Float32);
        var coverage = nn.functional.avg_pool2d(mask.unsqueeze(1), 2);          // [n, 1, size, size] in [0, 1]

        var img = background.view(n, 3, 1, 1).add(coverage.mul(colour.sub(background).view(n, 3, 1, 1)));
        return (img.mul(2).sub(1).contiguous().MoveToOuterDisposeScope(), kind.MoveToOuterDisposeScope());
    }
}
