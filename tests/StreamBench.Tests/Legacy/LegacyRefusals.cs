using System.Buffers.Binary;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Legacy;

/// <summary>A malformed (or unconvertible) image, how to convert it, and the field our error must name.</summary>
public sealed record LegacyRefusal(byte[] Input, LegacyConverterOptions Options, IReadOnlyList<string> OracleArgs, string Field, string MessagePart);

/// <summary>Hand-built images that both converters refuse; ours must say precisely where and why.</summary>
public static class LegacyRefusals
{
    private static readonly byte[] Page = new byte[LegacyLayout.PageSize];

    /// <summary>Builds an image with <paramref name="build"/> on a writer of <paramref name="width"/>.</summary>
    public static byte[] Build(LegacyWidth width, Action<LegacyStreamWriter> build)
    {
        using var ms = new MemoryStream();
        using (var w = new LegacyStreamWriter(ms, width, leaveOpen: true))
        {
            build(w);
        }
        return ms.ToArray();
    }

    /// <summary>A 64-bit PV header with the usual extended info and a one-frame p2m list.</summary>
    public static void PvHead(LegacyStreamWriter w, ulong p2mSize = 16)
    {
        w.WriteHeader(p2mSize);
        w.WritePvExtendedInfo(new byte[LegacyWire.VcpuBlockSize64], extendedVcpuContext: false, xsaveLength: 0);
        w.WriteUlongs([0x1234]);
    }

    /// <summary>A PV tail with no vCPUs.</summary>
    public static void PvTail(LegacyStreamWriter w)
    {
        w.WritePvUnmapped([]);
        w.WriteSharedInfo(Page);
    }

    /// <summary>An HVM tail with a 0002 QEMU record.</summary>
    public static void HvmTail(LegacyStreamWriter w)
    {
        w.WriteHvmTail(new LegacyHvmMagicPfns(1, 2, 3), new byte[40]);
        w.WriteQemuRecord(LegacyQemuSignature.DeviceModelRecord0002, new byte[16]);
    }

    private static LegacyRefusal Pv(Action<LegacyStreamWriter> build, string field, string message, LegacyOutputFormat format = LegacyOutputFormat.Libxc)
        => new(Build(LegacyWidth.Bits64, build),
            new LegacyConverterOptions { Width = LegacyWidth.Bits64, GuestType = LegacyGuestType.Pv, Format = format },
            ["-w", "64", "-g", "pv", "-f", format == LegacyOutputFormat.Libxl ? "libxl" : "libxc"], field, message);

    private static LegacyRefusal Hvm(Action<LegacyStreamWriter> build, string field, string message, LegacyOutputFormat format = LegacyOutputFormat.Libxc, LegacyWidth width = LegacyWidth.Bits64)
        => new(Build(width, build),
            new LegacyConverterOptions { Width = width, GuestType = LegacyGuestType.Hvm, Format = format },
            ["-w", width == LegacyWidth.Bits32 ? "32" : "64", "-g", "hvm", "-f", format == LegacyOutputFormat.Libxl ? "libxl" : "libxc"], field, message);

    private static byte[] Physmap(uint version, uint nameLength, byte[] name, int padding)
    {
        var blob = new byte[8 + 28 + name.Length + padding];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, version);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(8), 0xF0000000);
        BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(16), 0xFC000000);
        BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(24), 0x800000);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(32), nameLength);
        name.CopyTo(blob, 36);
        return blob;
    }

    /// <summary>The cases, by name.</summary>
    public static IReadOnlyDictionary<string, LegacyRefusal> Cases { get; } = new Dictionary<string, LegacyRefusal>
    {
        ["pv-no-vcpu-block"] = Pv(w =>
        {
            w.WriteHeader(16);
            w.WriteExtendedInfo(8);
            w.WriteExtendedBlock("extv"u8, default);
            w.WriteUlongs([1]);
            w.WriteEndOfBody();
            PvTail(w);
        }, "vcpu", "no \"vcpu\" block"),
        ["pv-bad-vcpu-block-size"] = Pv(w =>
        {
            w.WriteHeader(16);
            w.WriteExtendedInfo(8 + 100);
            w.WriteExtendedBlock("vcpu"u8, new byte[100]);
        }, "size", "neither"),
        ["pv-unknown-extended-block"] = Pv(w =>
        {
            w.WriteHeader(16);
            w.WriteExtendedInfo(8 + 4);
            w.WriteExtendedBlock("abcd"u8, new byte[4]);
        }, "id", "unrecognised extended-info block"),
        ["pv-bad-extended-marker"] = Pv(w =>
        {
            w.WriteHeader(16);
            w.WriteUlong(0x1234);
            w.WriteU32(0);
        }, "marker", "unexpected extended-info marker"),
        ["pv-block-overshoots-total"] = Pv(w =>
        {
            w.WriteHeader(16);
            w.WriteExtendedInfo(8);
            w.WriteExtendedBlock("vcpu"u8, new byte[LegacyWire.VcpuBlockSize64]);
        }, "size", "overshoots"),
        ["pv-short-xcnt"] = Pv(w =>
        {
            w.WriteHeader(16);
            w.WriteExtendedInfo(8 + (int)LegacyWire.VcpuBlockSize64 + 8 + 2);
            w.WriteExtendedBlock("vcpu"u8, new byte[LegacyWire.VcpuBlockSize64]);
            w.WriteExtendedBlock("xcnt"u8, new byte[2]);
            w.WriteUlongs([1]);
            w.WriteEndOfBody();
            PvTail(w);
        }, "size", "xcnt"),
        ["pv-p2m-size-zero"] = Pv(w =>
        {
            PvHead(w, 0);
            w.WriteEndOfBody();
            PvTail(w);
        }, "p2m_size", "p2m_size"),
        ["pv-hvm-param-chunk"] = Pv(w =>
        {
            PvHead(w);
            w.WriteHvmParamChunk(LegacyChunkId.HvmConsolePfn, 5);
            w.WriteEndOfBody();
            PvTail(w);
        }, "id", "HVM-only param in PV stream"),
        ["pv-xsave-size-mismatch"] = Pv(w =>
        {
            w.WriteHeader(16);
            w.WritePvExtendedInfo(new byte[LegacyWire.VcpuBlockSize64], false, 16 + 64);
            w.WriteUlongs([1]);
            w.WriteVcpuInfo([0]);
            w.WriteEndOfBody();
            w.WritePvUnmapped([]);
            w.WritePvVcpuBasic(new byte[LegacyWire.VcpuBlockSize64]);
            w.WritePvVcpuXsave(7, new byte[60]);
            w.WriteSharedInfo(Page);
        }, "size", "xsave size"),
        ["batch-over-max"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteChunkId(1025);
            for (var i = 0; i < 1025; i++)
            {
                w.WriteUlong((ulong)i);
            }
        }, "count", "MAX_BATCH"),
        ["duplicate-pfn"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WritePageBatch([5, 6, 5], new byte[3 * LegacyLayout.PageSize]);
            w.WriteEndOfBody();
            HvmTail(w);
        }, "pfn[]", "duplicate pfn"),
        ["unknown-chunk"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteChunkId(-21);
        }, "id", "unrecognised chunk id -21"),
        ["tmem"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteTmemClientHeader(1, 16, 0, 1, 0);
            w.WriteTmemListEnd();
            w.WriteEndOfBody();
            HvmTail(w);
        }, "id", "transcendent memory"),
        ["tmem-extra"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteTmemExtraStart();
            w.WriteTmemInvalidation(0, 1, 2, 3, 4);
            w.WriteTmemListEnd();
            w.WriteEndOfBody();
            HvmTail(w);
        }, "id", "transcendent memory"),
        ["compressed-data-in-first-body"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteCompressedData([0x00]);
            w.WriteEndOfBody();
            HvmTail(w);
        }, "id", "COMPRESSED_DATA in the first body"),
        ["vcpu-info-max-id-4096"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteChunkId((int)LegacyChunkId.VcpuInfo);
            w.WriteI32(4096);
        }, "max_vcpu_id", "out of range"),
        ["truncated-page-data"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteChunkId(2);
            w.WriteUlongs([1, 2]);
            w.WriteRaw(new byte[5000]);
        }, "body", "truncated"),
        ["truncated-header"] = Hvm(w => w.WriteU32(1), "p2m_size", "truncated"),
        ["unknown-qemu-signature"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteEndOfBody();
            w.WriteHvmTail(new LegacyHvmMagicPfns(1, 2, 3), new byte[8]);
            w.WriteRaw("DeviceModelRecord0003"u8);
            w.WriteU32(0);
        }, "signature", "unrecognised QEMU signature"),
        ["missing-qemu-record"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteEndOfBody();
            w.WriteHvmTail(new LegacyHvmMagicPfns(1, 2, 3), new byte[8]);
        }, "signature", "truncated"),
        ["toolstack-version-2"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteToolstack(Physmap(2, 4, "abc\0"u8.ToArray(), 4));
            w.WriteEndOfBody();
            HvmTail(w);
        }, "version", "Cannot decode libxl toolstack version 2", LegacyOutputFormat.Libxl),
        ["toolstack-name-without-nul"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteToolstack(Physmap(1, 4, "abcd"u8.ToArray(), 4));
            w.WriteEndOfBody();
            HvmTail(w);
        }, "name", "not NUL terminated", LegacyOutputFormat.Libxl),
        ["toolstack-empty-name"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteToolstack(Physmap(1, 0, [], 4));
            w.WriteEndOfBody();
            HvmTail(w);
        }, "namelen", "No physmap info name", LegacyOutputFormat.Libxl),
        ["toolstack-32bit-name-overrun"] = Hvm(w =>
        {
            w.WriteHeader(16);
            w.WriteToolstack(Physmap(1, 9, "abc\0"u8.ToArray(), 0));
            w.WriteEndOfBody();
            HvmTail(w);
        }, "name", "too short for physmap name", LegacyOutputFormat.Libxl, LegacyWidth.Bits32),
    };
}
