using StreamBench.Capture.Format;
using StreamBench.Capture.Replay;
using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Save;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary>
/// One enum's command-line spellings: each value's kebab-case name (the one help and messages show) and the older
/// spellings still accepted, so scripts written against them keep working. Matching ignores case and surrounding
/// blanks; a name the table does not hold is a usage error that lists the names.
/// </summary>
internal sealed class NameTable<T>
    where T : struct, Enum
{
    private readonly (T Value, string Name, string[] Aliases)[] _rows;

    public NameTable(string what, params (T Value, string Name, string[] Aliases)[] rows)
    {
        What = what;
        _rows = rows;
    }

    /// <summary>What a value names, for messages ("format", "dialect").</summary>
    public string What { get; }

    /// <summary>The names, in the table's order: "auto, xl, libxl or libxc".</summary>
    public string Choices => _rows.Length == 1 ? _rows[0].Name
        : string.Join(", ", _rows[..^1].Select(r => r.Name)) + " or " + _rows[^1].Name;

    /// <summary>The value <paramref name="text"/> names; an empty or missing text matches a row that lists "" among its aliases.</summary>
    public T Parse(string? text)
    {
        string key = text?.Trim() ?? "";
        foreach (var (value, name, aliases) in _rows)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase)
                || aliases.Any(a => string.Equals(a, key, StringComparison.OrdinalIgnoreCase)))
            {
                return value;
            }
        }

        throw new ArgumentException($"unknown {What} '{text}': use {Choices}");
    }

    /// <summary>The name of <paramref name="value"/>.</summary>
    public string Name(T value) => _rows.First(r => EqualityComparer<T>.Default.Equals(r.Value, value)).Name;

    /// <summary>The same spellings for a subset of the values (an option that accepts fewer).</summary>
    public NameTable<T> Only(params T[] values) =>
        new(What, [.. _rows.Where(r => values.Contains(r.Value))]);
}

/// <summary>Every enum the command line takes, each with its one <see cref="NameTable{T}"/>.</summary>
internal static class CliNames
{
    private static readonly string[] None = [];

    public static NameTable<OuterFormat> Formats { get; } = new("format",
        (OuterFormat.Auto, "auto", [""]),
        (OuterFormat.Xl, "xl", None),
        (OuterFormat.Libxl, "libxl", None),
        (OuterFormat.Libxc, "libxc", None),
        (OuterFormat.Legacy, "legacy", None),
        (OuterFormat.BackChannel, "back-channel", ["backchannel"]),
        (OuterFormat.MigrateReceiver, "migrate-receiver", None));

    /// <summary>The layers <c>restore</c> reads (a legacy image is converted first, back channels carry no domain).</summary>
    public static NameTable<OuterFormat> RestoreFormats { get; } =
        Formats.Only(OuterFormat.Auto, OuterFormat.Xl, OuterFormat.Libxl, OuterFormat.Libxc);

    public static NameTable<SaveFormat> SaveFormats { get; } = new("format",
        (SaveFormat.Xl, "xl", [""]),
        (SaveFormat.Libxl, "libxl", None),
        (SaveFormat.Libxc, "libxc", None));

    public static NameTable<StreamDialect> Dialects { get; } = new("dialect",
        (StreamDialect.Upstream, "upstream", [""]),
        (StreamDialect.PostcopyRfc, "postcopy-rfc", ["postcopy"]));

    public static NameTable<CaptureDirection> Directions { get; } = new("direction",
        (CaptureDirection.SenderToReceiver, "s2r", ["", "sender", "send"]),
        (CaptureDirection.ReceiverToSender, "r2s", ["receiver", "back"]));

    public static NameTable<LegacyWidth> LegacyWidths { get; } = new("legacy width",
        (LegacyWidth.Auto, "auto", [""]),
        (LegacyWidth.Bits32, "32", None),
        (LegacyWidth.Bits64, "64", None));

    public static NameTable<LegacyGuestType> LegacyGuests { get; } = new("legacy guest type",
        (LegacyGuestType.Auto, "auto", [""]),
        (LegacyGuestType.Pv, "pv", None),
        (LegacyGuestType.Hvm, "hvm", None));

    public static NameTable<LegacyOutputFormat> LegacyOutputFormats { get; } = new("output format",
        (LegacyOutputFormat.Libxc, "libxc", None),
        (LegacyOutputFormat.Libxl, "libxl", None));

    /// <summary>The simulated domain's guest types, spelled as the domain spells them (<see cref="GuestTypeExtensions.ToName"/>).</summary>
    public static NameTable<GuestType> Guests { get; } = new("guest type",
        [.. Enum.GetValues<GuestType>().Select(g => (g, g.ToName(), g == GuestType.Pv ? new[] { "pv64" } : None))]);

    public static NameTable<SyntheticLayer> SyntheticLayers { get; } = new("layer",
        (SyntheticLayer.Libxc, "libxc", None),
        (SyntheticLayer.Libxl, "libxl", None),
        (SyntheticLayer.Xl, "xl", None),
        (SyntheticLayer.XlMigrateSender, "xl-migrate-sender", ["xlmigratesender"]));

    public static NameTable<SyntheticGuest> SyntheticGuests { get; } = new("guest type",
        (SyntheticGuest.Pv, "pv", None),
        (SyntheticGuest.Pv32, "pv32", None),
        (SyntheticGuest.Hvm, "hvm", None),
        (SyntheticGuest.Pvh, "pvh", None));

    public static NameTable<VerificationProfile> Profiles { get; } = new("profile",
        (VerificationProfile.Xen, "xen", None),
        (VerificationProfile.Restore, "restore", None),
        (VerificationProfile.Strict, "strict", [""]));

    public static NameTable<CheckpointMode> CheckpointModes { get; } = new("--checkpointed value",
        (CheckpointMode.Auto, "auto", [""]),
        (CheckpointMode.Checkpointed, "yes", ["true"]),
        (CheckpointMode.Plain, "no", ["false"]));

    public static NameTable<ReplayPace> Paces { get; } = new("pace",
        (ReplayPace.Full, "full", None),
        (ReplayPace.Recorded, "recorded", None));

    public static NameTable<ReplaySequencing> Sequencings { get; } = new("sequencing",
        (ReplaySequencing.Auto, "auto", None),
        (ReplaySequencing.Recorded, "recorded", None),
        (ReplaySequencing.Protocol, "protocol", None),
        (ReplaySequencing.None, "none", None));

    public static NameTable<WorkloadPattern> Workloads { get; } = new("workload",
        (WorkloadPattern.Uniform, "uniform", None),
        (WorkloadPattern.HotSet, "hotset", ["hot-set"]),
        (WorkloadPattern.Sequential, "sequential", None));

    public static NameTable<MigrationTransport> Transports { get; } = new("transport",
        (MigrationTransport.Pipe, "pipe", None),
        (MigrationTransport.Tcp, "tcp", None));

    public static NameTable<DemoMode> DemoModes { get; } = new("mode",
        (DemoMode.Precopy, "precopy", None),
        (DemoMode.Postcopy, "postcopy", None),
        (DemoMode.Remus, "remus", None),
        (DemoMode.Colo, "colo", None));

    /// <summary>What <c>record</c> indexes the receiver's direction as.</summary>
    public static NameTable<ReceiverIndex> ReceiverIndexes { get; } = new("r2s format",
        (ReceiverIndex.Auto, "auto", [""]),
        (ReceiverIndex.Migrate, "migrate", None),
        (ReceiverIndex.BackChannel, "back-channel", ["backchannel"]));
}

/// <summary>What <c>streambench demo</c> runs.</summary>
internal enum DemoMode
{
    /// <summary>Live migration.</summary>
    Precopy,

    /// <summary>Post-copy migration (the RFC dialect).</summary>
    Postcopy,

    /// <summary>Remus checkpoints.</summary>
    Remus,

    /// <summary>A COLO primary and secondary.</summary>
    Colo,
}

/// <summary>How <c>record</c> indexes the receiver-to-sender direction.</summary>
internal enum ReceiverIndex
{
    /// <summary>Detected.</summary>
    Auto,

    /// <summary>The <c>xl migrate</c> receiver's messages.</summary>
    Migrate,

    /// <summary>Back-channel records (COLO, post-copy faults).</summary>
    BackChannel,
}
