using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Verification;

/// <summary>How many records of one type a stream holds.</summary>
/// <param name="Layer">libxl, libxc or back-channel.</param>
/// <param name="Type">The wire type.</param>
/// <param name="Name">Its spec name in the stream's dialect.</param>
/// <param name="Count">Records of this type.</param>
/// <param name="BodyBytes">Sum of their body lengths (without headers and padding).</param>
public readonly record struct RecordTypeCount(string Layer, uint Type, string Name, long Count, long BodyBytes);

/// <summary>
/// What a stream contains, gathered while verifying (and usable by <c>streambench inspect</c> on its own): layers and
/// versions, guest type and Xen version, record counts per type, pages, checkpoints, trailing bytes and the ending.
/// Its size does not depend on the stream's length.
/// </summary>
public sealed class StreamSummary
{
    private const int KnownSlots = 32;
    private const int MaxDistinctUnknown = 256;
    private readonly long[] _libxcCounts = new long[KnownSlots];
    private readonly long[] _libxcBytes = new long[KnownSlots];
    private readonly long[] _libxlCounts = new long[KnownSlots];
    private readonly long[] _libxlBytes = new long[KnownSlots];
    private readonly Dictionary<(StreamLayer Layer, uint Type), (long Count, long Bytes)> _other = [];
    private readonly List<StreamLayer> _layers = [];
    private long _otherOverflowCount;

    internal StreamSummary(StreamDialect dialect) => Dialect = dialect;

    /// <summary>The outer format the reader used (detected or given).</summary>
    public OuterFormat Format { get; internal set; }

    /// <summary>The record dictionary used.</summary>
    public StreamDialect Dialect { get; }

    /// <summary>Layers in order of first appearance.</summary>
    public IReadOnlyList<StreamLayer> Layers => _layers;

    /// <summary>The xl header, when there is one.</summary>
    public XlHeaderFields? XlHeader { get; internal set; }

    /// <summary>Size of the config text in the xl optional data.</summary>
    public uint? XlConfigSize { get; internal set; }

    /// <summary>The libxl header's version.</summary>
    public uint? LibxlVersion { get; internal set; }

    /// <summary>The libxl header's options.</summary>
    public LibxlOptions? LibxlOptions { get; internal set; }

    /// <summary>The libxc image version (2 or 3).</summary>
    public uint? ImageVersion { get; internal set; }

    /// <summary>Whether the image header's endianness bit is set.</summary>
    public bool? ImageBigEndian { get; internal set; }

    /// <summary>The domain header's guest type.</summary>
    public DomainType? GuestType { get; internal set; }

    /// <summary>The saver's Xen major version (0: converted from legacy).</summary>
    public uint? XenMajor { get; internal set; }

    /// <summary>The saver's Xen minor version (or the converter's version).</summary>
    public uint? XenMinor { get; internal set; }

    /// <summary>Whether the domain header says the stream was converted from the legacy format.</summary>
    public bool LegacyConverted => XenMajor == LibxcWire.LegacyConvertedMajor;

    /// <summary>"4.17", "legacy-converted (v1)", or null before the domain header.</summary>
    public string? XenVersion => XenMajor is null ? null
        : LegacyConverted ? string.Create(CultureInfo.InvariantCulture, $"legacy-converted (v{XenMinor})")
        : string.Create(CultureInfo.InvariantCulture, $"{XenMajor}.{XenMinor}");

    /// <summary>Records read (all layers).</summary>
    public long Records { get; internal set; }

    /// <summary>PAGE_DATA records (and the RFC's POSTCOPY_PAGE_DATA).</summary>
    public long PageDataRecords { get; internal set; }

    /// <summary>pfn words in those records.</summary>
    public long PfnEntries { get; internal set; }

    /// <summary>4 KiB pages carried by those records.</summary>
    public long DataPages { get; internal set; }

    /// <summary>Whether a VERIFY record switched the stream to compare mode.</summary>
    public bool VerifyMode { get; internal set; }

    /// <summary>Whether the stream was treated as checkpointed (Remus/COLO).</summary>
    public bool Checkpointed { get; internal set; }

    /// <summary>Checkpoints completed (CHECKPOINT in bare libxc; CHECKPOINT_END in libxl).</summary>
    public int CheckpointsComplete { get; internal set; }

    /// <summary>Whether a checkpointed stream ended inside a checkpoint that the receiver discards.</summary>
    public bool CheckpointIncomplete { get; internal set; }

    /// <summary>Bytes after the last complete checkpoint that a receiver discards at failover.</summary>
    public long DiscardedBytes { get; internal set; }

    /// <summary>Bytes after END that are not <c>xl migrate</c> messages.</summary>
    public long TrailingBytes { get; internal set; }

    /// <summary><c>xl migrate</c> protocol messages seen.</summary>
    public int MigrateMessages { get; internal set; }

    /// <summary>How the stream ended (as the reader saw it).</summary>
    public StreamEnding Ending { get; internal set; }

    /// <summary>Whether the input ended inside an item.</summary>
    public bool Truncated { get; internal set; }

    /// <summary>Bytes of input examined (the stream's length when it was read to the end).</summary>
    public long Length { get; internal set; }

    /// <summary>Records per type, libxl first, then libxc, then back-channel and unknown types.</summary>
    public IReadOnlyList<RecordTypeCount> RecordCounts
    {
        get
        {
            var list = new List<RecordTypeCount>();
            for (uint t = 0; t < KnownSlots; t++)
            {
                if (_libxlCounts[t] > 0)
                {
                    list.Add(new RecordTypeCount("libxl", t, RecordDictionary.Libxl(Dialect).Name(t), _libxlCounts[t], _libxlBytes[t]));
                }
            }
            for (uint t = 0; t < KnownSlots; t++)
            {
                if (_libxcCounts[t] > 0)
                {
                    list.Add(new RecordTypeCount("libxc", t, RecordDictionary.Libxc(Dialect).Name(t), _libxcCounts[t], _libxcBytes[t]));
                }
            }
            foreach (var ((layer, type), (count, bytes)) in _other.OrderBy(kv => kv.Key.Layer).ThenBy(kv => kv.Key.Type))
            {
                var name = RecordDictionary.For(layer, Dialect).Name(type);
                list.Add(new RecordTypeCount(XenStreamReader.LayerName(layer), type, name, count, bytes));
            }
            if (_otherOverflowCount > 0)
            {
                list.Add(new RecordTypeCount("other", uint.MaxValue, "OTHER_UNKNOWN", _otherOverflowCount, 0));
            }
            return list;
        }
    }

    /// <summary>The count of one type (0 when absent).</summary>
    public long CountOf(StreamLayer layer, uint type) => layer switch
    {
        StreamLayer.Libxl when type < KnownSlots => _libxlCounts[type],
        StreamLayer.Libxc when type < KnownSlots => _libxcCounts[type],
        _ => _other.TryGetValue((layer, type), out var v) ? v.Count : 0,
    };

    internal void SeeLayer(StreamLayer layer)
    {
        if (layer != StreamLayer.None && (_layers.Count == 0 || _layers[^1] != layer) && !_layers.Contains(layer))
        {
            _layers.Add(layer);
        }
    }

    internal void CountRecord(StreamLayer layer, uint type, long length)
    {
        Records++;
        if (type < KnownSlots)
        {
            if (layer == StreamLayer.Libxc)
            {
                _libxcCounts[type]++;
                _libxcBytes[type] += length;
                return;
            }
            if (layer == StreamLayer.Libxl)
            {
                _libxlCounts[type]++;
                _libxlBytes[type] += length;
                return;
            }
        }
        var key = (layer, type);
        if (_other.TryGetValue(key, out var v))
        {
            _other[key] = (v.Count + 1, v.Bytes + length);
        }
        else if (_other.Count < MaxDistinctUnknown)
        {
            _other[key] = (1, length);
        }
        else
        {
            _otherOverflowCount++;
        }
    }
}
