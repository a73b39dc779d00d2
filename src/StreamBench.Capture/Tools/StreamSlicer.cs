using System.Diagnostics.CodeAnalysis;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Capture.Tools;

/// <summary>What to extract.</summary>
public sealed record SliceOptions
{
    /// <summary>Records A..B (inclusive, 0-based, framed records only).</summary>
    public (long First, long Last)? Records { get; init; }

    /// <summary>Checkpoints A..B (inclusive, 0-based; checkpoint 0 is the first, live pass).</summary>
    public (long First, long Last)? Checkpoints { get; init; }

    /// <summary>Keep only headers, layer transitions and the selection (no static data, no END records).</summary>
    public bool Exact { get; init; }

    /// <summary>How to parse the input.</summary>
    public XenStreamReaderOptions Reader { get; init; } = new();
}

/// <summary>What a slice kept.</summary>
public sealed record SliceResult(long ItemsIn, long ItemsOut, long SelectedRecords, long ContextRecords, long BytesOut, string? StoppedAt);

/// <summary>
/// Extracts records or checkpoints into a stream that is as valid as it can be (docs/CAPTURE.md, "slice"): every header
/// is kept, and so are the records the layering needs (LIBXC_CONTEXT, CHECKPOINT, CHECKPOINT_END, the post-copy
/// transitions), the static data a restorer needs before memory (X86_PV_INFO, CPUID/MSR policy, STATIC_DATA_END,
/// X86_PV_P2M_FRAMES) and the END records, unless <see cref="SliceOptions.Exact"/>.
/// </summary>
public static class StreamSlicer
{
    /// <summary>Slices <paramref name="input"/> into <paramref name="output"/>.</summary>
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "One walk over the items: each branch decides whether an item is kept (the selected records or checkpoints, layer transitions, static data, END) so that checkpoints and layers stay whole.")]
    public static SliceResult Slice(Stream input, Stream output, SliceOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Records is null == options.Checkpoints is null)
        {
            throw new ArgumentException("give exactly one of --records and --checkpoints");
        }
        using var reader = new XenStreamReader(ByteSource.FromStream(input), options.Reader, ownsSource: false);
        using var writer = new XenStreamWriter(output, leaveOpen: true, bufferSize: 1 << 20);
        var chunk = new byte[1 << 20];
        long itemsIn = 0, itemsOut = 0, selected = 0, context = 0;
        var sawMemory = false;
        var inTail = false;
        string? stopped = null;
        try
        {
            while (reader.Read())
            {
                itemsIn++;
                var keep = true;
                var isSelected = false;
                if (reader.Kind == StreamItemKind.Record)
                {
                    var type = reader.RecordType;
                    var layer = reader.Layer;
                    var isCheckpoint = layer == StreamLayer.Libxc && type == (uint)LibxcRecordType.Checkpoint;
                    var isCheckpointEnd = layer == StreamLayer.Libxl && type == (uint)LibxlRecordType.CheckpointEnd && inTail;
                    if (isCheckpoint && reader.LibxcEmbedded)
                    {
                        inTail = true;
                    }
                    var isStatic = !sawMemory && IsStatic(layer, type, reader.Dialect);
                    if (layer == StreamLayer.Libxc && IsMemory(type, reader.Dialect))
                    {
                        sawMemory = true;
                    }
                    if (options.Records is { } r)
                    {
                        isSelected = reader.RecordIndex >= r.First && reader.RecordIndex <= r.Last;
                        keep = isSelected || IsTransition(layer, type, reader.Dialect, isCheckpointEnd)
                            || (!options.Exact && (isStatic || IsEnd(layer, type)));
                    }
                    else
                    {
                        var (first, last) = options.Checkpoints!.Value;
                        var owner = reader.CheckpointCount - (isCheckpoint || inTail ? 1 : 0);
                        isSelected = !isStatic && owner >= first && owner <= last;
                        keep = isSelected || (IsTransition(layer, type, reader.Dialect, isCheckpointEnd) && !isCheckpoint && !isCheckpointEnd)
                            || (!options.Exact && (isStatic || IsEnd(layer, type)));
                    }
                    if (isCheckpointEnd)
                    {
                        inTail = false;
                    }
                }
                if (!keep)
                {
                    reader.FinishItem();
                    continue;
                }
                if (isSelected)
                {
                    selected++;
                }
                else if (reader.Kind == StreamItemKind.Record)
                {
                    context++;
                }
                StreamCopier.CopyCurrent(reader, writer, chunk);
                itemsOut++;
            }
        }
        catch (Formats.StreamFormatException e)
        {
            stopped = e.Message;
        }
        if (stopped is null && reader.Ending == StreamEnding.MissingEnd)
        {
            stopped = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"offset {reader.Source.Position}: the input ends without END (a truncated stream)");
        }
        writer.Flush();
        return new SliceResult(itemsIn, itemsOut, selected, context, writer.Position, stopped);
    }

    /// <summary>Records that switch the reader between layers or phases: dropping one would make the rest unreadable.</summary>
    private static bool IsTransition(StreamLayer layer, uint type, StreamDialect dialect, bool isCheckpointEnd)
    {
        var rfc = dialect == StreamDialect.PostcopyRfc;
        return layer switch
        {
            StreamLayer.Libxl => type == (uint)LibxlRecordType.LibxcContext || isCheckpointEnd
                || (rfc && type == (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd),
            StreamLayer.Libxc => type == (uint)LibxcRecordType.Checkpoint
                || (rfc && type is (uint)PostcopyRecordType.PostcopyBegin or (uint)PostcopyRecordType.PostcopyPfnsBegin or (uint)PostcopyRecordType.PostcopyTransition),
            _ => false,
        };
    }

    private static bool IsEnd(StreamLayer layer, uint type) => layer is StreamLayer.Libxc or StreamLayer.Libxl && type == 0;

    /// <summary>Static data: what must reach a restorer before any memory (FORMATS.md 5.1-5.3).</summary>
    private static bool IsStatic(StreamLayer layer, uint type, StreamDialect dialect) => layer == StreamLayer.Libxc && (type is (uint)LibxcRecordType.X86PvInfo or (uint)LibxcRecordType.X86PvP2mFrames
        || (dialect == StreamDialect.Upstream && type is (uint)LibxcRecordType.StaticDataEnd or (uint)LibxcRecordType.X86CpuidPolicy or (uint)LibxcRecordType.X86MsrPolicy));

    private static bool IsMemory(uint type, StreamDialect dialect) => type == (uint)LibxcRecordType.PageData
        || (dialect == StreamDialect.PostcopyRfc && type == (uint)PostcopyRecordType.PostcopyPageData);
}
