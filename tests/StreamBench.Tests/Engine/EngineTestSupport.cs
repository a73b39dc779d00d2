using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Engine;

/// <summary>Domains, saved streams and restores for the engine tests.</summary>
internal static class EngineTestSupport
{
    /// <summary>A small Ready domain (PV ones with a few ballooned pfns, so XTAB and deferral are exercised).</summary>
    public static GuestDomain Build(GuestType type, ulong mib = 4, int vcpus = 2, ulong seed = 1) =>
        DomainBuilder.Build(new DomainSpec(type, mib, vcpus, seed) { BalloonedPages = type.IsPv() ? 8 : 0 });

    /// <summary>Saves into memory.</summary>
    public static byte[] Save(GuestDomain domain, SaveOptions? options = null) => Save(domain, options, out _);

    /// <summary>Saves into memory and returns the result too.</summary>
    public static byte[] Save(GuestDomain domain, SaveOptions? options, out SaveResult result)
    {
        using var stream = new MemoryStream();
        result = SaveEngine.Save(domain, stream, options);
        return stream.ToArray();
    }

    /// <summary>A live save under a hot-set workload.</summary>
    public static SaveOptions Live(GuestDomain domain, SaveFormat format = SaveFormat.Libxc, int rate = 16, ulong seed = 5) => new()
    {
        Live = true,
        Format = format,
        Workload = new Workload(domain, new WorkloadOptions(WorkloadPattern.HotSet, rate, seed)),
    };

    /// <summary>Restores bytes into a domain configured like <paramref name="like"/>.</summary>
    public static RestoreResult Restore(byte[] stream, GuestDomain? like = null, RestoreOptions? options = null)
    {
        options ??= new RestoreOptions();
        if (like is not null && options.Config is null && options.Target is null)
        {
            options = options with { Config = DomainConfig.FromDomain(like) };
        }

        return RestoreEngine.Restore(ByteSource.FromMemory(stream), options);
    }
}

/// <summary>
/// A stream cut into its items (headers and framed records, each with its padding) for surgical edits: change a
/// field, replace a body, insert or drop a record, then join the items again.
/// </summary>
internal sealed class StreamEdit
{
    private StreamEdit(List<Item> items) => Items = items;

    /// <summary>One header or record, as raw bytes.</summary>
    public sealed class Item(StreamItemKind kind, StreamLayer layer, uint type, byte[] raw)
    {
        public StreamItemKind Kind { get; } = kind;

        public StreamLayer Layer { get; } = layer;

        public uint Type { get; } = type;

        public byte[] Raw { get; set; } = raw;

        public bool IsRecord => Kind == StreamItemKind.Record;

        public bool Is(LibxcRecordType t) => IsRecord && Layer == StreamLayer.Libxc && Type == (uint)t;

        public bool Is(LibxlRecordType t) => IsRecord && Layer == StreamLayer.Libxl && Type == (uint)t;

        /// <summary>A copy of the body (records only).</summary>
        public byte[] Body => Raw.AsSpan(8, (int)BinaryPrimitives.ReadUInt32LittleEndian(Raw.AsSpan(4))).ToArray();

        /// <summary>The same record with another body (re-framed, zero padding).</summary>
        public Item WithBody(byte[] body) => Record(Layer, Type, body);

        public override string ToString() => $"{Kind} {Layer} 0x{Type:x} ({Raw.Length} bytes)";
    }

    public List<Item> Items { get; }

    public static StreamEdit Parse(byte[] stream, OuterFormat format = OuterFormat.Auto)
    {
        var items = new List<Item>();
        using var reader = XenStreamReader.FromMemory(stream, new XenStreamReaderOptions { Format = format });
        while (reader.Read())
        {
            items.Add(new Item(reader.Kind, reader.Layer, reader.Kind == StreamItemKind.Record ? reader.RecordType : 0,
                stream.AsSpan((int)reader.Offset, (int)reader.ItemLength).ToArray()));
        }

        return new StreamEdit(items);
    }

    /// <summary>A framed record.</summary>
    public static Item Record(StreamLayer layer, uint type, ReadOnlySpan<byte> body, byte paddingByte = 0)
    {
        int pad = Framing.PaddingFor((uint)body.Length);
        var raw = new byte[8 + body.Length + pad];
        BinaryPrimitives.WriteUInt32LittleEndian(raw, type);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(4), (uint)body.Length);
        body.CopyTo(raw.AsSpan(8));
        raw.AsSpan(8 + body.Length).Fill(paddingByte);
        return new Item(StreamItemKind.Record, layer, type, raw);
    }

    public static Item Libxc(LibxcRecordType type, ReadOnlySpan<byte> body = default) => Record(StreamLayer.Libxc, (uint)type, body);

    public static Item Libxc(uint type, ReadOnlySpan<byte> body = default) => Record(StreamLayer.Libxc, type, body);

    public static Item Libxl(LibxlRecordType type, ReadOnlySpan<byte> body = default) => Record(StreamLayer.Libxl, (uint)type, body);

    public static Item Libxl(uint type, ReadOnlySpan<byte> body = default) => Record(StreamLayer.Libxl, type, body);

    public int IndexOf(Func<Item, bool> match, int nth = 0)
    {
        for (int i = 0; i < Items.Count; i++)
        {
            if (match(Items[i]) && nth-- == 0)
            {
                return i;
            }
        }

        throw new InvalidOperationException("no such item in the stream");
    }

    public Item First(Func<Item, bool> match) => Items[IndexOf(match)];

    public StreamEdit Replace(Func<Item, bool> match, Func<Item, Item> change, int nth = 0)
    {
        int i = IndexOf(match, nth);
        Items[i] = change(Items[i]);
        return this;
    }

    public StreamEdit ReplaceBody(Func<Item, bool> match, Func<byte[], byte[]> change, int nth = 0) =>
        Replace(match, item => item.WithBody(change(item.Body)), nth);

    /// <summary>Changes bytes of the raw item in place (headers: offsets from the header's first byte).</summary>
    public StreamEdit Patch(Func<Item, bool> match, Action<byte[]> change, int nth = 0)
    {
        change(Items[IndexOf(match, nth)].Raw);
        return this;
    }

    public StreamEdit InsertBefore(Func<Item, bool> match, params Item[] items)
    {
        Items.InsertRange(IndexOf(match), items);
        return this;
    }

    public StreamEdit InsertAfter(Func<Item, bool> match, params Item[] items)
    {
        Items.InsertRange(IndexOf(match) + 1, items);
        return this;
    }

    public StreamEdit Remove(Func<Item, bool> match, int nth = 0)
    {
        Items.RemoveAt(IndexOf(match, nth));
        return this;
    }

    public byte[] Join() => Items.SelectMany(i => i.Raw).ToArray();

    /// <summary>A PAGE_DATA body from words (and the pages of the data-carrying ones).</summary>
    public static byte[] PageData(ulong[] words, byte[]? pages = null, uint reserved = 0, uint? count = null)
    {
        pages ??= [];
        var body = new byte[8 + (8 * words.Length) + pages.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(body, count ?? (uint)words.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), reserved);
        for (int i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8 + (8 * i)), words[i]);
        }

        pages.CopyTo(body, 8 + (8 * words.Length));
        return body;
    }
}
