using System.Buffers.Binary;
using System.Text;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Tests.Verification;

/// <summary>One piece of a hand-built stream: raw bytes (headers, text) or a framed record.</summary>
public sealed class StreamPart
{
    /// <summary>A framed record.</summary>
    public StreamPart(StreamLayer layer, uint type, byte[] body, byte[]? padding = null)
    {
        Layer = layer;
        Type = type;
        Body = body;
        Padding = padding;
    }

    /// <summary>Raw bytes.</summary>
    public StreamPart(string name, byte[] raw)
    {
        Name = name;
        Raw = raw;
    }

    /// <summary>The record's layer (None for raw parts).</summary>
    public StreamLayer Layer { get; }

    /// <summary>The record type.</summary>
    public uint Type { get; set; }

    /// <summary>The record body.</summary>
    public byte[] Body { get; set; } = [];

    /// <summary>Explicit padding (null: zeros).</summary>
    public byte[]? Padding { get; set; }

    /// <summary>Override of the length field (null: the body length).</summary>
    public uint? LengthField { get; set; }

    /// <summary>Raw bytes for a non-record part.</summary>
    public byte[]? Raw { get; set; }

    /// <summary>Name of a raw part (IMAGE_HEADER, ...).</summary>
    public string? Name { get; }

    /// <summary>Whether this is a record.</summary>
    public bool IsRecord => Raw is null;

    /// <summary>Bytes this part occupies.</summary>
    public int Size => Raw?.Length ?? (8 + Body.Length + (Padding?.Length ?? Framing.PaddingFor((uint)Body.Length)));

    /// <summary>A deep copy.</summary>
    public StreamPart Clone() => Raw is not null
        ? new StreamPart(Name!, (byte[])Raw.Clone())
        : new StreamPart(Layer, Type, (byte[])Body.Clone(), (byte[]?)Padding?.Clone()) { LengthField = LengthField };

    /// <inheritdoc />
    public override string ToString() => IsRecord ? $"{Layer}:{Type:x}({Body.Length})" : $"{Name}({Raw!.Length})";
}

/// <summary>
/// A stream built from parts, so a test can change one record and know the exact offset and record index of what it
/// changed. <see cref="Build"/> concatenates the parts.
/// </summary>
public sealed class TestStream
{
    /// <summary>The parts in byte order.</summary>
    public List<StreamPart> Parts { get; } = [];

    /// <summary>The format to tell the verifier (the outermost layer).</summary>
    public OuterFormat Format { get; set; } = OuterFormat.Libxc;

    /// <summary>The dialect.</summary>
    public StreamDialect Dialect { get; set; } = StreamDialect.Upstream;

    /// <summary>The bytes.</summary>
    public byte[] Build()
    {
        using var ms = new MemoryStream();
        Span<byte> h = stackalloc byte[8];
        foreach (var p in Parts)
        {
            if (p.Raw is not null)
            {
                ms.Write(p.Raw);
                continue;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(h, p.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], p.LengthField ?? (uint)p.Body.Length);
            ms.Write(h);
            ms.Write(p.Body);
            ms.Write(p.Padding ?? new byte[Framing.PaddingFor((uint)p.Body.Length)]);
        }
        return ms.ToArray();
    }

    /// <summary>A deep copy.</summary>
    public TestStream Clone()
    {
        var c = new TestStream { Format = Format, Dialect = Dialect };
        c.Parts.AddRange(Parts.Select(p => p.Clone()));
        return c;
    }

    /// <summary>Offset of part <paramref name="index"/>.</summary>
    public long OffsetOf(int index) => Parts.Take(index).Sum(p => (long)p.Size);

    /// <summary>Offset of record part <paramref name="index"/>'s body.</summary>
    public long BodyOffsetOf(int index) => OffsetOf(index) + 8;

    /// <summary>The reader's record index of part <paramref name="index"/>.</summary>
    public long RecordIndexOf(int index) => Parts.Take(index).Count(p => p.IsRecord);

    /// <summary>Total length.</summary>
    public long Length => Parts.Sum(p => (long)p.Size);

    /// <summary>Index of the <paramref name="nth"/> record of <paramref name="layer"/>/<paramref name="type"/>.</summary>
    public int Find(StreamLayer layer, uint type, int nth = 0)
    {
        for (var i = 0; i < Parts.Count; i++)
        {
            if (Parts[i].IsRecord && Parts[i].Layer == layer && Parts[i].Type == type && nth-- == 0)
            {
                return i;
            }
        }
        throw new InvalidOperationException($"no {layer} record 0x{type:x} #{nth}");
    }

    /// <summary>Index of the <paramref name="nth"/> libxc record of <paramref name="type"/>.</summary>
    public int Find(LibxcRecordType type, int nth = 0) => Find(StreamLayer.Libxc, (uint)type, nth);

    /// <summary>Index of the <paramref name="nth"/> libxl record of <paramref name="type"/>.</summary>
    public int Find(LibxlRecordType type, int nth = 0) => Find(StreamLayer.Libxl, (uint)type, nth);

    /// <summary>Index of the raw part called <paramref name="name"/>.</summary>
    public int FindRaw(string name) => Parts.FindIndex(p => p.Name == name);

    /// <summary>The part.</summary>
    public StreamPart this[int index] => Parts[index];

    /// <summary>The part, counted from either end.</summary>
    public StreamPart this[Index index] => Parts[index];

    /// <summary>Inserts a libxc record before part <paramref name="index"/>.</summary>
    public TestStream InsertLibxc(int index, uint type, byte[]? body = null)
    {
        Parts.Insert(index, new StreamPart(StreamLayer.Libxc, type, body ?? []));
        return this;
    }

    /// <summary>Inserts a libxc record before part <paramref name="index"/>.</summary>
    public TestStream InsertLibxc(int index, LibxcRecordType type, byte[]? body = null) => InsertLibxc(index, (uint)type, body);

    /// <summary>Inserts a libxl record before part <paramref name="index"/>.</summary>
    public TestStream InsertLibxl(int index, uint type, byte[]? body = null)
    {
        Parts.Insert(index, new StreamPart(StreamLayer.Libxl, type, body ?? []));
        return this;
    }

    /// <summary>Modifies a raw part in place.</summary>
    public TestStream PatchRaw(string name, Action<byte[]> patch)
    {
        patch(Parts[FindRaw(name)].Raw!);
        return this;
    }

    // ------------------------------------------------------------------ factories

    /// <summary>A valid bare libxc HVM stream.</summary>
    public static TestStream Hvm(uint version = 3)
    {
        var s = new TestStream();
        s.Parts.Add(new StreamPart("IMAGE_HEADER", Bodies.ImageHeader(version)));
        s.Parts.Add(new StreamPart("DOMAIN_HEADER", Bodies.DomainHeader(DomainType.X86Hvm)));
        if (version >= 3)
        {
            s.Add(LibxcRecordType.X86CpuidPolicy, Bodies.CpuidPolicy(2));
            s.Add(LibxcRecordType.X86MsrPolicy, Bodies.MsrPolicy(1));
            s.Add(LibxcRecordType.StaticDataEnd);
        }
        s.Add(LibxcRecordType.PageData, Bodies.PageData(0, 1, 2, 3));
        s.Add(LibxcRecordType.PageData, Bodies.PageData((4, PageType.NoTab), (5, PageType.XTab)));
        s.Add(LibxcRecordType.X86TscInfo, Bodies.TscInfo());
        s.Add(LibxcRecordType.HvmContext, Bodies.HvmContext(1));
        s.Add(LibxcRecordType.HvmParams, Bodies.HvmParams((1, 0xFEFFF), (17, 0xFEFFE)));
        s.Add(LibxcRecordType.End);
        return s;
    }

    /// <summary>A valid bare libxc PV stream (64-bit, or 32-bit with <paramref name="width"/> 4).</summary>
    public static TestStream Pv(uint version = 3, byte width = 8)
    {
        var s = new TestStream();
        s.Parts.Add(new StreamPart("IMAGE_HEADER", Bodies.ImageHeader(version)));
        s.Parts.Add(new StreamPart("DOMAIN_HEADER", Bodies.DomainHeader(DomainType.X86Pv)));
        s.Add(LibxcRecordType.X86PvInfo, Bodies.PvInfo(width, width == 8 ? (byte)4 : (byte)3));
        if (version >= 3)
        {
            s.Add(LibxcRecordType.X86CpuidPolicy, Bodies.CpuidPolicy(2));
            s.Add(LibxcRecordType.X86MsrPolicy, Bodies.MsrPolicy(1));
            s.Add(LibxcRecordType.StaticDataEnd);
        }
        s.Add(LibxcRecordType.X86PvP2mFrames, Bodies.P2mFrames(0, 0x3FF, width));
        s.Add(LibxcRecordType.PageData, Bodies.PageData(0, 1, 2, 3));
        s.Add(LibxcRecordType.X86TscInfo, Bodies.TscInfo());
        s.Add(LibxcRecordType.SharedInfo, new byte[4096]);
        s.Add(LibxcRecordType.X86PvVcpuBasic, Bodies.Vcpu(0, width == 8 ? 5168 : 2800));
        s.Add(LibxcRecordType.X86PvVcpuExtended, Bodies.Vcpu(0, 16));
        s.Add(LibxcRecordType.End);
        return s;
    }

    /// <summary>A bare libxc HVM Remus stream: two checkpoints, then failover (no END).</summary>
    public static TestStream HvmRemus()
    {
        var s = Hvm();
        s.Parts[s.Find(LibxcRecordType.End)].Type = (uint)LibxcRecordType.Checkpoint;
        s.Add(LibxcRecordType.PageData, Bodies.PageData(1));
        s.Add(LibxcRecordType.X86TscInfo, Bodies.TscInfo());
        s.Add(LibxcRecordType.HvmContext, Bodies.HvmContext(1));
        s.Add(LibxcRecordType.HvmParams, Bodies.HvmParams((1, 0xFEFFF)));
        s.Add(LibxcRecordType.Checkpoint);
        return s;
    }

    /// <summary>A libxl HVM Remus stream: per checkpoint libxc records, CHECKPOINT, EMULATOR_CONTEXT, CHECKPOINT_END; failover after two.</summary>
    public static TestStream HvmRemusLibxl()
    {
        var s = new TestStream { Format = OuterFormat.Libxl };
        s.Parts.Add(new StreamPart("LIBXL_HEADER", Bodies.LibxlHeader()));
        s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.LibxcContext, []));
        var hvm = Hvm();
        s.Parts.AddRange(hvm.Parts.Take(hvm.Parts.Count - 1));
        for (var c = 0; c < 2; c++)
        {
            if (c > 0)
            {
                s.Add(LibxcRecordType.PageData, Bodies.PageData(1));
                s.Add(LibxcRecordType.X86TscInfo, Bodies.TscInfo());
                s.Add(LibxcRecordType.HvmContext, Bodies.HvmContext(1));
                s.Add(LibxcRecordType.HvmParams, Bodies.HvmParams((1, 0xFEFFF)));
            }
            s.Add(LibxcRecordType.Checkpoint);
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.EmulatorContext, Bodies.Emulator(2, 0, Bodies.Qevm(64))));
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.CheckpointEnd, []));
        }
        return s;
    }

    /// <summary>A bare libxc post-copy RFC stream (v2, HVM), FORMATS.md 9.</summary>
    public static TestStream Postcopy(bool libxl = false)
    {
        var s = new TestStream { Dialect = StreamDialect.PostcopyRfc };
        if (libxl)
        {
            s.Format = OuterFormat.Libxl;
            s.Parts.Add(new StreamPart("LIBXL_HEADER", Bodies.LibxlHeader()));
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.LibxcContext, []));
        }
        s.Parts.Add(new StreamPart("IMAGE_HEADER", Bodies.ImageHeader(2)));
        s.Parts.Add(new StreamPart("DOMAIN_HEADER", Bodies.DomainHeader(DomainType.X86Hvm)));
        s.Add(LibxcRecordType.PageData, Bodies.PageData(0, 1));
        s.Add(PostcopyRecordType.PostcopyBegin);
        s.Add(LibxcRecordType.X86TscInfo, Bodies.TscInfo());
        s.Add(LibxcRecordType.HvmContext, Bodies.HvmContext(1));
        s.Add(LibxcRecordType.HvmParams, Bodies.HvmParams((1, 0xFEFFF)));
        s.Add(PostcopyRecordType.PostcopyPfnsBegin);
        s.Add(PostcopyRecordType.PostcopyPfns, Bodies.PfnList(PageWord.Make(2, PageType.NoTab), PageWord.Make(3, PageType.NoTab)));
        s.Add(PostcopyRecordType.PostcopyTransition);
        if (libxl)
        {
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.EmulatorContext, Bodies.Emulator(2, 0, Bodies.Qevm(64))));
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd, []));
        }
        s.Add(PostcopyRecordType.PostcopyPageData, Bodies.PageData(2, 3));
        s.Add(LibxcRecordType.End);
        if (libxl)
        {
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.End, []));
        }
        return s;
    }

    /// <summary>A back channel made of records of the given layers and types.</summary>
    public static TestStream BackChannel(StreamDialect dialect, params (uint Type, byte[] Body)[] records)
    {
        var s = new TestStream { Format = OuterFormat.BackChannel, Dialect = dialect };
        foreach (var (type, body) in records)
        {
            s.Parts.Add(new StreamPart(StreamLayer.BackChannel, type, body));
        }
        return s;
    }

    /// <summary>Index of the <paramref name="nth"/> RFC record of <paramref name="type"/>.</summary>
    public int Find(PostcopyRecordType type, int nth = 0) => Find(StreamLayer.Libxc, (uint)type, nth);

    /// <summary>Appends an RFC record.</summary>
    public TestStream Add(PostcopyRecordType type, byte[]? body = null)
    {
        Parts.Add(new StreamPart(StreamLayer.Libxc, (uint)type, body ?? []));
        return this;
    }

    /// <summary>Wraps a bare libxc stream in a libxl stream (LIBXC_CONTEXT, libxc, [EMULATOR_CONTEXT for HVM], END).</summary>
    public TestStream InLibxl(bool emulatorContext = true)
    {
        var s = new TestStream { Format = OuterFormat.Libxl, Dialect = Dialect };
        s.Parts.Add(new StreamPart("LIBXL_HEADER", Bodies.LibxlHeader()));
        s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.LibxcContext, []));
        s.Parts.AddRange(Parts.Select(p => p.Clone()));
        var hvm = Parts.Any(p => p.Name == "DOMAIN_HEADER" && BinaryPrimitives.ReadUInt32LittleEndian(p.Raw) == (uint)DomainType.X86Hvm);
        if (hvm && emulatorContext)
        {
            s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.EmulatorContext, Bodies.Emulator(2, 0, Bodies.Qevm(64))));
        }
        s.Parts.Add(new StreamPart(StreamLayer.Libxl, (uint)LibxlRecordType.End, []));
        return s;
    }

    /// <summary>Puts an xl save-file header (JSON config, STREAMv2) in front of a libxl stream.</summary>
    public TestStream InXl(XlMandatoryFlags flags = XlMandatoryFlags.Json | XlMandatoryFlags.StreamV2)
    {
        var s = new TestStream { Format = OuterFormat.Xl, Dialect = Dialect };
        s.Parts.Add(new StreamPart("XL_HEADER", Bodies.XlHeader(flags, "{\"c_info\":{\"type\":\"hvm\",\"name\":\"t\"}}\0"u8.ToArray())));
        s.Parts.AddRange(Parts.Select(p => p.Clone()));
        return s;
    }

    /// <summary>Appends a record of the last used layer.</summary>
    public TestStream Add(LibxcRecordType type, byte[]? body = null)
    {
        Parts.Add(new StreamPart(StreamLayer.Libxc, (uint)type, body ?? []));
        return this;
    }

    /// <summary>Appends raw bytes.</summary>
    public TestStream AddRaw(string name, byte[] raw)
    {
        Parts.Add(new StreamPart(name, raw));
        return this;
    }

    /// <summary>Removes the part at <paramref name="index"/>.</summary>
    public TestStream Remove(int index)
    {
        Parts.RemoveAt(index);
        return this;
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(' ', Parts);
}

/// <summary>Body builders for hand-made streams.</summary>
public static class Bodies
{
    /// <summary>The libxc image header.</summary>
    public static byte[] ImageHeader(uint version = 3, ushort options = 0, ushort r1 = 0, uint r2 = 0, ulong marker = LibxcWire.Marker, uint id = LibxcWire.Id)
    {
        var b = new byte[24];
        BinaryPrimitives.WriteUInt64BigEndian(b, marker);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), id);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), version);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(16), options);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(18), r1);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(20), r2);
        return b;
    }

    /// <summary>The libxc domain header.</summary>
    public static byte[] DomainHeader(DomainType type, ushort pageShift = 12, ushort reserved = 0, uint major = 4, uint minor = 17)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)type);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), pageShift);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), reserved);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), major);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), minor);
        return b;
    }

    /// <summary>The libxl header.</summary>
    public static byte[] LibxlHeader(uint version = 2, uint options = 0, ulong ident = LibxlWire.Ident)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(b, ident);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), version);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), options);
        return b;
    }

    /// <summary>The xl header with its optional data (u32 config size, config).</summary>
    public static byte[] XlHeader(XlMandatoryFlags flags, byte[] config, uint byteOrder = XlWire.ByteOrderMarker, uint optionalFlags = 0, byte[]? optionalData = null)
    {
        var opt = optionalData ?? [.. BitConverter.GetBytes((uint)config.Length), .. config];
        var b = new byte[48 + opt.Length];
        XlWire.Magic.CopyTo(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(32), byteOrder);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(36), (uint)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(40), optionalFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(44), (uint)opt.Length);
        opt.CopyTo(b.AsSpan(48));
        return b;
    }

    /// <summary>PAGE_DATA with NOTAB pfns.</summary>
    public static byte[] PageData(params ulong[] pfns) => PageData([.. pfns.Select(p => (p, PageType.NoTab))]);

    /// <summary>PAGE_DATA with typed pfns and (zero) pages for the data-carrying ones.</summary>
    public static byte[] PageData(params (ulong Pfn, PageType Type)[] words)
    {
        var data = words.Count(w => PageWord.HasData(w.Type));
        var b = new byte[8 + (8 * words.Length) + (4096 * data)];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)words.Length);
        for (var i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + (8 * i)), PageWord.Make(words[i].Pfn, words[i].Type));
        }
        for (var i = 0; i < data; i++)
        {
            b[8 + (8 * words.Length) + (4096 * i)] = (byte)(i + 1);
        }
        return b;
    }

    /// <summary>A pfn list (POSTCOPY_PFNS / FAULT layout) of raw words.</summary>
    public static byte[] PfnList(params ulong[] words)
    {
        var b = new byte[8 + (8 * words.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)words.Length);
        for (var i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + (8 * i)), words[i]);
        }
        return b;
    }

    /// <summary>X86_PV_INFO.</summary>
    public static byte[] PvInfo(byte width = 8, byte levels = 4) => [width, levels, 0, 0, 0, 0, 0, 0];

    /// <summary>X86_PV_P2M_FRAMES with the exact frame count.</summary>
    public static byte[] P2mFrames(uint start, uint end, byte width = 8, int? frames = null)
    {
        var fpp = 4096u / width;
        var n = frames ?? (int)((end / fpp) - (start / fpp) + 1);
        var b = new byte[8 + (8 * n)];
        BinaryPrimitives.WriteUInt32LittleEndian(b, start);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), end);
        for (var i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + (8 * i)), (ulong)(0x2000 + i));
        }
        return b;
    }

    /// <summary>An X86_PV_VCPU_* body.</summary>
    public static byte[] Vcpu(uint id, int blob, uint reserved = 0)
    {
        var b = new byte[8 + blob];
        BinaryPrimitives.WriteUInt32LittleEndian(b, id);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), reserved);
        for (var i = 8; i < b.Length; i += 61)
        {
            b[i] = 0x5A;
        }
        return b;
    }

    /// <summary>X86_TSC_INFO.</summary>
    public static byte[] TscInfo(uint mode = 0, uint reserved = 0, uint khz = 2_400_000)
    {
        var b = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(b, mode);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), khz);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 123_456_789);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), reserved);
        return b;
    }

    /// <summary>An HVM save blob: HEADER, one CPU record per vCPU, END.</summary>
    public static byte[] HvmContext(int vcpus, uint magic = HvmSaveWire.FileMagic, uint version = HvmSaveWire.FileVersion)
    {
        using var ms = new MemoryStream();
        void Desc(ushort code, ushort instance, uint len)
        {
            Span<byte> d = stackalloc byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(d, code);
            BinaryPrimitives.WriteUInt16LittleEndian(d[2..], instance);
            BinaryPrimitives.WriteUInt32LittleEndian(d[4..], len);
            ms.Write(d);
        }
        Desc((ushort)HvmSaveType.Header, 0, 24);
        var h = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, magic);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), version);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), 0x806F8);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), 2_400_000);
        ms.Write(h);
        for (var v = 0; v < vcpus; v++)
        {
            Desc((ushort)HvmSaveType.Cpu, (ushort)v, 1032);
            ms.Write(new byte[1032]);
        }
        Desc((ushort)HvmSaveType.End, 0, 0);
        return ms.ToArray();
    }

    /// <summary>HVM_PARAMS.</summary>
    public static byte[] HvmParams(params (ulong Index, ulong Value)[] entries) => HvmParams(0, entries);

    /// <summary>HVM_PARAMS with a reserved value.</summary>
    public static byte[] HvmParams(uint reserved, params (ulong Index, ulong Value)[] entries)
    {
        var b = new byte[8 + (16 * entries.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)entries.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), reserved);
        for (var i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + (16 * i)), entries[i].Index);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16 + (16 * i)), entries[i].Value);
        }
        return b;
    }

    /// <summary>X86_CPUID_POLICY with <paramref name="leaves"/> leaves.</summary>
    public static byte[] CpuidPolicy(int leaves)
    {
        var b = new byte[24 * leaves];
        for (var i = 0; i < leaves; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24 * i), (uint)i);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((24 * i) + 4), 0xFFFFFFFF);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((24 * i) + 8), 0x0D + (uint)i);
        }
        return b;
    }

    /// <summary>X86_MSR_POLICY with <paramref name="entries"/> entries (flags as given).</summary>
    public static byte[] MsrPolicy(int entries, uint flags = 0)
    {
        var b = new byte[16 * entries];
        for (var i = 0; i < entries; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16 * i), 0xCE + (uint)i);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((16 * i) + 4), flags);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((16 * i) + 8), 0x2);
        }
        return b;
    }

    /// <summary>An emulator sub-header and payload.</summary>
    public static byte[] Emulator(uint id, uint index, byte[] payload)
    {
        var b = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, id);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), index);
        payload.CopyTo(b.AsSpan(8));
        return b;
    }

    /// <summary>A QEMU savevm-looking blob.</summary>
    public static byte[] Qevm(int size)
    {
        var b = new byte[size];
        "QEVM"u8.CopyTo(b);
        b[7] = 3;
        return b;
    }

    /// <summary>Key/value strings, each NUL-terminated.</summary>
    public static byte[] Xenstore(params string[] strings) => Encoding.ASCII.GetBytes(string.Concat(strings.Select(s => s + "\0")));

    /// <summary>A u32 little-endian.</summary>
    public static byte[] U32(uint value) => BitConverter.GetBytes(value);
}
