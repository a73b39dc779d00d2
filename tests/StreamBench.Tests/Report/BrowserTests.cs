using System.Diagnostics;
using System.Text.RegularExpressions;
using StreamBench.Report;
using StreamBench.Tests.Capture;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Report;

/// <summary>Where Debian's headless browser is, or null.</summary>
public static class Chromium
{
    /// <summary>chromium (Debian), chromium-browser or google-chrome on PATH.</summary>
    public static string? Path { get; } = Find();

    private static string? Find()
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
        {
            foreach (var d in dirs)
            {
                var p = System.IO.Path.Combine(d, name);
                if (File.Exists(p))
                {
                    return p;
                }
            }
        }
        return null;
    }

    /// <summary>Runs chromium headless with <paramref name="args"/> and the page; returns stdout and stderr.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string page, params string[] args)
    {
        var psi = new ProcessStartInfo(Path!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
            "--enable-logging=stderr", "--v=0", "--user-data-dir=" + System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sb-chromium-" + Environment.ProcessId) })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.ArgumentList.Add(new Uri(page).AbsoluteUri);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(180)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not finish rendering " + page);
        }
        return (p.ExitCode, output.Result, err.Result);
    }
}

/// <summary>A [Theory] skipped, with the reason, when chromium is not installed.</summary>
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets Skip when chromium is absent.</summary>
    public ChromiumTheoryAttribute()
    {
        if (Chromium.Path is null)
        {
            Skip = "chromium is not installed: tools/setup.sh --tests installs Debian's chromium package for the browser test";
        }
    }
}

/// <summary>
/// Renders reports of corpus streams in headless Chromium: the page's script must run without any console message or
/// error, draw the record map, and the DOM must hold the figures the CLI prints. Screenshots are kept in
/// artifacts/report/.
/// </summary>
[Trait("Category", "Browser")]
public sealed class BrowserTests
{
    private static readonly string Artifacts = Path.Combine(Corpus.Root, "artifacts", "report");

    private static ReportDocument Build(string name, string workDir)
    {
        var options = new ReportOptions();
        switch (name)
        {
            case "save-pv":
                return ReportBuilder.Build([Corpus.Get("real/save-pv.xl.zst").Path], options);
            case "migrate-hvm":
                return ReportBuilder.Build([Corpus.Get("real/migrate-hvm.s2r.zst").Path], options);
            case "remus-hvm":
                return ReportBuilder.Build([Corpus.Get("real/remus-hvm.s2r.zst").Path], options);
            case "capture":
            {
                // A capture of the real HVM migration's bytes (the sender's direction, recorded from the file).
                var cap = Path.Combine(workDir, "migrate-hvm.cap");
                var (code, _, err) = CaptureTestSupport.RunCli(null, "record", "-q", "-i", Corpus.Get("real/migrate-hvm.s2r.zst").Path, "-o", cap);
                Assert.True(code == 0, err);
                return ReportBuilder.Build([cap], options);
            }
            case "colo-capture":
            {
                var cap = Path.Combine(workDir, "colo.cap");
                ColoCaptures.Write(cap);
                return ReportBuilder.Build([cap], options);
            }
            case "diff":
                return ReportBuilder.Build([Corpus.Get("real/save-hvm.xl.zst").Path, Corpus.Get("real/save-pvh.xl.zst").Path], options);
            default:
                throw new ArgumentException(name);
        }
    }

    [ChromiumTheory]
    [InlineData("save-pv")]
    [InlineData("migrate-hvm")]
    [InlineData("remus-hvm")]
    [InlineData("capture")]
    [InlineData("colo-capture")]
    [InlineData("diff")]
    public void Report_renders_without_console_errors_and_shows_the_figures(string name)
    {
        Directory.CreateDirectory(Artifacts);
        using var dir = new TempDir();
        var doc = Build(name, dir.Path);
        var html = Path.Combine(Artifacts, name + ".html");
        using (var w = new StreamWriter(html))
        {
            HtmlReport.Write(doc, w);
        }
        var (code, dom, log) = Chromium.Run(html, "--window-size=1300,1000", "--virtual-time-budget=10000", "--dump-dom");
        Assert.True(code == 0, log);
        // The report's script logs nothing: any console line is an error or a warning it did not expect.
        var console = log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
        Assert.True(console.Count == 0, string.Join("\n", console));
        var body = Regex.Match(dom, "<body[^>]*>").Value;
        Assert.Contains("data-rendered=\"ok\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("data-render-error", body, StringComparison.Ordinal);

        var streams = doc.Capture is { } cap ? (cap.Receiver is null ? [cap.Sender] : new[] { cap.Sender, cap.Receiver }) : doc.Streams;
        foreach (var s in streams)
        {
            var summary = s.Verification.Summary;
            Assert.Contains($"data-figure=\"records\">{summary.Records:N0}<", dom, StringComparison.Ordinal);
            foreach (var p in s.Passes)
            {
                Assert.Contains($"data-pages=\"{p.DataPages}\"", dom, StringComparison.Ordinal);
            }
        }
        // The record map was drawn by the script: at least one rect per piece of the first stream.
        var rects = Regex.Count(dom, "class=\"seg\"");
        Assert.True(rects >= streams[0].Segments.Count, $"{rects} map rects for {streams[0].Segments.Count} pieces");
        // Checkpointed streams get the timeline; in a capture the back channel's messages are marked on it, one each.
        foreach (var s in streams.Where(x => x.Checkpoints.Count > 0))
        {
            Assert.Contains($"data-checkpoints=\"{s.Checkpoints.Count}\"", dom, StringComparison.Ordinal);
        }
        if (doc.Capture is { Receiver: { } recv } && doc.Capture.Sender.Checkpoints.Count > 0)
        {
            Assert.Contains($"data-back-marks=\"{recv.BackChannel.Count}\"", dom, StringComparison.Ordinal);
            Assert.Contains("data-axis=\"time\"", dom, StringComparison.Ordinal);
        }
        if (doc.Diff is { } d)
        {
            Assert.Contains($"data-count=\"{d.TotalDifferences}\"", dom, StringComparison.Ordinal);
        }
        var png = Path.Combine(Artifacts, name + ".png");
        File.Delete(png);
        var (shot, _, shotLog) = Chromium.Run(html, "--window-size=1300,2200", "--virtual-time-budget=10000", "--screenshot=" + png);
        Assert.True(shot == 0 && File.Exists(png), shotLog);
    }
}
