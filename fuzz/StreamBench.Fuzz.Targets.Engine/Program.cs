using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Fuzz.Targets;

// The fuzz target host with the restore engine: every formats target plus the engine's (EngineCatalog).
return Host.Run(args, StreamBench.Fuzz.Targets.Engine.EngineCatalog.All, StreamBench.Fuzz.Targets.Engine.EngineCatalog.Seeds);

/// <summary>
/// The <c>restore-engine</c> target: the whole restore of the input. The domain's size is given (as xl restore needs a
/// config for a stream without one); an xl header's config is overridden for memory, so a stream cannot ask for a
/// domain larger than 8 MiB. Only <see cref="StreamFormatException"/> is expected.
/// </summary>
internal static class RestoreTarget
{
    private static readonly RestoreOptions Options = new() { MemoryPages = 2048, Vcpus = 2 };

    public static void Run(ReadOnlyMemory<byte> data)
    {
        using var source = ByteSource.FromMemory(data);
        // Discarded at once (a failed restore discards its domain itself): its page slabs go back to the pool
        // the next execution's domain takes them from (PageStore), instead of 1 MiB allocated and zeroed per input.
        RestoreEngine.Restore(source, Options).Domain?.Discard();
    }

    /// <summary>
    /// The "engine" seed family: streams the save engine writes for small PV, PV32, HVM and PVH domains (plain, live,
    /// checkpointed; libxc, libxl and xl), made small but still restorable (<see cref="Seeds.ShrinkRestorable"/>).
    /// HVM and PVH guests are tiny (<see cref="TinyPages"/> pages, as the COLO and post-copy targets' guest), PV guests
    /// nearly so (<see cref="TinyPvPages"/>, the builder's smallest), one HVM guest has the builder's smallest size in
    /// MiB. Every restore of a seed or its mutants populates each page of the guest and validates, localises and
    /// discards them, so an execution costs about what the guest's page count does (docs/BENCHMARKS.md, "The
    /// restore-engine fuzz target").
    /// </summary>
    public static IEnumerable<(string Family, string Name, byte[] Bytes)> Seeds()
    {
        foreach (var type in (GuestType[])[GuestType.Hvm, GuestType.Pvh, GuestType.Pv, GuestType.Pv32])
        {
            foreach (var format in (SaveFormat[])[SaveFormat.Libxc, SaveFormat.Libxl, SaveFormat.Xl])
            {
                foreach (var (shape, options) in ((string, SaveOptions)[])[
                    ("plain", new SaveOptions { Format = format }),
                    ("checkpointed", new SaveOptions { Format = format, Checkpoints = 1 })])
                {
                    var spec = DomainSpec.Tiny(type, type.IsHvmContainer() ? TinyPages : TinyPvPages, 1, 7);
                    yield return ("engine", $"save-{type.ToName()}-{format.ToString().ToLowerInvariant()}-{shape}", Save(spec, options));
                }
            }
        }

        yield return ("engine", $"save-hvm-libxc-plain-{DomainSpec.MinMemoryMiB}mib",
            Save(new DomainSpec(GuestType.Hvm, DomainSpec.MinMemoryMiB, 1, 7), new SaveOptions { Format = SaveFormat.Libxc }));
    }

    /// <summary>RAM pages of the HVM and PVH seed guests.</summary>
    public const ulong TinyPages = 32;

    /// <summary>RAM pages of the PV and PV32 seed guests.</summary>
    public const ulong TinyPvPages = DomainSpec.MinPvPages;

    private static byte[] Save(DomainSpec spec, SaveOptions options)
    {
        var domain = DomainBuilder.Build(spec);
        if (options.Format == SaveFormat.Xl)
        {
            // An xl config names at least 1 MiB (xl's own rule, which restore checks first): a tiny guest's xl header
            // says 1 MiB, or every xl seed and its mutants would stop at the header. The target restores into a
            // domain of its own size anyway.
            var config = DomainConfig.FromDomain(domain);
            options = options with { Config = config with { MemoryPages = Math.Max(config.MemoryPages, DomainConfig.MinXlConfigPages) } };
        }

        using var ms = new MemoryStream();
        SaveEngine.Save(domain, ms, options);
        return StreamBench.Fuzz.Targets.Seeds.ShrinkRestorable(ms.ToArray());
    }
}

/// <summary>
/// The COLO and post-copy targets: each side of the two protocols fed mutated input for the other side. Every domain,
/// on the saving and on the restoring side, is a tiny HVM guest of <see cref="Pages"/> pages (plus its 16 special
/// pages), the one the seeds come from: a whole COLO or post-copy session of it is a few KiB, so the seeds are real
/// sessions that AFL++ can mutate, and memory is bounded by the domain, never by the input (a dirty pfn list or a
/// fault flood holds at most one entry per pfn of the guest).
/// </summary>
internal static class EngineTargets
{
    /// <summary>RAM pages of every domain of these targets and of their seeds.</summary>
    public const ulong Pages = 32;

    private static readonly WorkloadOptions Load = new(WorkloadPattern.HotSet, 8, 3);

    public static void ColoSecondary(ReadOnlyMemory<byte> data)
    {
        using var back = new MemoryStream();
        using var secondary = new ColoSecondary(back, d => new Workload(d, Load));
        using var source = ByteSource.FromMemory(data);
        RestoreEngine.Restore(source, new RestoreOptions { MemoryPages = Pages, Vcpus = 1, Guest = GuestType.Hvm, Colo = secondary }).Domain.Discard();
    }

    public static void ColoPrimaryBackChannel(ReadOnlyMemory<byte> data)
    {
        using GuestDomain domain = SmallHvm();
        using var primary = new ColoPrimary(new MemoryStream(data.ToArray(), writable: false));
        SaveEngine.Save(domain, Stream.Null, new SaveOptions
        {
            Checkpoints = 3, Format = SaveFormat.Libxl, Colo = primary, Workload = new Workload(domain, Load),
        });
    }

    public static void PostcopyDestination(ReadOnlyMemory<byte> data)
    {
        using var back = new MemoryStream();
        var guest = new PostcopyGuest(Enumerable.Range(0, (int)Pages).Select(i => (ulong)i).ToArray(), 5, 64);
        using var destination = new PostcopyDestination(back, guest);
        using var source = ByteSource.FromMemory(data);
        RestoreEngine.Restore(source, new RestoreOptions
        {
            MemoryPages = Pages, Vcpus = 1, Guest = GuestType.Hvm, Postcopy = destination,
            Reader = new XenStreamReaderOptions { Dialect = StreamDialect.PostcopyRfc },
        }).Domain.Discard();
    }

    public static void PostcopySourceHostile(ReadOnlyMemory<byte> data)
    {
        using GuestDomain domain = SmallHvm();
        using var postcopy = new PostcopySource(new MemoryStream(data.ToArray(), writable: false));
        SaveEngine.Save(domain, Stream.Null, new SaveOptions
        {
            Live = true, StreamVersion = 2, Format = SaveFormat.Libxl, Postcopy = postcopy,
            Policy = new PrecopyPolicy(MaxIterations: 1, DirtyThreshold: 1), Workload = new Workload(domain, Load),
        });
    }

    private static GuestDomain SmallHvm() => DomainBuilder.Build(DomainSpec.Tiny(GuestType.Hvm, Pages, 1, 7));

    /// <summary>
    /// Seeds from the engine's own sessions of the targets' tiny HVM guest, both directions each: COLO main streams
    /// (colo, for colo-secondary) and back channels (colo-back, for colo-primary), post-copy main streams (postcopy, for
    /// postcopy-destination) and back channels with faults (postcopy-back, for postcopy-source). They are whole sessions,
    /// not shrunk (a few KiB each), so the destination targets get past the transition and through the post-copy phase.
    /// </summary>
    public static IEnumerable<(string Family, string Name, byte[] Bytes)> Seeds()
    {
        foreach (var (format, checkpoints, ticks) in ((SaveFormat, int, int)[])[(SaveFormat.Libxl, 3, 1), (SaveFormat.Libxl, 2, 2), (SaveFormat.Libxl, 1, 3)])
        {
            var name = $"{format.ToString().ToLowerInvariant()}-{checkpoints}cp";
            using GuestDomain source = SmallHvm();
            ColoReport colo = ColoRunner.Run(source, new ColoOptions
            {
                Transport = MigrationTransport.Pipe, Checkpoints = checkpoints, Format = format, PrimaryWorkload = Load,
                SecondaryWorkload = Load with { Seed = 4 }, TicksBetweenCheckpoints = ticks, RecordMainStream = true, RecordBackChannel = true,
            });
            colo.Secondary?.Domain.Discard();
            Console.Error.WriteLine($"seeds: COLO session {name}: {colo.Outcome} ({colo.Reason}), main stream {colo.MainStream?.Length} B, back channel {colo.BackChannel?.Length} B");
            if (colo.Outcome != ColoOutcome.PrimaryStopped)
            {
                throw new InvalidOperationException($"the COLO seed session {name} failed: {colo.Reason}");
            }

            if (colo.MainStream is { } main)
            {
                yield return ("colo", $"colo-main-{name}", StreamBench.Fuzz.Targets.Seeds.ShrinkRestorable(main));
            }

            if (colo.BackChannel is { } back)
            {
                yield return ("colo-back", $"colo-back-{name}", back);
            }
        }

        foreach (var (format, guestSeed, touchesPerRecord) in ((SaveFormat, ulong, int)[])[(SaveFormat.Libxl, 1, 4), (SaveFormat.Libxc, 2, 16), (SaveFormat.Libxl, 3, 1)])
        {
            var name = $"{format.ToString().ToLowerInvariant()}-s{guestSeed}";
            using GuestDomain source = SmallHvm();
            PostcopyReport post = PostcopyRunner.Run(source, new PostcopyOptions
            {
                Format = format, Workload = Load with { PagesPerTick = 4 }, WorkloadTickPages = 16, Policy = new PrecopyPolicy(1, 1),
                GuestSeed = guestSeed, GuestTouches = 64, TouchesPerRecord = touchesPerRecord, BackgroundBatch = 2, Record = true,
            });
            post.Restore?.Domain.Discard();
            Console.Error.WriteLine($"seeds: post-copy session {name}: {post.Outcome} ({post.Reason}), {post.Destination.Faults} fault(s), main stream {post.MainStream?.Length} B, back channel {post.BackChannel?.Length} B");
            if (post.Outcome != PostcopyOutcome.Completed || !post.DigestsEqual)
            {
                throw new InvalidOperationException($"the post-copy seed session {name} failed: {post.Outcome}, {post.Reason}");
            }

            if (post.MainStream is { } main)
            {
                yield return ("postcopy", $"postcopy-main-{name}", StreamBench.Fuzz.Targets.Seeds.ShrinkRestorable(main, StreamDialect.PostcopyRfc));
            }

            if (post.BackChannel is { } back)
            {
                yield return ("postcopy-back", $"postcopy-back-{name}", back);
            }
        }
    }
}
