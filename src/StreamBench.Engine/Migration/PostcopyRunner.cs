using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Migration;

/// <summary>Options for <see cref="PostcopyRunner"/>.</summary>
public sealed record PostcopyOptions
{
    /// <summary>The bidirectional channel (main stream source → destination, faults back).</summary>
    public MigrationTransport Transport { get; init; } = MigrationTransport.Pipe;

    /// <summary>The stream's outer layer.</summary>
    public SaveFormat Format { get; init; } = SaveFormat.Xl;

    /// <summary>When the live pre-copy passes stop.</summary>
    public PrecopyPolicy Policy { get; init; } = PrecopyPolicy.XenDefault;

    /// <summary>The guest's workload during the pre-copy passes (null: idle).</summary>
    public WorkloadOptions? Workload { get; init; }

    /// <summary>One workload tick per this many pages sent.</summary>
    public int WorkloadTickPages { get; init; } = LibxcWire.MaxBatchSize;

    /// <summary>Page touches the guest's vCPU makes after the transition.</summary>
    public int GuestTouches { get; init; } = 512;

    /// <summary>Seed of the vCPU's touches.</summary>
    public ulong GuestSeed { get; init; } = 1;

    /// <summary>vCPU touches per record received after the transition.</summary>
    public int TouchesPerRecord { get; init; } = 4;

    /// <summary>pfns per background POSTCOPY_PAGE_DATA.</summary>
    public int BackgroundBatch { get; init; } = 32;

    /// <summary>The background push's throttle (<see cref="PostcopySource.BackgroundPause"/>; zero: none).</summary>
    public TimeSpan BackgroundPause { get; init; } = PostcopySource.DefaultBackgroundPause;

    /// <summary>Fault injection: the link is cut after this many main-stream bytes.</summary>
    public long? CutAfterBytes { get; init; }

    /// <summary>Keep a copy of the main stream and of the back channel.</summary>
    public bool Record { get; init; }

    /// <summary>Bytes in flight per direction (pipe transport).</summary>
    public int PipeCapacity { get; init; } = 1 << 20;
}

/// <summary>How a post-copy migration ended.</summary>
public enum PostcopyOutcome
{
    /// <summary>Every page arrived, the destination confirmed; the guest runs on the destination.</summary>
    Completed,

    /// <summary>The link broke before the transition: the source keeps the guest (a clean abort).</summary>
    AbortedBeforeTransition,

    /// <summary>The link broke after the transition: pages never arrived, the guest is lost.</summary>
    GuestLost,

    /// <summary>Something else failed (see the errors).</summary>
    Error,
}

/// <summary>What a post-copy migration did and measured.</summary>
public sealed class PostcopyReport
{
    internal PostcopyReport() { }

    /// <summary>How it ended.</summary>
    public PostcopyOutcome Outcome { get; internal set; }

    /// <summary>Why.</summary>
    public string Reason { get; internal set; } = "";

    /// <summary>The source's save, if it returned.</summary>
    public SaveResult? Save { get; internal set; }

    /// <summary>The destination's restore, if it returned (its domain is the migrated guest; the caller owns it).</summary>
    public RestoreResult? Restore { get; internal set; }

    /// <summary>The source's exception, if any.</summary>
    public Exception? SourceError { get; internal set; }

    /// <summary>The destination's exception, if any.</summary>
    public Exception? DestinationError { get; internal set; }

    /// <summary>The source's post-copy counters.</summary>
    public PostcopySource Source { get; internal set; } = null!;

    /// <summary>The destination's post-copy counters.</summary>
    public PostcopyDestination Destination { get; internal set; } = null!;

    /// <summary>The reference: the source's state at the transition with the same vCPU touches applied.</summary>
    public DomainDigest? ReferenceDigest { get; internal set; }

    /// <summary>The destination's final digest.</summary>
    public DomainDigest? DestinationDigest { get; internal set; }

    /// <summary>The digest law holds.</summary>
    public bool DigestsEqual => ReferenceDigest is not null && ReferenceDigest == DestinationDigest;

    /// <summary>Main-stream bytes delivered.</summary>
    public long Bytes { get; internal set; }

    /// <summary>Wall time from the guest's suspension to the destination's resume (the transition).</summary>
    public TimeSpan Downtime { get; internal set; }

    /// <summary>Wall time of the whole run.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>Data pages sent more than once (after the first full pass).</summary>
    public long PagesSentTwice { get; internal set; }

    /// <summary>The main stream, when recorded.</summary>
    public byte[]? MainStream { get; internal set; }

    /// <summary>The back channel, when recorded.</summary>
    public byte[]? BackChannel { get; internal set; }
}

/// <summary>
/// A post-copy live migration in-process (the RFC dialect): the source (<see cref="SaveEngine"/> with
/// <see cref="PostcopySource"/>) and the destination (<see cref="RestoreEngine"/> with <see cref="PostcopyDestination"/>)
/// on two threads over one bidirectional channel. The destination's guest resumes at the transition and faults on
/// absent pages; the report checks the digest law against a reference run and says what a cut link cost.
/// </summary>
public static class PostcopyRunner
{
    /// <summary>Migrates <paramref name="source"/> (a Ready HVM or PVH domain).</summary>
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "The post-copy run: pre-copy, the transition, the destination's faults and the background push, then the outcome and the digest law; each branch is one step or one outcome of the same run.")]
    public static PostcopyReport Run(GuestDomain source, PostcopyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new PostcopyOptions();
        var report = new PostcopyReport();
        long start = Stopwatch.GetTimestamp();
        using ColoRunner.Channel channel = ColoRunner.Channel.Open(options.Transport, options.PipeCapacity);
        MemoryStream? mainCopy = options.Record ? new MemoryStream() : null;
        MemoryStream? backCopy = options.Record ? new MemoryStream() : null;
        var mainOut = new ColoRunner.CountingStream(channel.PrimarySend, mainCopy, options.CutAfterBytes,
            n => new IOException($"the link was cut after {n} main-stream bytes (injected)"));
        var backOut = new ColoRunner.CountingStream(channel.SecondarySend, backCopy, null, null);

        List<ulong> candidates = source.DataPfns().ToList();
        var guest = new PostcopyGuest(candidates, options.GuestSeed, options.GuestTouches);
        using var src = new PostcopySource(channel.PrimaryReceive) { BackgroundBatch = options.BackgroundBatch, BackgroundPause = options.BackgroundPause };
        using var dst = new PostcopyDestination(backOut, guest) { TouchesPerRecord = options.TouchesPerRecord };
        report.Source = src;
        report.Destination = dst;
        var save = new SaveOptions
        {
            Live = true,
            StreamVersion = 2,
            Format = options.Format,
            Policy = options.Policy,
            Workload = options.Workload is { } w ? new Workload(source, w) : null,
            WorkloadTickPages = options.WorkloadTickPages,
            Postcopy = src,
        };
        save.Validate();
        var restore = new RestoreOptions
        {
            Config = DomainConfig.FromDomain(source),
            Postcopy = dst,
            Reader = new XenStreamReaderOptions { Dialect = StreamDialect.PostcopyRfc },
        };

        var outcome = EnginePair.Run(
            () => SaveEngine.Save(source, mainOut, save), channel.ClosePrimary,
            () => RestoreEngine.Restore(channel.SecondaryReceive, restore), channel.CloseSecondary);
        (report.Save, report.SourceError, report.Restore, report.DestinationError) = outcome;

        report.Bytes = mainOut.Delivered;
        report.MainStream = mainCopy?.ToArray();
        report.BackChannel = backCopy?.ToArray();
        report.Elapsed = Stopwatch.GetElapsedTime(start);
        if (report.Save is { } saved)
        {
            report.PagesSentTwice = saved.Passes.Sum(p => p.DataPages) - (saved.Passes.Count > 0 ? saved.Passes[0].DataPages : 0);
            if (dst.Transitioned)
            {
                report.Downtime = Stopwatch.GetElapsedTime(saved.SuspendTimestamp, dst.TransitionTimestamp);
            }
        }

        if (report.Restore is { } restored && report.SourceError is null && report.DestinationError is null)
        {
            // The digest law: the source at the transition (it is suspended there), plus the same vCPU touches.
            using GuestDomain reference = source.Clone();
            guest.Restart().RunAll(reference);
            report.ReferenceDigest = reference.ComputeDigest();
            report.DestinationDigest = restored.Domain.ComputeDigest();
            bool complete = src.CompleteReceived && dst.CompleteSent && dst.Outstanding == 0;
            report.Outcome = complete ? PostcopyOutcome.Completed : PostcopyOutcome.Error;
            report.Reason = complete
                ? $"every one of {dst.Announced} announced page(s) arrived once ({src.PagesOnFault} on fault, {src.PagesBackground} in the background); the destination confirmed"
                : $"no confirmation: {src.DestinationError ?? "COMPLETE missing"}";
            return report;
        }

        if (!src.Transitioned)
        {
            report.Outcome = PostcopyOutcome.AbortedBeforeTransition;
            report.Reason = $"the link broke before the transition ({report.SourceError?.Message ?? report.DestinationError?.Message}): the source keeps the guest; the destination discarded its copy";
        }
        else if (report.DestinationError is StreamFormatException { Problem: var problem } e && ReferenceEquals(e.Check, RestoreChecks.PostcopyGuestLost))
        {
            report.Outcome = PostcopyOutcome.GuestLost;
            report.Reason = $"the link broke after the transition ({report.SourceError?.Message ?? "source"}): {problem}";
        }
        else
        {
            report.Outcome = PostcopyOutcome.Error;
            report.Reason = $"source: {report.SourceError?.Message ?? "ok"}; destination: {report.DestinationError?.Message ?? "ok"}; {src.DestinationError}";
        }

        return report;
    }
}
