using System.Globalization;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Save;

namespace StreamBench.Cli.Commands;

/// <summary>Option parsing and reporting shared by <c>save</c>, <c>restore</c> and <c>demo</c>.</summary>
internal static class EngineCli
{
    /// <summary>"256M", "1G", "4096K", "262144k", or a bare number of MiB.</summary>
    public static ulong ParseMemoryMiB(string text)
    {
        ulong pages = ParseMemoryPages(text);
        if (pages % 256 != 0)
        {
            throw new ArgumentException($"memory '{text}' is not a whole number of MiB");
        }

        return pages / 256;
    }

    /// <summary>The size in 4 KiB pages.</summary>
    public static ulong ParseMemoryPages(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        ulong unitKiB = 1024;
        if (t.EndsWith("IB", StringComparison.Ordinal))
        {
            t = t[..^2];
        }
        else if (t.EndsWith('B'))
        {
            t = t[..^1];
        }

        if (t.EndsWith('K'))
        {
            unitKiB = 1;
            t = t[..^1];
        }
        else if (t.EndsWith('M'))
        {
            t = t[..^1];
        }
        else if (t.EndsWith('G'))
        {
            unitKiB = 1024 * 1024;
            t = t[..^1];
        }

        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0)
        {
            throw new ArgumentException($"cannot read memory size '{text}': use e.g. 256M, 1G or 262144K");
        }

        const ulong maxKiB = DomainSpec.MaxMemoryMiB * 1024;
        if (n > maxKiB / unitKiB)
        {
            // Refused before any arithmetic, so a huge value is never wrapped into a small one.
            throw new ArgumentException($"memory size '{text}' is larger than the simulation's limit of {DomainSpec.MaxMemoryMiB / 1024} GiB");
        }

        ulong kib = n * unitKiB;
        if (kib % 4 != 0)
        {
            throw new ArgumentException($"memory size '{text}' is not a whole number of 4 KiB pages");
        }

        return kib / 4;
    }

    /// <summary>"none", or uniform|hotset|sequential with an optional ":RATE" (writes per 1024 pages sent).</summary>
    public static Workload? ParseWorkload(string? text, GuestDomain domain, ulong seed)
    {
        if (text is null or "" or "none")
        {
            return null;
        }

        string[] parts = text.Split(':', 2);
        WorkloadPattern pattern = CliNames.Workloads.Parse(parts[0]);
        int rate = DefaultWorkloadRate;
        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out rate) || rate < 0))
        {
            throw new ArgumentException($"workload rate '{parts[1]}' is not a non-negative number");
        }

        return new Workload(domain, new WorkloadOptions(pattern, rate, seed));
    }

    /// <summary>Page writes per 1024 pages sent, when the workload names no rate.</summary>
    public const int DefaultWorkloadRate = 32;

    /// <summary>One line per memory pass.</summary>
    public static void WritePasses(TextWriter output, SaveResult result)
    {
        foreach (PassStats p in result.Passes)
        {
            string kind = p.Kind switch
            {
                PassKind.Live => "live",
                PassKind.NonLive => "non-live",
                PassKind.Suspended => "suspended",
                PassKind.Postcopy => "post-copy, after the transition",
                _ => "verify",
            };
            string writes = p.WorkloadWrites > 0 ? $", then the guest wrote {p.WorkloadWrites} pages" : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  iteration {p.Number} ({kind}): {p.Pfns} pfns, {p.DataPages} pages of data, {p.Bytes} bytes, {p.Duration.TotalMilliseconds:F1} ms{writes}"));
        }

        if (result.FinalPrecopyStats is { } stats)
        {
            string why = stats.DirtyCount >= 0 && stats.DirtyCount < result.Options.Policy.DirtyThreshold
                ? $"{stats.DirtyCount} dirty pages < {result.Options.Policy.DirtyThreshold}"
                : $"{stats.Iteration} iterations >= {result.Options.Policy.MaxIterations}";
            output.WriteLine($"  pre-copy: {result.LiveIterations} live iteration(s), stopped ({why}), then suspended");
        }

        if (result.Checkpoints > 0)
        {
            output.WriteLine($"  checkpoints: {result.Checkpoints}");
        }
    }

    /// <summary>Bytes per second, human-readable.</summary>
    public static string Rate(long bytes, TimeSpan elapsed) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes / Math.Max(elapsed.TotalSeconds, 1e-9) / 1e6:F1} MB/s");
}
