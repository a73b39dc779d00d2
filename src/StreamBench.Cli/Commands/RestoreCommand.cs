using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StreamBench.Capture.Input;
using StreamBench.Domain;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>streambench restore</c>: restores a stream (file or stdin; xl, libxl or bare libxc) into a fresh simulated
/// domain and prints a report whose last line is <c>digest: &lt;64 hex&gt;</c>. Exit 0 on success, 1 on a stream
/// error (the message names offset, record and field, and ends with the check id), 2 on a usage or I/O error.
/// The domain's configuration comes from the xl header; streams without one need --vcpus and --memory (and
/// --guest pvh for a PVH guest), as <c>xl restore</c> needs a config file for them. With --json the report is one
/// JSON object instead (<see cref="JsonReport.WriteRestore"/>), for scripts such as tools/xenlab/lab.sh.
/// </summary>
internal static class RestoreCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "stream file, or - for standard input" };
        var format = new Option<string>("--format", "-f") { Description = "auto, xl, libxl or libxc", DefaultValueFactory = _ => "auto" };
        var guest = new Option<string?>("--guest") { Description = "pv, pv32, hvm or pvh (overrides the stream's config)" };
        var memory = new Option<string?>("--memory", "-m") { Description = "guest RAM, e.g. 256M (overrides the stream's config)" };
        var vcpus = new Option<int?>("--vcpus") { Description = "vCPUs (overrides the stream's config)" };
        var checkpointed = new Option<string>("--checkpointed")
        {
            Description = "auto (accept Remus checkpoints), yes, or no (a CHECKPOINT is an error)",
            DefaultValueFactory = _ => "auto",
        };
        var ignoreReserved = new Option<bool>("--ignore-reserved") { Description = "ignore non-zero reserved fields and padding, as the C restore does" };
        var openMap = new Option<bool?>("--open-memory-map")
        {
            Description = "HVM/PVH: let the guest populate pfns inside libxl's holes (default: yes for real xl configs, no for the engine's own streams)",
        };
        var saveTo = new Option<string?>("--save-to")
        {
            Description = "then save the restored domain again with this engine into FILE (- for stdout): the round trip a real host's xl restore can take",
        };
        var saveFormat = new Option<string?>("--save-format")
        {
            Description = "with --save-to: xl, libxl or libxc (default: the input's own layer; xl keeps the input's config text)",
        };
        var dialect = new Option<string>("--dialect")
        {
            Description = "upstream, or postcopy-rfc: restore as a post-copy destination (pages after the transition; with --back-channel, faults and POSTCOPY_COMPLETE go back)",
            DefaultValueFactory = _ => "upstream",
        };
        var colo = new Option<bool>("--colo") { Description = "restore as a COLO secondary (resume, run, suspend at each checkpoint, dirty pfn lists); needs --back-channel" };
        var backChannel = new Option<string?>("--back-channel")
        {
            Description = "with --colo or --dialect postcopy-rfc: write the secondary's (destination's) messages to PATH (a file)",
        };
        var touches = new Option<int>("--touches")
        {
            Description = "post-copy with --back-channel: the guest's vCPU touches this many pages after the transition (a touch of an absent page faults), 0: it does not run",
        };
        var touchSeed = new Option<ulong>("--touch-seed") { Description = "seed of the vCPU's touches", DefaultValueFactory = _ => 1ul };
        var workload = new Option<string>("--workload")
        {
            Description = "--colo: the secondary guest's workload between checkpoints (uniform, hotset or sequential[:RATE], or none)",
            DefaultValueFactory = _ => "none",
        };
        var json = new Option<bool>("--json")
        {
            Description = "print the report as one JSON object (ok, format, records, pages, warnings, the saved-again file, digest) instead of text; a refused input prints {ok: false, error: {offset, layer, recordIndex, recordType, field, check}} and exits 1",
        };
        var command = new Command("restore", "Restore a stream into a simulated domain; prints the restored domain's digest last.")
        {
            format, guest, memory, vcpus, checkpointed, ignoreReserved, openMap, saveTo, saveFormat, dialect, colo, backChannel, touches, touchSeed, workload, json,
        };
        command.Arguments.Add(input);
        command.SetAction(parse => Run(new Request(parse.GetValue(input)!, parse.GetValue(format)!, parse.GetValue(guest), parse.GetValue(memory),
            parse.GetValue(vcpus), parse.GetValue(checkpointed)!, parse.GetValue(ignoreReserved), parse.GetValue(openMap),
            parse.GetValue(saveTo), parse.GetValue(saveFormat), CliNames.Dialects.Parse(parse.GetValue(dialect)), parse.GetValue(colo),
            parse.GetValue(backChannel), parse.GetValue(touches), parse.GetValue(touchSeed), parse.GetValue(workload), parse.GetValue(json))));
        return command;
    }

    /// <summary>The values of one <c>restore</c> command line.</summary>
    private sealed record Request(string Path, string Format, string? Guest, string? Memory, int? Vcpus, string Checkpointed,
        bool IgnoreReserved, bool? OpenMap, string? SaveTo, string? SaveFormat, StreamDialect Dialect, bool Colo, string? BackChannel,
        int Touches, ulong TouchSeed, string? Workload, bool Json);

    private static int Run(Request r)
    {
        RestoreOptions options = Options(r);
        RestoreResult result;
        ColoSecondary? secondary;
        try
        {
            result = Restore(r, options, out secondary);
        }
        catch (StreamFormatException e) when (r.Json)
        {
            // A script reading --json gets an object on a refusal too (where, which record, field and check); the error
            // line and exit code 1 follow as for every command.
            using (var writer = new Utf8JsonWriter(r.SaveTo == "-" ? Console.OpenStandardError() : Console.OpenStandardOutput(),
                new JsonWriterOptions { Indented = true }))
            {
                JsonReport.WriteRestoreRefusal(writer, r.Path, e);
            }

            (r.SaveTo == "-" ? Console.Error : Console.Out).WriteLine();
            throw;
        }

        using GuestDomain domain = result.Domain;
        TextWriter o = r.SaveTo == "-" ? Console.Error : Console.Out; // stdout carries the saved stream
        int exit = r.Json ? VerifyExit(result) : Report(o, r.Path, result, domain, secondary);
        SavedAgain? saved = r.SaveTo is { } savePath ? SaveAgain(domain, result, savePath, r.SaveFormat) : null;
        string digest = domain.ComputeDigest().ToString();
        if (r.Json)
        {
            using var writer = new Utf8JsonWriter(r.SaveTo == "-" ? Console.OpenStandardError() : Console.OpenStandardOutput(),
                new JsonWriterOptions { Indented = true });
            JsonReport.WriteRestore(writer, r.Path, result, domain, secondary, saved, digest);
            writer.Flush();
            o.WriteLine();
            return exit;
        }

        if (saved is { } s)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"saved again: {s.Path} ({s.Format}{(s.InputConfig ? ", the input's config" : "")}): {s.Records} records, {s.Bytes} bytes"));
        }

        o.WriteLine($"digest: {digest}");
        return exit;
    }

    /// <summary>The usage rules of the sequences (COLO, post-copy, back channel), then the engine's options.</summary>
    private static RestoreOptions Options(Request r)
    {
        if (r.Colo && r.Dialect == StreamDialect.PostcopyRfc)
        {
            throw new ArgumentException("--colo and --dialect postcopy-rfc are two different sequences: give one");
        }

        if (r.Colo && r.BackChannel is null)
        {
            throw new ArgumentException("--colo needs --back-channel PATH: where the secondary's messages go (a file)");
        }

        if (r.BackChannel is not null && !r.Colo && r.Dialect != StreamDialect.PostcopyRfc)
        {
            throw new ArgumentException("--back-channel is for --colo or --dialect postcopy-rfc");
        }

        if (r.Touches < 0 || r.Touches > 0 && r.BackChannel is null)
        {
            throw new ArgumentException("--touches N (N >= 0) runs the post-copy guest's vCPU: it needs --dialect postcopy-rfc and --back-channel");
        }

        return new RestoreOptions
        {
            Reader = new XenStreamReaderOptions { Format = CliNames.RestoreFormats.Parse(r.Format), Dialect = r.Dialect },
            Guest = r.Guest is null ? null : CliNames.Guests.Parse(r.Guest),
            MemoryPages = r.Memory is null ? null : EngineCli.ParseMemoryPages(r.Memory),
            Vcpus = r.Vcpus,
            Checkpoints = CliNames.CheckpointModes.Parse(r.Checkpointed),
            CheckReservedFields = !r.IgnoreReserved,
            OpenMemoryMap = r.OpenMap,
            StreamingDigest = true, // the digest printed last is hashed while the pages arrive (HVM/PVH)
        };
    }

    private static RestoreResult Restore(Request r, RestoreOptions options, out ColoSecondary? secondary)
    {
        secondary = null;
        PostcopyDestination? destination = null;
        RestoreResult result;
        // The back channel first, then the main stream (whose head is read at once): save opens them in the same
        // order, so two FIFOs between the processes cannot deadlock.
        using (Stream? back = r.BackChannel is null ? null : CliIo.OpenBackChannel(r.BackChannel, write: true))
        using (var input = StreamInputs.Open(r.Path, new StreamInputOptions { Format = options.Reader.Format, ReadAhead = true }))
        // Legacy input is converted on the fly, as libxl's conversion helper does; unless --checkpointed no, with
        // its Remus checkpoints (the helper's --remus), so that a legacy Remus image restores to its last complete one.
        using (var v3 = StreamInputs.AsV3(input, checkpoints: options.Checkpoints != CheckpointMode.Plain))
        {
            string? workloadText = r.Workload;
            secondary = r.Colo ? new ColoSecondary(back!, d => EngineCli.ParseWorkload(workloadText, d, 1)) : null;
            int touchCount = r.Touches;
            ulong touchSeedValue = r.TouchSeed;
            destination = r.Dialect == StreamDialect.PostcopyRfc && back is not null
                ? new PostcopyDestination(back, d => touchCount == 0 ? null : new PostcopyGuest(d.DataPfns().ToList(), touchSeedValue, touchCount))
                : null;
            try
            {
                result = RestoreEngine.Restore(v3.Source, options with { Reader = v3.ReaderOptions(options.Reader), Colo = secondary, Postcopy = destination });
            }
            catch (StreamFormatException e)
            {
                throw v3.Explain(e); // a legacy input's own error, at its offset, explains the failure
            }
            finally
            {
                secondary?.Dispose();
                destination?.Dispose();
            }

            v3.Complete();
        }

        return result;
    }

    /// <summary>The report's lines; exit 1 when VERIFY found pages that differ.</summary>
    private static int Report(TextWriter o, string path, RestoreResult result, GuestDomain domain, ColoSecondary? secondary)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine($"restore: {path} ({result.Format.ToString().ToLowerInvariant()}, stream v{result.StreamVersion}, Xen {result.XenVersion.Major}.{result.XenVersion.Minor}): {result.Config?.ToString() ?? domain.Type.ToName()}");
        o.WriteLine(string.Create(ci,
            $"records: {result.Records}, PAGE_DATA: {result.PageDataRecords}, pfns: {result.Pfns}, pages of data: {result.DataPages}, bytes: {result.Bytes}, time: {result.Elapsed.TotalSeconds:F3} s, throughput: {EngineCli.Rate(result.Bytes, result.Elapsed)}"));
        o.WriteLine(string.Create(ci,
            $"memory: {domain.MaterialisedPages} pages resident ({domain.AllocatedContentBytes >> 20} MiB of page buffers), {domain.PopulatedCount} populated"));
        if (result.Checkpointed)
        {
            o.WriteLine($"checkpoints applied: {result.CheckpointsApplied}" +
                (result.FailedOver ? $" (failover: {result.DiscardedRecords} records, {result.DiscardedBytes} bytes of an incomplete checkpoint discarded)" : ""));
        }

        if (secondary is not null)
        {
            foreach (ColoSecondaryCheckpoint c in secondary.Checkpoints)
            {
                string dirty = c.DirtyPfnsSent < 0 ? "no dirty list (it was not asked to suspend again)" : $"{c.DirtyPfnsSent} pfn(s) reported dirty";
                o.WriteLine(string.Create(ci, $"  checkpoint {c.Index}: digest {c.Digest}, then the secondary's own run wrote {c.OwnWrites} page(s), {dirty}"));
            }

            o.WriteLine($"COLO: {secondary.Checkpoints.Count} checkpoint(s) applied; failover: {secondary.FailoverReason ?? "none"}");
        }

        if (result.Postcopy is { } pc)
        {
            string latency = pc.FaultLatencies.Count > 0
                ? string.Create(ci, $", fault latency (pages received until the page came) mean {pc.FaultLatencies.Average():F1}, max {pc.FaultLatencies.Max()}")
                : "";
            o.WriteLine(string.Create(ci,
                $"post-copy: {pc.Announced} page(s) announced, {pc.Arrived} arrived after the transition; {pc.Faults} fault(s) sent, {pc.Refaults} re-fault(s) of pages in flight{latency}{(pc.CompleteSent ? "; POSTCOPY_COMPLETE sent" : "")}"));
        }

        foreach (string warning in result.Warnings)
        {
            o.WriteLine($"note: {warning}");
        }

        if (!result.VerifyMode)
        {
            return ExitCodes.Ok;
        }

        o.WriteLine($"verify: {result.VerifiedPages} pages compared, {result.VerifyMismatchCount} mismatch(es)" +
            (result.VerifyMismatchCount > 0 ? ": pfns " + string.Join(", ", result.VerifyMismatches.Take(16).Select(p => $"0x{p:x}")) : ""));
        return VerifyExit(result);
    }

    /// <summary>Exit 1 (with a line on stderr) when VERIFY found pages that differ.</summary>
    private static int VerifyExit(RestoreResult result)
    {
        if (!result.VerifyMode || result.VerifyMismatchCount == 0)
        {
            return ExitCodes.Ok;
        }

        Console.Error.WriteLine($"restore: VERIFY found {result.VerifyMismatchCount} page(s) that differ from the first copy");
        return ExitCodes.InvalidStream;
    }

    /// <summary>
    /// --save-to: the engine's own save of what it restored. xl keeps the save file's config text, so that xl restore
    /// recreates the same domain on a real host. A checkpointed input is saved as a plain stream.
    /// </summary>
    private static SavedAgain SaveAgain(GuestDomain domain, RestoreResult result, string savePath, string? saveFormat)
    {
        SaveFormat layer = saveFormat is { } text ? CliNames.SaveFormats.Parse(text) : result.Format switch
        {
            OuterFormat.Libxc => SaveFormat.Libxc,
            OuterFormat.Libxl => SaveFormat.Libxl,
            _ => SaveFormat.Xl,
        };
        SaveResult saved;
        using (Stream stream = CliIo.OpenOutput(savePath))
        {
            saved = SaveEngine.Save(domain, stream, new SaveOptions
            {
                Format = layer,
                Config = result.Config,
                XenVersion = result.XenVersion,
                EmulatorContext = result.EmulatorContext, // a real QEMU must be able to load it again
            });
        }

        return new SavedAgain(savePath, layer.ToString().ToLowerInvariant(),
            layer == SaveFormat.Xl && result.Config is { XlConfigText.IsEmpty: false }, saved.Records, saved.Bytes);
    }
}

/// <summary>What <c>restore --save-to</c> wrote.</summary>
/// <param name="Path">The file (- for stdout).</param>
/// <param name="Format">The layer saved: xl, libxl or libxc.</param>
/// <param name="InputConfig">Whether the xl header carries the input's own config text.</param>
/// <param name="Records">Records written.</param>
/// <param name="Bytes">Bytes written.</param>
internal sealed record SavedAgain(string Path, string Format, bool InputConfig, long Records, long Bytes);
