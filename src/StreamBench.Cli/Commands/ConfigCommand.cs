using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>streambench config</c>: shows the xl config a stream carries, or (<c>--adapt</c>) rewrites it for the bench host
/// (ConfigAdapter) and writes it beside the stream (<c>-o</c>, xl.cfg for <c>xl restore CFG STREAM</c>) and/or as a
/// rewritten copy of the stream named as such (<c>--rewrite</c>, for <c>xl migrate-receive</c>, which takes no config
/// file). The input stream is never modified.
/// </summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "an xl save file or the sender side of an xl migration (starts with the xl header)" };
        var adapt = new Option<bool>("--adapt") { Description = "rewrite the carried config for this (bench) host; without it the carried config is printed" };
        var output = new Option<string?>("--output", "-o") { Description = "write the (adapted) config here as xl.cfg text, for `xl restore CFG STREAM` (default: standard output)" };
        var rewrite = new Option<string?>("--rewrite") { Description = "also write a copy of the stream whose xl header carries the adapted config (for `xl migrate-receive`); must differ from the input" };
        var report = new Option<string?>("--report") { Description = "write what was changed as JSON to this file" };
        var json = new Option<bool>("--json") { Description = "print the JSON report on standard output (the config then needs -o)" };
        var consoleDir = new Option<string>("--console-dir") { Description = "folder of the HVM serial log", DefaultValueFactory = _ => "/var/log/xen/console" };
        var scratch = new Option<string?>("--scratch-dir") { Description = "map disks to scratch images in this folder (default: drop disks)" };
        var diskSize = new Option<string[]>("--disk-size") { Description = "VDEV=SIZE (bytes, or with K/M/G): a scratch image's size; repeatable", AllowMultipleArgumentsPerToken = false };
        var bridge = new Option<string?>("--bridge") { Description = "connect vifs to this bridge (default: drop vifs)" };
        var kernel = new Option<string?>("--kernel") { Description = "replacement kernel path (HVM direct kernel boot)" };
        var ramdisk = new Option<string?>("--ramdisk") { Description = "replacement ramdisk path" };
        var dm = new Option<string?>("--device-model") { Description = "replacement device model binary" };
        var cpus = new Option<string?>("--cpus") { Description = "comma-separated physical CPUs for every vCPU (default: the source's affinity is dropped)" };
        var name = new Option<string?>("--name") { Description = "a new domain name" };
        var cmd = new Command("config", "Show the xl config a stream carries, or adapt it to this host (--adapt): paths, disks, vifs, scripts, CPUs; memory and vCPUs kept.")
        {
            input, adapt, output, rewrite, report, json, consoleDir, scratch, diskSize, bridge, kernel, ramdisk, dm, cpus, name,
        };
        cmd.SetAction(parse =>
        {
            var request = new ConfigRequest(parse.GetValue(input)!, parse.GetValue(output), parse.GetValue(rewrite),
                parse.GetValue(report), parse.GetValue(json));
            if (!parse.GetValue(adapt))
            {
                return Show(request);
            }

            var options = new ConfigAdaptOptions
            {
                ConsoleDir = parse.GetValue(consoleDir)!,
                ScratchDir = parse.GetValue(scratch),
                DiskSizes = ParseSizes(parse.GetValue(diskSize) ?? []),
                Bridge = parse.GetValue(bridge),
                Kernel = parse.GetValue(kernel),
                Ramdisk = parse.GetValue(ramdisk),
                DeviceModel = parse.GetValue(dm),
                Cpus = parse.GetValue(cpus) is string c ? c.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x.Trim(), NumberStyles.None, CultureInfo.InvariantCulture)).ToArray() : null,
                Name = parse.GetValue(name),
            };
            return AdaptAndWrite(request, options);
        });
        return cmd;
    }

    /// <summary>The paths and output choices of one <c>config</c> run.</summary>
    private sealed record ConfigRequest(string Input, string? Output, string? Rewrite, string? Report, bool Json);

    private static ConfigAdapter.XlHeaderInfo ReadHeader(string path)
    {
        using var src = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return ConfigAdapter.ReadXlHeader(src);
    }

    // Without --adapt: the carried config as it is.
    private static int Show(ConfigRequest request)
    {
        if (request.Rewrite is not null || request.Report is not null)
        {
            throw new ArgumentException("--rewrite and --report need --adapt");
        }

        ConfigAdapter.XlHeaderInfo header = ReadHeader(request.Input);
        ReadOnlySpan<byte> config = header.Config;
        int nul = config.IndexOf((byte)0);
        string text = Encoding.UTF8.GetString(nul >= 0 ? config[..nul] : config);
        WriteText(request.Output, text.EndsWith('\n') ? text : text + "\n");
        Console.Error.WriteLine($"streambench config: {request.Input}: {(header.IsJson ? "libxl JSON" : "xl.cfg text")} config, {config.Length} bytes");
        return ExitCodes.Ok;
    }

    private static int AdaptAndWrite(ConfigRequest request, ConfigAdaptOptions options)
    {
        ConfigAdapter.XlHeaderInfo header = ReadHeader(request.Input);
        AdaptedConfig result = Adapt(request.Input, header, options);
        if (request.Json && request.Output is null)
        {
            throw new ArgumentException("with --json the config needs -o FILE");
        }

        long rewritten = -1;
        if (request.Rewrite is { } rewritePath)
        {
            if (Path.GetFullPath(rewritePath) == Path.GetFullPath(request.Input))
            {
                throw new ArgumentException("--rewrite must name a new file: the input stream is never altered");
            }

            using var src = new FileStream(request.Input, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var dst = new FileStream(rewritePath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            rewritten = ConfigAdapter.RewriteXlHeader(src, dst, result);
        }

        WriteText(request.Output, result.XlCfg);
        byte[] reportJson = Report(request.Input, result, request.Output, request.Rewrite, rewritten);
        if (request.Report is string rp)
        {
            File.WriteAllBytes(rp, reportJson);
        }

        if (request.Json)
        {
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(reportJson);
            stdout.WriteByte((byte)'\n');
        }

        PrintChanges(result, request.Rewrite, rewritten);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// <see cref="ConfigAdapter.Adapt"/>; a config the adapter cannot use (not the header around it) is an invalid
    /// stream, named as such.
    /// </summary>
    private static AdaptedConfig Adapt(string input, ConfigAdapter.XlHeaderInfo header, ConfigAdaptOptions options)
    {
        try
        {
            return ConfigAdapter.Adapt(header, options);
        }
        catch (FormatException e) when (e is not StreamFormatException)
        {
            throw new InvalidInputException($"{input}: the carried config is unusable: {e.Message}", e);
        }
    }

    private static void PrintChanges(AdaptedConfig result, string? rewritePath, long rewritten)
    {
        DomainConfig d = result.Original;
        Console.Error.WriteLine($"streambench config: {d.Name} ({d}): {result.Changes.Count} change(s) for this host; memory, vCPUs and type kept");
        foreach (ConfigChange ch in result.Changes)
        {
            Console.Error.WriteLine($"  changed {ch.Field}: {ch.From ?? "(none)"} -> {ch.To ?? "(removed)"}  ({ch.Why})");
        }

        foreach (ScratchDisk s in result.Disks)
        {
            Console.Error.WriteLine($"  scratch image needed: {s.Path}, {s.SizeBytes} bytes{(s.SizeKnown ? "" : " (size assumed)")}");
        }

        foreach (string note in result.Notes)
        {
            Console.Error.WriteLine("  note: " + note);
        }

        if (rewritePath is not null)
        {
            Console.Error.WriteLine($"  rewritten copy (xl header config replaced, the rest byte for byte): {rewritePath}, {rewritten} bytes");
        }
    }

    private static void WriteText(string? path, string text)
    {
        if (path is null or "-")
        {
            Console.Out.Write(text);
            return;
        }

        File.WriteAllText(path, text);
    }

    private static Dictionary<string, long> ParseSizes(string[] specs)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"--disk-size '{spec}': use VDEV=SIZE");
            }

            string v = spec[(eq + 1)..].Trim();
            long mul = v.Length > 0 ? char.ToUpperInvariant(v[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 } : 1;
            string digits = mul == 1 ? v : v[..^1];
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0 || n > long.MaxValue / mul)
            {
                throw new ArgumentException($"--disk-size '{spec}': SIZE must be a positive number of bytes (K/M/G allowed)");
            }

            sizes[spec[..eq].Trim()] = n * mul;
        }

        return sizes;
    }

    private static byte[] Report(string input, AdaptedConfig r, string? cfg, string? rewrite, long rewritten)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("input", input);
            w.WriteString("name", r.Original.Name);
            w.WriteString("type", r.Original.Type.ToString().ToLowerInvariant());
            w.WriteNumber("vcpus", r.Original.Vcpus);
            w.WriteNumber("memoryMiB", r.Original.MemoryMiB);
            w.WriteString("configForm", r.IsJson ? "json" : "xl.cfg");
            w.WriteStartArray("changes");
            foreach (ConfigChange c in r.Changes)
            {
                w.WriteStartObject();
                w.WriteString("field", c.Field);
                w.WriteString("from", c.From);
                w.WriteString("to", c.To);
                w.WriteString("why", c.Why);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("scratchDisks");
            foreach (ScratchDisk d in r.Disks)
            {
                w.WriteStartObject();
                w.WriteString("vdev", d.Vdev);
                w.WriteString("path", d.Path);
                w.WriteNumber("sizeBytes", d.SizeBytes);
                w.WriteBoolean("sizeKnown", d.SizeKnown);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("notes");
            foreach (string n in r.Notes)
            {
                w.WriteStringValue(n);
            }

            w.WriteEndArray();
            w.WriteString("config", cfg);
            w.WriteString("rewritten", rewrite);
            if (rewritten >= 0)
            {
                w.WriteNumber("rewrittenBytes", rewritten);
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
