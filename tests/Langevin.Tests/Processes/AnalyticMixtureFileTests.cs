using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Processes;

public sealed class AnalyticMixtureFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("langevin-mixture-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    string Write(string json)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void RoundTripGivesTheSameScoreAsTheConstructor()
    {
        string path = Write("""{"weights": [1, 3], "means": [[-2, 0.5], [2, -1]], "std": 0.25}""");
        using var loaded = AnalyticMixtureFile.Load(path);
        using var direct = new GaussianMixtureScore([1, 3], [[-2, 0.5], [2, -1]], 0.25);
        Assert.Equal([0.25, 0.75], loaded.Weights);
        Assert.Equal(0.25, loaded.Std);
        Assert.Equal(ScalarType.Float64, loaded.Means.dtype);
        Assert.Equal([2L, 2L], loaded.Means.shape);
        using var x = tensor(new double[] { 0.1, 0.2, -1.5, 3.0, 2.0, -1.0 }, [3, 2]);
        using var sigma = tensor(new double[] { 0.1, 1.0, 5.0 });
        using var a = loaded.Score(x, sigma);
        using var b = direct.Score(x, sigma);
        Assert.True(a.allclose(b, rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void AByteOrderMarkIsAccepted()
    {
        string path = Path.Combine(_dir, "bom.json");
        File.WriteAllText(path, """{"weights": [2], "means": [[1, 2]], "std": 0.5}""", new System.Text.UTF8Encoding(true));
        using var m = AnalyticMixtureFile.Load(path);
        Assert.Equal([1.0], m.Weights);
    }

    [Fact]
    public void Float32IsHonoured()
    {
        string path = Write("""{"weights": [1], "means": [[0, 0, 0]], "std": 1}""");
        using var m = AnalyticMixtureFile.Load(path, ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, m.Means.dtype);
    }

    [Theory]
    [InlineData("{\"weights\": [1, 1], \"means\": [[0, 0]], \"std\": 1}", "2 weights but 1 means")]
    [InlineData("{\"weights\": [1, 1], \"means\": [[0, 0], [1]], \"std\": 1}", "means[1] has 1 coordinates but means[0] has 2")]
    [InlineData("{\"weights\": [1], \"means\": [[0]], \"std\": 0}", "\"std\" = 0; it must be > 0")]
    [InlineData("{\"weights\": [1], \"means\": [[0]], \"std\": -1}", "it must be > 0")]
    [InlineData("{\"weights\": [1, -1], \"means\": [[0], [1]], \"std\": 1}", "weights[1] = -1 is negative")]
    [InlineData("{\"weights\": [0, 0], \"means\": [[0], [1]], \"std\": 1}", "the weights sum to 0")]
    [InlineData("{\"weights\": [1, \"NaN\"], \"means\": [[0], [1]], \"std\": 1}", "weights[1] is a string, expected a finite number")]
    [InlineData("{\"weights\": [1], \"means\": [[0]], \"std\": NaN}", "not valid JSON")]
    [InlineData("{\"weights\": [1], \"means\": [[1e999]], \"std\": 1}", "means[0][0] is out of range")]
    [InlineData("{\"weights\": [1], \"means\": [[0]]", "not valid JSON")]
    [InlineData("[1, 2]", "the top level is an array")]
    [InlineData("{\"means\": [[0]], \"std\": 1}", "missing \"weights\"")]
    [InlineData("{\"weights\": [1], \"means\": [[0]]}", "missing \"std\"")]
    [InlineData("{\"weights\": 1, \"means\": [[0]], \"std\": 1}", "\"weights\" is a number, expected an array")]
    [InlineData("{\"weights\": [], \"means\": [], \"std\": 1}", "\"weights\" is empty")]
    [InlineData("{\"weights\": [1], \"means\": [0], \"std\": 1}", "means[0] is a number, expected an array")]
    [InlineData("{\"weights\": [1], \"means\": [[]], \"std\": 1}", "means[0] is empty")]
    public void BadFilesAreDataErrorsNamingTheFileAndTheProblem(string json, string problem)
    {
        string path = Write(json);
        var e = Assert.Throws<DataException>(() => AnalyticMixtureFile.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingFileIsADataError()
    {
        string path = Path.Combine(_dir, "nope.json");
        var e = Assert.Throws<DataException>(() => AnalyticMixtureFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not found", e.Message);
    }
}
