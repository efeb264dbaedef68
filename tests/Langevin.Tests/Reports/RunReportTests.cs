using System.Diagnostics;
using Langevin.IO;
using Langevin.Reports;
using Langevin.Tests.Cli;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Reports;

public sealed class RunReportTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("langevin-report-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    /// <summary>A run folder with everything a report shows, made without training.</summary>
    string MakeRun()
    {
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(Path.Combine(run, "samples"));
        File.WriteAllText(Path.Combine(run, "config.json"), "{\n  \"method\": \"ncsn\",\n  \"data\": \"fashion-mnist\"\n}\n");
        File.WriteAllLines(Path.Combine(run, "log.jsonl"), Enumerable.Range(1, 20).Select(i => $"{{\"step\":{10 * i},\"loss\":{1.0 / i}}}"));
        using var g = new Generator(1);
        using (var images = rand([16, 1, 28, 28], generator: g)) ImageGrid.SavePng(Path.Combine(run, "samples", "step_0000100.png"), images);
        using (var images = rand([16, 1, 28, 28], generator: g)) ImageGrid.SavePng(Path.Combine(run, "samples", "step_0000200.png"), images);
        var frames = Enumerable.Range(0, 3).Select(_ => rand([1, 32, 32], generator: g)).ToList();
        GifWriter.Save(Path.Combine(run, "trajectory.gif"), frames);
        foreach (var f in frames) f.Dispose();
        File.WriteAllText(Path.Combine(run, "metrics.json"), "{\"n\": 1000, \"ref\": \"fashion-mnist:test\", \"metrics\": {\"fd\": {\"samples\": 12.5, \"floor\": 0.61}, \"precision\": {\"samples\": 0.7, \"floor\": 0.93}}}");
        File.WriteAllText(Path.Combine(run, "compare.json"), "{\"rows\": [{\"sampler\": \"euler\", \"nfe\": 10, \"fd\": 30.1}, {\"sampler\": \"heun\", \"nfe\": 10, \"fd\": 21.7}]}");
        return run;
    }

    [Fact]
    public void ReportEmbedsEverySectionAndNothingExternal()
    {
        string run = MakeRun();
        string html = RunReport.Render(run);
        foreach (var id in RunReport.SectionIds) Assert.Contains($"<section id=\"{id}\">", html);
        Assert.Equal(4, html.Split("src=\"data:image/").Length - 1);   // loss (re-plotted from log.jsonl), 2 sample grids, the GIF
        Assert.Contains("data:image/gif;base64,", html);
        Assert.DoesNotContain("src=\"http", html);
        Assert.DoesNotContain("src=\"file", html);
        Assert.Contains("<td>heun</td>", html);
        Assert.Contains("<td>12.5</td>", html);

        // An empty run folder still gives every section, each saying what is missing.
        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        string bare = RunReport.Render(empty);
        foreach (var id in RunReport.SectionIds) Assert.Contains($"<section id=\"{id}\">", bare);
        Assert.Equal(6, bare.Split("class=\"missing\"").Length - 1);
    }

    static string? FindChromium() =>
        new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)))
            .FirstOrDefault(File.Exists);

    static (int Exit, string Stdout) RunChromium(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run" }.Concat(args)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(true); Assert.Fail("chromium timed out"); }
        return (p.ExitCode, stdout.Result);
    }

    [Trait("Category", "System")]
    [Fact]
    public void ReportRendersInHeadlessChromium()
    {
        // a System test (tests/system.sh installs Debian's chromium): without it this test fails, it does not pass empty
        string chromium = FindChromium() ?? throw new Xunit.Sdk.XunitException("chromium not found on PATH: install it with 'apt-get install chromium' (tests/system.sh does)");
        string run = MakeRun();
        var cli = CliRunner.RunIn(_dir, "report", run);
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        string page = Path.Combine(run, "report.html");
        Assert.True(File.Exists(page));
        string url = new Uri(page).AbsoluteUri;

        var (exit, dom) = RunChromium(chromium, "--dump-dom", url);
        Assert.Equal(0, exit);
        foreach (var id in RunReport.SectionIds) Assert.Contains($"<section id=\"{id}\">", dom);
        Assert.Contains("<h1>Langevin run run</h1>", dom);

        string shot = Path.Combine(_dir, "shot.png");
        var (exit2, _) = RunChromium(chromium, $"--screenshot={shot}", "--window-size=1000,1600", url);
        Assert.Equal(0, exit2);
        using var bitmap = SKBitmap.Decode(shot);
        Assert.NotNull(bitmap);
        Assert.Equal((1000, 1600), (bitmap.Width, bitmap.Height));
        int nonWhite = 0;
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red < 240 || c.Green < 240 || c.Blue < 240) nonWhite++;
                colours.Add((uint)c);
            }
        double fraction = nonWhite / (bitmap.Width * bitmap.Height / 4.0);
        Assert.True(fraction > 0.05 && colours.Count > 50, $"screenshot looks blank: {fraction:P1} non-white, {colours.Count} colours");
    }

    [Fact]
    public void ReportOfAMissingFolderIsAOneLineError()
    {
        CliRunner.AssertFails(CliRunner.RunIn(_dir, "report", Path.Combine(_dir, "nope")), 1, "run folder not found");
    }
}
