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
    string MakeRun(string name = "run", double lossScale = 1)
    {
        string run = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.Combine(run, "samples"));
        File.WriteAllText(Path.Combine(run, "config.json"), "{\n  \"method\": \"ncsn\",\n  \"data\": \"fashion-mnist\"\n}\n");
        File.WriteAllLines(Path.Combine(run, "log.jsonl"), Enumerable.Range(1, 20).Select(i =>
            $"{{\"step\":{10 * i},\"loss\":{(lossScale / i).ToString(System.Globalization.CultureInfo.InvariantCulture)},\"it_s\":12.5,\"elapsed_s\":{16 * i}}}"));
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
        // in the order a reader asks: the summary first, the whole config last
        var positions = RunReport.SectionIds.Select(id => html.IndexOf($"<section id=\"{id}\">", StringComparison.Ordinal)).ToList();
        Assert.Equal(positions.Order(), positions);
        Assert.Equal(5, html.Split("src=\"data:image/").Length - 1);   // the latest samples, loss (re-plotted from log.jsonl), 2 sample grids, the GIF
        string summary = html[positions[0]..positions[1]];
        foreach (var fact in new[] { "<th>method</th><td>ncsn</td>", "<td>fashion-mnist</td>", "<th>steps trained</th><td>200</td>", "<td>0.05</td>", "<td>5.3 min</td>", "<td>12.5 it/s</td>", "<th>fd</th><td>12.5</td>" })
            Assert.Contains(fact, summary);
        Assert.Contains("step 200", html[positions[1]..positions[2]]);   // the latest grid is step 200's
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
        Assert.Equal(7, bare.Split("class=\"missing\"").Length - 1);   // all but the summary, which says "unknown" and "none yet"
        Assert.Contains("none yet", bare);
    }

    [Fact]
    public void RunsSideBySideShareOnePage()
    {
        string a = MakeRun("fast"), b = MakeRun("slow", lossScale: 3);
        File.Delete(Path.Combine(b, "metrics.json"));
        string html = RunReport.RenderComparison([a, b]);
        foreach (var id in RunReport.ComparisonSectionIds) Assert.Contains($"<section id=\"{id}\">", html);
        Assert.Equal(3, html.Split("src=\"data:image/").Length - 1);   // the overlaid losses, each run's latest samples
        Assert.Contains("<td>fast</td>", html);
        Assert.Contains("<td>slow</td>", html);
        Assert.Contains("<th>fast</th><th>slow</th>", html);             // the metrics table, a column per run
        Assert.Contains("<td>0.15</td>", html);                          // slow's last loss
        // a folder of runs is the runs inside it
        Assert.Equal([a, b], RunReport.Runs([_dir]).Select(Path.GetFullPath));
        var cli = CliRunner.RunIn(_dir, "report", "--runs", $"{a},{b}", "--out", Path.Combine(_dir, "both.html"));
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        Assert.Contains("(2 runs)", cli.Stdout);
        CliRunner.AssertFails(CliRunner.RunIn(_dir, "report", "--runs", $"{a},{Path.Combine(_dir, "nope")}"), 1, "run folder not found");
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

        var (exit, dom) = RunChromium(chromium, "--virtual-time-budget=5000", "--dump-dom", url);
        Assert.Equal(0, exit);
        foreach (var id in RunReport.SectionIds) Assert.Contains($"<section id=\"{id}\">", dom);
        Assert.Contains("<h1>Langevin run run</h1>", dom);
        Assert.Contains("data-images=\"5\" data-images-loaded=\"5\"", dom);   // every embedded picture decoded in the browser
        Screenshot(chromium, url, "shot.png");

        string other = MakeRun("other", lossScale: 2);
        var both = CliRunner.RunIn(_dir, "report", "--runs", $"{run},{other}", "--out", Path.Combine(_dir, "runs.html"));
        Assert.True(both.ExitCode == 0, both.Stderr);
        string runsUrl = new Uri(Path.Combine(_dir, "runs.html")).AbsoluteUri;
        var (exit3, runsDom) = RunChromium(chromium, "--virtual-time-budget=5000", "--dump-dom", runsUrl);
        Assert.Equal(0, exit3);
        foreach (var id in RunReport.ComparisonSectionIds) Assert.Contains($"<section id=\"{id}\">", runsDom);
        Assert.Contains("data-images=\"3\" data-images-loaded=\"3\"", runsDom);
        Screenshot(chromium, runsUrl, "runs-shot.png");
    }

    void Screenshot(string chromium, string url, string name)
    {

        string shot = Path.Combine(_dir, name);
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
        Assert.True(fraction > 0.05 && colours.Count > 50, $"{name} looks blank: {fraction:P1} non-white, {colours.Count} colours");
    }

    [Fact]
    public void ReportOfAMissingFolderIsAOneLineError()
    {
        CliRunner.AssertFails(CliRunner.RunIn(_dir, "report", Path.Combine(_dir, "nope")), 1, "run folder not found");
    }
}
