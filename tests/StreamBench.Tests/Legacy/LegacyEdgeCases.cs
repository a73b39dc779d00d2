using System.Buffers.Binary;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Legacy;

/// <summary>An odd but acceptable image and how to convert it.</summary>
public sealed record LegacyEdgeCase(byte[] Input, LegacyConverterOptions Options, IReadOnlyList<string> OracleArgs);

/// <summary>Hand-built images at the corners of what Xen's converter accepts: ours must match it byte for byte.</summary>
public static class LegacyEdgeCases
{
    private static readonly byte[] Page = Enumerable.Range(0, LegacyLayout.PageSize).Select(i => (byte)(i * 7)).ToArray();

    private static LegacyEdgeCase Make(LegacyWidth width, LegacyGuestType guest, LegacyOutputFormat format, Action<LegacyStreamWriter> build, bool skipQemu = false)
    {
        var args = new List<string>
        {
            "-w", width == LegacyWidth.Bits32 ? "32" : "64", "-g", guest == LegacyGuestType.Pv ? "pv" : "hvm",
            "-f", format == LegacyOutputFormat.Libxl ? "libxl" : "libxc",
        };
        if (skipQemu)
        {
            args.Add("--skip-qemu");
        }
        return new LegacyEdgeCase(LegacyRefusals.Build(width, build),
            new LegacyConverterOptions { Width = width, GuestType = guest, Format = format, SkipQemu = skipQemu }, args);
    }

    private static void PvTail(LegacyStreamWriter w, int contexts, int basic = 0x1430)
    {
        w.WritePvUnmapped([3, 4]);
        for (var i = 0; i < contexts; i++)
        {
            w.WritePvVcpuBasic(Enumerable.Repeat((byte)(i + 1), basic).ToArray());
        }
        w.WriteSharedInfo(Page);
    }

    private static byte[] Physmap(LegacyWidth width, params (ulong Phys, string Name)[] entries)
    {
        using var ms = new MemoryStream();
        Span<byte> b = stackalloc byte[28];
        BinaryPrimitives.WriteUInt32LittleEndian(b, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)entries.Length);
        ms.Write(b[..8]);
        foreach (var (phys, name) in entries)
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(name);
            BinaryPrimitives.WriteUInt64LittleEndian(b, phys);
            BinaryPrimitives.WriteUInt64LittleEndian(b[8..], phys * 3);
            BinaryPrimitives.WriteUInt64LittleEndian(b[16..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(b[24..], (uint)bytes.Length);
            ms.Write(b);
            ms.Write(bytes);
            if (width == LegacyWidth.Bits64)
            {
                ms.Write([1, 2, 3, 4]);
            }
        }
        return ms.ToArray();
    }

    /// <summary>The cases, by name.</summary>
    public static IReadOnlyDictionary<string, LegacyEdgeCase> Cases { get; } = new Dictionary<string, LegacyEdgeCase>
    {
        ["pv-two-vcpu-info-chunks-append-with-duplicates"] = Make(LegacyWidth.Bits64, LegacyGuestType.Pv, LegacyOutputFormat.Libxc, w =>
        {
            LegacyRefusals.PvHead(w);
            w.WriteVcpuInfo([0, 1]);
            w.WriteVcpuInfo([1, 3]);
            w.WriteEndOfBody();
            PvTail(w, 4);
        }),
        ["pv-vcpu-bitmap-bits-above-max-id"] = Make(LegacyWidth.Bits32, LegacyGuestType.Pv, LegacyOutputFormat.Libxl, w =>
        {
            LegacyRefusals.PvHead(w);
            w.WriteVcpuInfo(0, [0b1010_0001]);
            w.WriteEndOfBody();
            PvTail(w, 3);
        }),
        ["pv-negative-max-vcpu-id"] = Make(LegacyWidth.Bits64, LegacyGuestType.Pv, LegacyOutputFormat.Libxc, w =>
        {
            LegacyRefusals.PvHead(w);
            w.WriteChunkId((int)LegacyChunkId.VcpuInfo);
            w.WriteI32(-5);
            w.WriteEndOfBody();
            PvTail(w, 0);
        }),
        ["pv-two-vcpu-blocks-extv-with-data-long-xcnt"] = Make(LegacyWidth.Bits64, LegacyGuestType.Pv, LegacyOutputFormat.Libxl, w =>
        {
            w.WriteHeader(1);
            w.WriteExtendedInfo((uint)(8 + 0x1430 + 8 + 0xAF0 + 8 + 5 + 8 + 12));
            w.WriteExtendedBlock("vcpu"u8, new byte[0x1430]);
            w.WriteExtendedBlock("vcpu"u8, new byte[0xAF0]);
            w.WriteExtendedBlock("extv"u8, [9, 9, 9, 9, 9]);
            w.WriteExtendedBlock("xcnt"u8, [24, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
            w.WriteUlongs([0x77]);
            w.WriteVcpuInfo([0]);
            w.WriteEndOfBody();
            w.WritePvUnmapped([]);
            w.WritePvVcpuBasic(new byte[0xAF0]);
            w.WritePvVcpuExtended(new byte[128]);
            w.WritePvVcpuXsave(0xFF, [1, 2, 3, 4, 5, 6, 7, 8]);
            w.WriteSharedInfo(Page);
        }),
        ["pv-toolstack-chunks-in-libxl"] = Make(LegacyWidth.Bits32, LegacyGuestType.Pv, LegacyOutputFormat.Libxl, w =>
        {
            LegacyRefusals.PvHead(w);
            w.WriteToolstack(Physmap(LegacyWidth.Bits32, (0xABC, "a\0")));
            w.WriteToolstack([]);
            w.WriteToolstack([.. Physmap(LegacyWidth.Bits32, (1, "b\0c\0"), (2, "\0")), 0xEE, 0xEE]);
            w.WriteEndOfBody();
            PvTail(w, 0);
        }),
        ["hvm-64-bit-words-with-high-bits"] = Make(LegacyWidth.Bits64, LegacyGuestType.Hvm, LegacyOutputFormat.Libxc, w =>
        {
            w.WriteHeader(1ul << 40);
            w.WritePageBatch([0x1_0000_0005ul, 0x5, 0x2_F000_0000ul, LegacyLayout.XtabPfnZero, 0x3_9000_0007ul], [.. Page, .. Page, .. Page]);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        }),
        ["hvm-padding-only-batch-and-invalid-types"] = Make(LegacyWidth.Bits32, LegacyGuestType.Hvm, LegacyOutputFormat.Libxl, w =>
        {
            w.WriteHeader(64);
            w.WritePageBatch([LegacyLayout.XtabPfnZero, LegacyLayout.XtabPfnZero], []);
            w.WritePageBatch([LegacyPfn.Make(1, 5), LegacyPfn.Make(2, 8), LegacyPfn.Make(3, 0xE), LegacyPfn.Make(4, 0xD)], [.. Page, .. Page]);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        }),
        ["hvm-empty-context-empty-qemu-repeated-params"] = Make(LegacyWidth.Bits64, LegacyGuestType.Hvm, LegacyOutputFormat.Libxl, w =>
        {
            w.WriteHeader(8);
            w.WriteHvmParamChunk(LegacyChunkId.HvmViridian, 1);
            w.WriteHvmParamChunk(LegacyChunkId.HvmViridian, 2, pad: 77);
            w.WriteMarkerChunk(LegacyChunkId.EnableVerifyMode);
            w.WriteMarkerChunk(LegacyChunkId.LastCheckpoint);
            w.WriteEndOfBody();
            w.WriteHvmTail(new LegacyHvmMagicPfns(ulong.MaxValue, 0, 1), []);
            w.WriteQemuRecord(LegacyQemuSignature.DeviceModelRecord0002, []);
        }),
        ["hvm-trailing-bytes-after-the-qemu-record"] = Make(LegacyWidth.Bits32, LegacyGuestType.Hvm, LegacyOutputFormat.Libxc, w =>
        {
            w.WriteHeader(8);
            w.WritePageBatch([1], Page);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
            w.WriteRaw([1, 2, 3, 4, 5, 6, 7]);
        }),
        ["hvm-qemu-record-left-by-skip-qemu"] = Make(LegacyWidth.Bits64, LegacyGuestType.Hvm, LegacyOutputFormat.Libxc, w =>
        {
            w.WriteHeader(8);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        }, skipQemu: true),
        ["hvm-skip-qemu-ignored-for-libxl"] = Make(LegacyWidth.Bits64, LegacyGuestType.Hvm, LegacyOutputFormat.Libxl, w =>
        {
            w.WriteHeader(8);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        }, skipQemu: true),
        ["pv-p2m-size-one-and-trailing-bytes"] = Make(LegacyWidth.Bits64, LegacyGuestType.Pv, LegacyOutputFormat.Libxl, w =>
        {
            LegacyRefusals.PvHead(w, 1);
            w.WriteEndOfBody();
            PvTail(w, 0);
            w.WriteRaw([9, 9, 9]);
        }),
        ["pv-p2m-size-2-pow-32"] = Make(LegacyWidth.Bits64, LegacyGuestType.Pv, LegacyOutputFormat.Libxc, w =>
        {
            w.WriteHeader(1ul << 32);
            w.WritePvExtendedInfo(new byte[0xAF0], false, 0);
            w.WriteUlongs(new ulong[(1 << 22)]);
            w.WriteEndOfBody();
            PvTail(w, 0);
        }),
        ["hvm-tsc-fields"] = Make(LegacyWidth.Bits32, LegacyGuestType.Hvm, LegacyOutputFormat.Libxc, w =>
        {
            w.WriteHeader(8);
            w.WriteTscInfo(new LegacyTscInfo(uint.MaxValue, ulong.MaxValue - 1, 123, uint.MaxValue - 2));
            w.WriteTscInfo(new LegacyTscInfo(0, 0, 0, 0));
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        }),
    };
}
