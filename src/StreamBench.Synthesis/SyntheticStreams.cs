using System.Buffers.Binary;
using System.Text;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Records;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Formats.Synthesis;

/// <summary>
/// Writes valid streams of every layer and dialect, shaped like what Xen 4.17 writes (FORMATS.md 5, 14), for tests,
/// the corpus and benchmarks. It knows the wire format only; it is not the save engine (no domain behind it).
/// </summary>
public static class SyntheticStreams
{
    /// <summary>Generates a stream into memory.</summary>
    public static byte[] Generate(SyntheticStreamOptions options)
    {
        using var ms = new MemoryStream();
        Write(options, ms);
        return ms.ToArray();
    }

    /// <summary>Writes a stream to <paramref name="output"/>; returns the bytes written.</summary>
    public static long Write(SyntheticStreamOptions options, Stream output)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var w = new XenStreamWriter(output, leaveOpen: true, bufferSize: 1 << 20);
        new Generator(options, w).Run();
        w.Flush();
        return w.Position;
    }

    /// <summary>The receiver → sender side of a successful <c>xl migrate</c>.</summary>
    public static byte[] MigrateReceiverSide(bool withReadyAndReport = true, byte result = 0)
    {
        using var ms = new MemoryStream();
        using (var w = new XenStreamWriter(ms, leaveOpen: true))
        {
            w.WriteMessage(MigrateMessage.ReceiverBanner);
            if (withReadyAndReport)
            {
                w.WriteMessage(MigrateMessage.ReceiverReady);
                w.WriteMessage(MigrateMessage.Report, result);
            }
        }
        return ms.ToArray();
    }

    /// <summary>
    /// A COLO back channel in the seed's order (the secondary loop): per checkpoint SVM_READY, SVM_RESUMED, then, when the
    /// primary asks for the next one, SVM_SUSPENDED and a dirty pfn list.
    /// </summary>
    public static byte[] ColoBackChannel(int checkpoints, int dirtyPerCheckpoint = 4)
    {
        using var ms = new MemoryStream();
        using (var w = new XenStreamWriter(ms, leaveOpen: true))
        {
            Span<byte> state = stackalloc byte[4];
            for (var c = 0; c < checkpoints; c++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(state, (uint)CheckpointControlId.SvmReady);
                w.WriteRecord(LibxlRecordType.CheckpointState, state);
                BinaryPrimitives.WriteUInt32LittleEndian(state, (uint)CheckpointControlId.SvmResumed);
                w.WriteRecord(LibxlRecordType.CheckpointState, state);
                BinaryPrimitives.WriteUInt32LittleEndian(state, (uint)CheckpointControlId.SvmSuspended);
                w.WriteRecord(LibxlRecordType.CheckpointState, state);
                var pfns = new byte[dirtyPerCheckpoint * 8];
                for (var i = 0; i < dirtyPerCheckpoint; i++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(pfns.AsSpan(i * 8), (ulong)((c * 7) + (i * 3)));
                }
                w.WriteRecord(LibxcRecordType.CheckpointDirtyPfnList, pfns);
            }
        }
        return ms.ToArray();
    }

    /// <summary>A post-copy RFC back channel: faults for some pfns, then POSTCOPY_COMPLETE.</summary>
    public static byte[] PostcopyBackChannel(int faults)
    {
        using var ms = new MemoryStream();
        using (var w = new XenStreamWriter(ms, leaveOpen: true))
        {
            for (var f = 0; f < faults; f++)
            {
                var body = new byte[8 + 8];
                BinaryPrimitives.WriteUInt32LittleEndian(body, 1);
                BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8), (ulong)(f * 5));
                w.WriteRecord((uint)PostcopyRecordType.PostcopyFault, body);
            }
            w.WriteRecord((uint)PostcopyRecordType.PostcopyComplete, default);
        }
        return ms.ToArray();
    }

    private sealed class Generator(SyntheticStreamOptions o, XenStreamWriter w)
    {
        private readonly bool _pv = o.Guest is SyntheticGuest.Pv or SyntheticGuest.Pv32;
        private readonly bool _rfc = o.Dialect == StreamDialect.PostcopyRfc;
        private byte[]? _pages;
        private ulong[]? _words;

        private byte Width => o.Guest == SyntheticGuest.Pv32 ? (byte)4 : (byte)8;

        private bool Libxl => o.Layer != SyntheticLayer.Libxc;

        public void Run()
        {
            if (o.Layer is SyntheticLayer.Xl or SyntheticLayer.XlMigrateSender)
            {
                var config = Encoding.UTF8.GetBytes(_pv
                    ? "{\"c_info\":{\"type\":\"pv\",\"name\":\"synthetic\"},\"b_info\":{\"max_memkb\":131072}}\0"
                    : "{\"c_info\":{\"type\":\"hvm\",\"name\":\"synthetic\"},\"b_info\":{\"max_memkb\":131072}}\0");
                w.WriteXlHeader(XlMandatoryFlags.Json | XlMandatoryFlags.StreamV2, config);
            }
            if (Libxl)
            {
                w.WriteLibxlHeader();
                w.WriteRecord(LibxlRecordType.LibxcContext);
            }
            var version = _rfc ? 2u : o.Version;
            w.WriteImageHeader(version);
            w.WriteDomainHeader(_pv ? DomainType.X86Pv : DomainType.X86Hvm, o.XenMajor, o.XenMinor);

            if (_rfc)
            {
                RunPostcopy();
                return;
            }

            StaticData(version);
            Pages(0, o.Pages, pass: 0);
            if (o.DebugVerify)
            {
                w.WriteRecord(LibxcRecordType.Verify);
                Pages(0, o.Pages, pass: 1);
            }
            if (o.Checkpoints > 0)
            {
                for (var c = 0; c < o.Checkpoints; c++)
                {
                    if (c > 0)
                    {
                        Pages(c * 13 % Math.Max(1, o.Pages), Math.Min(o.DirtyPagesPerCheckpoint, o.Pages), pass: c + 1);
                    }
                    Tail();
                    w.WriteRecord(LibxcRecordType.Checkpoint);
                    if (Libxl)
                    {
                        EmulatorRecords();
                        w.WriteRecord(LibxlRecordType.CheckpointEnd);
                        if (o.Colo)
                        {
                            ColoCheckpointNew();
                        }
                    }
                }
                if (o.EndAtFailover)
                {
                    if (o.PartialCheckpointAtFailover)
                    {
                        Pages(0, Math.Min(o.DirtyPagesPerCheckpoint, o.Pages), pass: o.Checkpoints + 1);
                    }
                    return;
                }
                Pages(0, Math.Min(o.DirtyPagesPerCheckpoint, o.Pages), pass: o.Checkpoints + 1);
            }
            Tail();
            w.WriteRecord(LibxcRecordType.End);
            if (Libxl)
            {
                EmulatorRecords();
                w.WriteRecord(LibxlRecordType.End);
            }
            if (o.Layer == SyntheticLayer.XlMigrateSender)
            {
                w.WriteMessage(MigrateMessage.PermissionToGo);
            }
        }

        private void ColoCheckpointNew()
        {
            Span<byte> state = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(state, (uint)CheckpointControlId.CheckpointNew);
            w.WriteRecord(LibxlRecordType.CheckpointState, state);
        }

        private void RunPostcopy()
        {
            // FORMATS.md 9: PAGE_DATA*, BEGIN, TSC, CONTEXT, PARAMS, PFNS_BEGIN, PFNS*, TRANSITION,
            // <libxl: EMULATOR_*, POSTCOPY_TRANSITION_END>, POSTCOPY_PAGE_DATA*, END.
            var precopy = o.Pages / 2;
            Pages(0, precopy, pass: 0);
            w.WriteRecord((uint)PostcopyRecordType.PostcopyBegin, default);
            TscInfo();
            HvmContext();
            HvmParams();
            w.WriteRecord((uint)PostcopyRecordType.PostcopyPfnsBegin, default);
            for (var start = precopy; start < o.Pages; start += o.BatchSize)
            {
                var n = Math.Min(o.BatchSize, o.Pages - start);
                var body = new byte[8 + (8 * n)];
                BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)n);
                for (var i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8 + (8 * i)), PageWord.Make((ulong)(start + i), PageType.NoTab));
                }
                w.WriteRecord((uint)PostcopyRecordType.PostcopyPfns, body);
            }
            w.WriteRecord((uint)PostcopyRecordType.PostcopyTransition, default);
            if (Libxl)
            {
                EmulatorRecords();
                w.WriteRecord((uint)LibxlPostcopyRecordType.PostcopyTransitionEnd, default);
            }
            Pages(precopy, o.Pages - precopy, pass: 1, type: (uint)PostcopyRecordType.PostcopyPageData, allowXtab: false);
            w.WriteRecord(LibxcRecordType.End);
            if (Libxl)
            {
                w.WriteRecord(LibxlRecordType.End);
            }
            if (o.Layer == SyntheticLayer.XlMigrateSender)
            {
                w.WriteMessage(MigrateMessage.PermissionToGo);
            }
        }

        private void StaticData(uint version)
        {
            if (_pv)
            {
                Span<byte> info = stackalloc byte[LibxcBodySizes.X86PvInfo];
                info.Clear();
                info[0] = Width;
                info[1] = Width == 8 ? (byte)4 : (byte)3;
                w.WriteRecord(LibxcRecordType.X86PvInfo, info);
            }
            if (version >= 3)
            {
                CpuidPolicy();
                MsrPolicy();
                w.WriteRecord(LibxcRecordType.StaticDataEnd);
            }
            if (_pv)
            {
                P2mFrames();
            }
        }

        private void CpuidPolicy()
        {
            var leaves = new (uint Leaf, uint Sub)[] { (0, CpuidLeaf.NoSubleaf), (1, CpuidLeaf.NoSubleaf), (7, 0), (0xD, 1) };
            var body = new byte[leaves.Length * CpuidLeaf.Size];
            for (var i = 0; i < leaves.Length; i++)
            {
                new CpuidLeaf(leaves[i].Leaf, leaves[i].Sub, 0x0D + (uint)i, 0x68747541, 0x444D4163, 0x69746E65)
                    .Write(body.AsSpan(i * CpuidLeaf.Size));
            }
            w.WriteRecord(LibxcRecordType.X86CpuidPolicy, body);
        }

        private void MsrPolicy()
        {
            var body = new byte[2 * MsrPolicyEntry.Size];
            new MsrPolicyEntry(0xCE, 0, 0).Write(body); // MSR_INTEL_PLATFORM_INFO
            new MsrPolicyEntry(0x10A, 0, 0x2).Write(body.AsSpan(MsrPolicyEntry.Size)); // MSR_ARCH_CAPABILITIES
            w.WriteRecord(LibxcRecordType.X86MsrPolicy, body);
        }

        private void P2mFrames()
        {
            var fpp = PvPaging.FramesPerPage(Width);
            var end = (uint)Math.Max(0, o.Pages - 1);
            var frames = (end / fpp) + 1;
            var body = new byte[LibxcBodySizes.P2mFramesHeader + (8 * frames)];
            BinaryPrimitives.WriteUInt32LittleEndian(body, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), end);
            for (var i = 0; i < frames; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8 + (8 * i)), (ulong)(o.Pages + i));
            }
            w.WriteRecord(LibxcRecordType.X86PvP2mFrames, body);
        }

        private void Pages(int first, int count, int pass, uint type = (uint)LibxcRecordType.PageData, bool allowXtab = true)
        {
            var batch = Math.Max(1, o.BatchSize);
            _words ??= new ulong[batch];
            _pages ??= new byte[batch * LibxcWire.PageSize];
            for (var start = 0; start < count; start += batch)
            {
                var n = Math.Min(batch, count - start);
                var data = 0;
                for (var i = 0; i < n; i++)
                {
                    var pfn = (ulong)(first + start + i);
                    var xtab = allowXtab && o.XtabEvery > 0 && pfn % (ulong)o.XtabEvery == (ulong)(o.XtabEvery - 1);
                    _words[i] = PageWord.Make(pfn, xtab ? PageType.XTab : PageType.NoTab);
                    if (!xtab)
                    {
                        FillPage(_pages.AsSpan(data * LibxcWire.PageSize, LibxcWire.PageSize), pfn, pass);
                        data++;
                    }
                }
                w.WritePageData(_words.AsSpan(0, n), _pages.AsSpan(0, data * LibxcWire.PageSize), type);
            }
        }

        private void FillPage(Span<byte> page, ulong pfn, int pass)
        {
            if (o.ZeroPageEvery > 0 && pfn % (ulong)o.ZeroPageEvery == 0 && pass == 0)
            {
                page.Clear();
                return;
            }
            // Cheap deterministic contents: a per-page seed, then an arithmetic sequence over the page's words.
            var x = (o.Seed ^ (pfn * 0x9E3779B97F4A7C15ul) ^ ((ulong)pass << 56)) | 1;
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(page);
            for (var i = 0; i < words.Length; i++)
            {
                words[i] = x;
                x += 0x2545F4914F6CDD1Dul;
            }
        }

        private void Tail()
        {
            if (_pv)
            {
                TscInfo();
                var shared = new byte[LibxcBodySizes.SharedInfo];
                shared[0] = 1;
                w.WriteRecord(LibxcRecordType.SharedInfo, shared);
                var ctx = Width == 8 ? LibxcBodySizes.VcpuGuestContext64 : LibxcBodySizes.VcpuGuestContext32;
                for (var v = 0; v < o.Vcpus; v++)
                {
                    Vcpu(LibxcRecordType.X86PvVcpuBasic, v, ctx);
                    Vcpu(LibxcRecordType.X86PvVcpuExtended, v, LibxcBodySizes.VcpuExtendedMax);
                }
                return;
            }
            TscInfo();
            HvmContext();
            HvmParams();
        }

        private void Vcpu(LibxcRecordType type, int vcpu, int blob)
        {
            var body = new byte[LibxcBodySizes.VcpuHeader + blob];
            BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)vcpu);
            for (var i = LibxcBodySizes.VcpuHeader; i < body.Length; i += 97)
            {
                body[i] = (byte)(i + vcpu);
            }
            w.WriteRecord(type, body);
        }

        private void TscInfo()
        {
            Span<byte> tsc = stackalloc byte[LibxcBodySizes.TscInfo];
            TscInfoBody.Write(tsc, 0, 2_400_000, 123_456_789, 1);
            w.WriteRecord(LibxcRecordType.X86TscInfo, tsc);
        }

        private void HvmContext()
        {
            // HEADER, one CPU record per vCPU (hvm_hw_cpu is 1032 bytes), END.
            const int cpuSize = HvmSaveWire.CpuBodySize;
            var size = HvmSaveWire.DescriptorSize + HvmSaveWire.HeaderBodySize + (o.Vcpus * (HvmSaveWire.DescriptorSize + cpuSize)) + HvmSaveWire.DescriptorSize;
            var blob = new byte[size];
            var at = 0;
            void Descriptor(HvmSaveType code, int instance, int length)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(at), (ushort)code);
                BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(at + 2), (ushort)instance);
                BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at + 4), (uint)length);
                at += HvmSaveWire.DescriptorSize;
            }
            Descriptor(HvmSaveType.Header, 0, HvmSaveWire.HeaderBodySize);
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at + HvmSaveHeaderLayout.Magic), HvmSaveWire.FileMagic);
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at + HvmSaveHeaderLayout.Version), HvmSaveWire.FileVersion);
            BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(at + HvmSaveHeaderLayout.Changeset), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at + HvmSaveHeaderLayout.Cpuid), 0x000806F8);
            BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at + HvmSaveHeaderLayout.GtscKhz), 2_400_000);
            at += HvmSaveWire.HeaderBodySize;
            for (var v = 0; v < o.Vcpus; v++)
            {
                Descriptor(HvmSaveType.Cpu, v, cpuSize);
                blob[at] = (byte)(0x40 + v);
                at += cpuSize;
            }
            Descriptor(HvmSaveType.End, 0, 0);
            w.WriteRecord(LibxcRecordType.HvmContext, blob);
        }

        private void HvmParams()
        {
            var ps = new (HvmParam Index, ulong Value)[]
            {
                (HvmParam.StorePfn, 0xFEFFFul), (HvmParam.IoreqPfn, 0xFF000ul), (HvmParam.BufioreqPfn, 0xFF001ul),
                (HvmParam.ConsolePfn, 0xFEFFEul), (HvmParam.IdentPt, 0xFEFFD000ul),
            };
            var body = new byte[LibxcBodySizes.HvmParamsHeader + (ps.Length * LibxcBodySizes.HvmParamsEntry)];
            BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)ps.Length);
            for (var i = 0; i < ps.Length; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8 + (16 * i)), (ulong)ps[i].Index);
                BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(16 + (16 * i)), ps[i].Value);
            }
            w.WriteRecord(LibxcRecordType.HvmParams, body);
        }

        private void EmulatorRecords()
        {
            if (_pv || o.Guest == SyntheticGuest.Pvh)
            {
                return;
            }
            if (o.XenstoreData)
            {
                var kv = Encoding.ASCII.GetBytes("physmap/f0000000/start_addr\0f0000000\0physmap/f0000000/size\01000000\0");
                var xs = new byte[LibxlWire.EmulatorSubHeaderSize + kv.Length];
                BinaryPrimitives.WriteUInt32LittleEndian(xs, (uint)EmulatorId.QemuUpstream);
                kv.CopyTo(xs.AsSpan(LibxlWire.EmulatorSubHeaderSize));
                w.WriteRecord(LibxlRecordType.EmulatorXenstoreData, xs);
            }
            var qevm = new byte[LibxlWire.EmulatorSubHeaderSize + 300];
            BinaryPrimitives.WriteUInt32LittleEndian(qevm, (uint)EmulatorId.QemuUpstream);
            "QEVM"u8.CopyTo(qevm.AsSpan(LibxlWire.EmulatorSubHeaderSize));
            BinaryPrimitives.WriteUInt32BigEndian(qevm.AsSpan(LibxlWire.EmulatorSubHeaderSize + 4), 3);
            w.WriteRecord(LibxlRecordType.EmulatorContext, qevm);
        }
    }
}
