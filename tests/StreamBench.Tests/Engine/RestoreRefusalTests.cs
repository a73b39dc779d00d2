using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pv;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using Xunit;
using static StreamBench.Tests.Engine.StreamEdit;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Tests.Engine;

/// <summary>
/// Streams a restore must refuse, one per check: every error check of the verifier's restore profile (by its id) and
/// the checks only a restore can make (they need the domain). Each case is a valid engine-saved stream with exactly one
/// defect; the restore throws <see cref="StreamFormatException"/> whose <see cref="StreamFormatException.Check"/> is the check, and the domain
/// it had created is discarded.
/// </summary>
public sealed class RestoreRefusalTests
{
    /// <summary>One refusal: the check it proves, the defective stream, and restore options.</summary>
    public sealed record Case(VerificationCheck Check, Func<byte[]> Stream, DomainConfig? Config, Func<RestoreOptions, RestoreOptions>? Options = null);

    // Base streams: small guests, every layer, saved once.
    private sealed class Base(GuestType type, SaveOptions options)
    {
        private readonly Lazy<(byte[] Bytes, DomainConfig Config)> _saved = new(() =>
        {
            using GuestDomain d = EngineTestSupport.Build(type);
            return (EngineTestSupport.Save(d, options), DomainConfig.FromDomain(d));
        });

        public byte[] Bytes => _saved.Value.Bytes;

        public DomainConfig Config => _saved.Value.Config;

        public StreamEdit Edit() => Parse(Bytes);
    }

    private static readonly Base Pv = new(GuestType.Pv, new SaveOptions());
    private static readonly Base PvV2 = new(GuestType.Pv, new SaveOptions { StreamVersion = 2 });
    private static readonly Base Pv32 = new(GuestType.Pv32, new SaveOptions());
    private static readonly Base PvLibxl = new(GuestType.Pv, new SaveOptions { Format = SaveFormat.Libxl });
    private static readonly Base PvXl = new(GuestType.Pv, new SaveOptions { Format = SaveFormat.Xl });
    private static readonly Base Hvm = new(GuestType.Hvm, new SaveOptions());
    private static readonly Base HvmLibxl = new(GuestType.Hvm, new SaveOptions { Format = SaveFormat.Libxl });
    private static readonly Base HvmRemus = new(GuestType.Hvm, new SaveOptions { Format = SaveFormat.Libxl, Checkpoints = 2 });
    private static readonly Base PvRemus = new(GuestType.Pv, new SaveOptions { Checkpoints = 3, CheckpointEnding = CheckpointEnding.Failover });

    private static bool IsImage(Item i) => i.Kind == StreamItemKind.LibxcImageHeader;

    private static bool IsDomain(Item i) => i.Kind == StreamItemKind.LibxcDomainHeader;

    private static bool IsXl(Item i) => i.Kind == StreamItemKind.XlHeader;

    private static bool IsLibxlHeader(Item i) => i.Kind == StreamItemKind.LibxlHeader;

    private static Func<Item, bool> Rec(LibxcRecordType t) => i => i.Is(t);

    private static Func<Item, bool> Rec(LibxlRecordType t) => i => i.Is(t);

    private static Func<Item, bool> Vcpu(LibxcRecordType t, uint id) => i => i.Is(t) && BinaryPrimitives.ReadUInt32LittleEndian(i.Body) == id;

    private static byte[] With(byte[] body, Action<byte[]> change)
    {
        byte[] copy = (byte[])body.Clone();
        change(copy);
        return copy;
    }

    private static byte[] U32s(params uint[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i * 4), values[i]);
        }

        return b;
    }

    private static byte[] HvmParams(params (ulong Index, ulong Value)[] entries)
    {
        var b = new byte[8 + (16 * entries.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)entries.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + (16 * i)), entries[i].Index);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16 + (16 * i)), entries[i].Value);
        }

        return b;
    }

    private static byte[] Emulator(uint id, byte[] data)
    {
        var b = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(b, id);
        data.CopyTo(b, 8);
        return b;
    }

    private static byte[] Cut(byte[] stream, Func<Item, bool> before, int extra = 0)
    {
        StreamEdit e = Parse(stream);
        int index = e.IndexOf(before);
        int offset = e.Items.Take(index).Sum(i => i.Raw.Length) + extra;
        return stream[..offset];
    }

    // The raw offset of the first page-table page in a PAGE_DATA record, and the record's index.
    private static (int Item, int PageOffset) FirstPageTable(StreamEdit e)
    {
        for (int n = 0; n < e.Items.Count; n++)
        {
            Item item = e.Items[n];
            if (!item.Is(LibxcRecordType.PageData))
            {
                continue;
            }

            uint count = BinaryPrimitives.ReadUInt32LittleEndian(item.Raw.AsSpan(8));
            int data = 0;
            for (int i = 0; i < count; i++)
            {
                var type = PageWord.TypeOf(BinaryPrimitives.ReadUInt64LittleEndian(item.Raw.AsSpan(16 + (8 * i))));
                if (type is >= WirePageType.L1Tab and <= WirePageType.L4Tab or >= WirePageType.L1TabPinned and <= WirePageType.L4TabPinned)
                {
                    return (n, 16 + (8 * (int)count) + (data * LibxcWire.PageSize));
                }

                if (PageWord.HasData(type))
                {
                    data++;
                }
            }
        }

        throw new InvalidOperationException("no page table in the stream");
    }

    private static readonly ulong PvOutOfRangePfn = 0x10_0000;

    /// <summary>Every case, by check id.</summary>
    public static IReadOnlyDictionary<string, Case> Catalog { get; } = BuildCatalog();

    private static Dictionary<string, Case> BuildCatalog()
    {
        var c = new List<Case>
        {
            // ---------------------------------------------------------------- stream
            new(StreamChecks.Legacy, () => Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray(), null),
            new(StreamChecks.Truncated, () => Cut(Pv.Bytes, Rec(LibxcRecordType.PageData), extra: 100), Pv.Config),
            new(StreamChecks.MissingEnd, () => Pv.Edit().Remove(Rec(LibxcRecordType.End)).Join(), Pv.Config),
            new(StreamChecks.FailoverBeforeCheckpoint, () => Cut(PvRemus.Bytes, Rec(LibxcRecordType.Checkpoint)), PvRemus.Config,
                o => o with { Checkpoints = CheckpointMode.Checkpointed }),

            // ---------------------------------------------------------------- xl
            new(XlChecks.Magic, () => Pv.Bytes, Pv.Config, o => o with { Reader = new XenStreamReaderOptions { Format = OuterFormat.Xl } }),
            new(XlChecks.BigEndian, () => PvXl.Edit().Patch(IsXl, r => BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(32), XlWire.ByteOrderMarker)).Join(), null),
            new(XlChecks.ByteOrder, () => PvXl.Edit().Patch(IsXl, r => BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(32), 0x11111111)).Join(), null),
            new(XlChecks.MandatoryFlags, () => PvXl.Edit().Patch(IsXl, r => r[36] |= 0x4).Join(), null),
            new(XlChecks.OptionalData, () => PvXl.Edit().Patch(IsXl, r => BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(48), 0xFFFF)).Join(), null),
            new(XlChecks.LegacyFlag, () => PvXl.Edit().Patch(IsXl, r => r[36] &= unchecked((byte)~0x2)).Join(), null),

            // ---------------------------------------------------------------- libxl
            new(LibxlChecks.Ident, () => PvLibxl.Edit().Patch(IsLibxlHeader, r => r[0] = (byte)'X').Join(), PvLibxl.Config,
                o => o with { Reader = new XenStreamReaderOptions { Format = OuterFormat.Libxl } }),
            new(LibxlChecks.Version, () => PvLibxl.Edit().Patch(IsLibxlHeader, r => BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(8), 3)).Join(), PvLibxl.Config),
            new(LibxlChecks.Options, () => PvLibxl.Edit().Patch(IsLibxlHeader, r => BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(12), 1u << 2)).Join(), PvLibxl.Config),
            new(LibxlChecks.BigEndian, () => PvLibxl.Edit().Patch(IsLibxlHeader, r => BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(12), 1)).Join(), PvLibxl.Config),
            new(LibxlChecks.UnknownType, () => PvLibxl.Edit().InsertAfter(IsLibxlHeader, Libxl(9)).Join(), PvLibxl.Config),
            new(LibxlChecks.Padding, () => HvmLibxl.Edit().Replace(Rec(LibxlRecordType.EmulatorContext),
                item => Record(StreamLayer.Libxl, item.Type, item.Body, paddingByte: 0x5A)).Join(), HvmLibxl.Config),
            new(LibxlChecks.EndLength, () => PvLibxl.Edit().ReplaceBody(Rec(LibxlRecordType.End), _ => new byte[8]).Join(), PvLibxl.Config),
            new(LibxlChecks.LibxcContextLength, () => PvLibxl.Edit().ReplaceBody(Rec(LibxlRecordType.LibxcContext), _ => new byte[8]).Join(), PvLibxl.Config),
            new(LibxlChecks.XenstoreTooShort, () => HvmLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End),
                Libxl(LibxlRecordType.EmulatorXenstoreData, new byte[4])).Join(), HvmLibxl.Config),
            new(LibxlChecks.XenstoreEmulator, () => HvmLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End),
                Libxl(LibxlRecordType.EmulatorXenstoreData, Emulator(7, []))).Join(), HvmLibxl.Config),
            new(LibxlChecks.XenstoreFraming, () => HvmLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End),
                Libxl(LibxlRecordType.EmulatorXenstoreData, Emulator(2, "key\0value"u8.ToArray()))).Join(), HvmLibxl.Config),
            new(LibxlChecks.XenstoreKey, () => HvmLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End),
                Libxl(LibxlRecordType.EmulatorXenstoreData, Emulator(2, "/abs\0value\0"u8.ToArray()))).Join(), HvmLibxl.Config),
            new(LibxlChecks.EmulatorContextTooShort, () => HvmLibxl.Edit().ReplaceBody(Rec(LibxlRecordType.EmulatorContext), _ => new byte[4]).Join(), HvmLibxl.Config),
            new(LibxlChecks.EmulatorContextEmulator, () => HvmLibxl.Edit().ReplaceBody(Rec(LibxlRecordType.EmulatorContext),
                b => With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x, 9))).Join(), HvmLibxl.Config),
            new(LibxlChecks.EmulatorNotHvm, () => PvLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End),
                Libxl(LibxlRecordType.EmulatorContext, EmulatorState.CreateRecordBody(2))).Join(), PvLibxl.Config),
            new(LibxlChecks.CheckpointEndLength, () => HvmRemus.Edit().ReplaceBody(Rec(LibxlRecordType.CheckpointEnd), _ => new byte[8]).Join(), HvmRemus.Config),
            new(LibxlChecks.CheckpointEndUnexpected, () => PvLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End), Libxl(LibxlRecordType.CheckpointEnd)).Join(), PvLibxl.Config),
            new(LibxlChecks.CheckpointStateEmpty, () => PvLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End), Libxl(LibxlRecordType.CheckpointState)).Join(), PvLibxl.Config),
            new(LibxlChecks.CheckpointStateTooShort, () => PvLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End),
                Libxl(LibxlRecordType.CheckpointState, new byte[2])).Join(), PvLibxl.Config),
            new(LibxlChecks.CheckpointStateUnexpected, () => PvLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End),
                Libxl(LibxlRecordType.CheckpointState, U32s(0))).Join(), PvLibxl.Config),
            new(LibxlChecks.TailRecord, () => HvmRemus.Edit().Replace(Rec(LibxlRecordType.CheckpointEnd), _ => Libxl(LibxlRecordType.End)).Join(), HvmRemus.Config),
            new(RestoreChecks.SecondLibxcStream, () => PvLibxl.Edit().InsertBefore(Rec(LibxlRecordType.End), Libxl(LibxlRecordType.LibxcContext)).Join(), PvLibxl.Config),
            new(RestoreChecks.NoLibxcStream, () => PvLibxl.Edit().Items.Where(i => IsLibxlHeader(i) || i.Is(LibxlRecordType.End)).SelectMany(i => i.Raw).ToArray(), PvLibxl.Config),

            // ---------------------------------------------------------------- libxc headers
            new(LibxcChecks.ImageMarker, () => Pv.Edit().Patch(IsImage, r => r[0] = 0x7F).Join(), Pv.Config,
                o => o with { Reader = new XenStreamReaderOptions { Format = OuterFormat.Libxc } }),
            new(LibxcChecks.ImageId, () => Pv.Edit().Patch(IsImage, r => r[8] = (byte)'Y').Join(), Pv.Config,
                o => o with { Reader = new XenStreamReaderOptions { Format = OuterFormat.Libxc } }),
            new(LibxcChecks.ImageVersion, () => Pv.Edit().Patch(IsImage, r => BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(12), 4)).Join(), Pv.Config),
            new(LibxcChecks.ImageOptions, () => Pv.Edit().Patch(IsImage, r => BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(16), 2)).Join(), Pv.Config),
            new(LibxcChecks.ImageReserved, () => Pv.Edit().Patch(IsImage, r => r[21] = 1).Join(), Pv.Config),
            new(LibxcChecks.ImageBigEndian, () => Pv.Edit().Patch(IsImage, r => BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(16), 1)).Join(), Pv.Config),
            new(LibxcChecks.DomainHeaderType, () => Pv.Edit().Patch(IsDomain, r => BinaryPrimitives.WriteUInt32LittleEndian(r, 3)).Join(), Pv.Config),
            new(LibxcChecks.DomainReserved, () => Pv.Edit().Patch(IsDomain, r => r[6] = 1).Join(), Pv.Config),
            new(LibxcChecks.DomainPageShift, () => Pv.Edit().Patch(IsDomain, r => BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(4), 13)).Join(), Pv.Config),
            new(RestoreChecks.DomainTypeMismatch, () => Pv.Bytes, Hvm.Config),

            // ---------------------------------------------------------------- libxc records, common
            new(LibxcChecks.UnknownMandatory, () => Pv.Edit().InsertAfter(Rec(LibxcRecordType.StaticDataEnd), Libxc(0x13u)).Join(), Pv.Config),
            new(LibxcChecks.LengthMax, () => Pv.Edit().InsertAfter(Rec(LibxcRecordType.StaticDataEnd),
                new Item(StreamItemKind.Record, StreamLayer.Libxc, 0x8000_0013u, U32s(0x8000_0013u, LibxcWire.RecordLengthMax + 1))).Join(), Pv.Config),
            new(LibxcChecks.Padding, () => Pv.Edit().InsertAfter(Rec(LibxcRecordType.StaticDataEnd),
                Record(StreamLayer.Libxc, 0x8000_0013u, new byte[3], paddingByte: 1)).Join(), Pv.Config),
            new(LibxcChecks.GuestTypeMismatch, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.End), Libxc(LibxcRecordType.HvmParams, HvmParams((1, 5)))).Join(), Pv.Config),
            new(LibxcChecks.EndLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.End), _ => new byte[8]).Join(), Pv.Config),
            new(LibxcChecks.VerifyLength, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.X86TscInfo), Libxc(LibxcRecordType.Verify, new byte[8])).Join(), Pv.Config),
            new(LibxcChecks.CheckpointLength, () => PvRemus.Edit().ReplaceBody(Rec(LibxcRecordType.Checkpoint), _ => new byte[8]).Join(), PvRemus.Config),
            new(LibxcChecks.CheckpointInPlainStream, () => PvRemus.Bytes, PvRemus.Config, o => o with { Checkpoints = CheckpointMode.Plain }),
            new(LibxcChecks.Toolstack, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.End), Libxc(LibxcRecordType.Toolstack, new byte[8])).Join(), Pv.Config),
            new(LibxcChecks.DirtyPfnListForward, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.End),
                Libxc(LibxcRecordType.CheckpointDirtyPfnList, new byte[8])).Join(), Pv.Config),
            new(LibxcChecks.StaticDataEndLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.StaticDataEnd), _ => new byte[8]).Join(), Pv.Config),
            new(LibxcChecks.StaticDataEndV2, () => PvV2.Edit().InsertAfter(IsDomain, Libxc(LibxcRecordType.StaticDataEnd)).Join(), PvV2.Config),
            new(LibxcChecks.StaticDataEndDuplicate, () => Pv.Edit().InsertAfter(Rec(LibxcRecordType.StaticDataEnd), Libxc(LibxcRecordType.StaticDataEnd)).Join(), Pv.Config),
            new(LibxcChecks.CpuidV2, () => PvV2.Edit().InsertAfter(IsDomain, Pv.Edit().First(Rec(LibxcRecordType.X86CpuidPolicy))).Join(), PvV2.Config),
            new(LibxcChecks.CpuidLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86CpuidPolicy), b => b[..30]).Join(), Pv.Config),
            new(LibxcChecks.MsrV2, () => PvV2.Edit().InsertAfter(IsDomain, Pv.Edit().First(Rec(LibxcRecordType.X86MsrPolicy))).Join(), PvV2.Config),
            new(LibxcChecks.MsrLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86MsrPolicy), b => b[..20]).Join(), Pv.Config),
            new(LibxcChecks.TscLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86TscInfo), b => b[..16]).Join(), Pv.Config),
            new(LibxcChecks.TscReserved, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86TscInfo), b => With(b, x => x[20] = 1)).Join(), Pv.Config),

            // ---------------------------------------------------------------- PAGE_DATA
            new(LibxcChecks.PageDataTooShort, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, U32s(1, 0))).Join(), Pv.Config),
            new(LibxcChecks.PageDataReserved, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.PageData), b => With(b, x => x[4] = 1)).Join(), Pv.Config),
            new(LibxcChecks.PageDataPfnWords, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, PageData([PageWord.Make(1, WirePageType.XTab)], count: 2))).Join(), Pv.Config),
            new(LibxcChecks.PageDataPfnReserved, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, PageData([PageWord.Make(1, WirePageType.XTab) | (1ul << 52)]))).Join(), Pv.Config),
            new(LibxcChecks.PageDataPfnType, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, PageData([PageWord.Make(1, WirePageType.Invalid5)]))).Join(), Pv.Config),
            new(LibxcChecks.PageDataLength, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, PageData([PageWord.Make(1, WirePageType.NoTab)]))).Join(), Pv.Config),
            new(LibxcChecks.PageDataPfnRange, () => Pv.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, PageData([PageWord.Make(PvOutOfRangePfn, WirePageType.XTab)]))).Join(), Pv.Config),
            new(LibxcChecks.PageDataNoStaticDataEnd, () => Hvm.Edit().Remove(Rec(LibxcRecordType.StaticDataEnd)).Join(), Hvm.Config),

            // ---------------------------------------------------------------- PV
            new(LibxcChecks.PvInfoLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvInfo), b => [.. b, .. new byte[8]]).Join(), Pv.Config),
            new(LibxcChecks.PvInfoWidth, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvInfo), b => With(b, x => x[0] = 5)).Join(), Pv.Config),
            new(LibxcChecks.PvInfoLevels, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvInfo), b => With(b, x => x[1] = 2)).Join(), Pv.Config),
            new(LibxcChecks.PvInfoReserved, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvInfo), b => With(b, x => x[2] = 1)).Join(), Pv.Config),
            new(LibxcChecks.PvInfoCombination, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvInfo), b => With(b, x => x[0] = 4)).Join(), Pv.Config),
            new(LibxcChecks.PvInfoDuplicate, () => Pv.Edit().InsertAfter(Rec(LibxcRecordType.X86PvInfo), Pv.Edit().First(Rec(LibxcRecordType.X86PvInfo))).Join(), Pv.Config),
            new(LibxcChecks.P2mLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvP2mFrames), b => [.. b, 1, 2, 3, 4]).Join(), Pv.Config),
            new(LibxcChecks.P2mNoPvInfo, () => Pv.Edit().Remove(Rec(LibxcRecordType.X86PvInfo)).Join(), Pv.Config),
            new(LibxcChecks.P2mNoStaticDataEnd, () => Pv.Edit().Remove(Rec(LibxcRecordType.StaticDataEnd)).Join(), Pv.Config),
            new(LibxcChecks.P2mRange, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvP2mFrames),
                b => With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x, BinaryPrimitives.ReadUInt32LittleEndian(x.AsSpan(4)) + 1))).Join(), Pv.Config),
            new(LibxcChecks.P2mFrameCount, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvP2mFrames), b => [.. b, .. new byte[8]]).Join(), Pv.Config),
            new(LibxcChecks.VcpuTooShort, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvVcpuExtended), _ => new byte[4]).Join(), Pv.Config),
            new(LibxcChecks.VcpuReserved, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvVcpuExtended), b => With(b, x => x[4] = 1)).Join(), Pv.Config),
            new(LibxcChecks.VcpuBasicSize, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvVcpuBasic), b => b[..108]).Join(), Pv.Config),
            new(LibxcChecks.VcpuExtendedSize, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvVcpuExtended), b => [.. b[..8], .. new byte[136]]).Join(), Pv.Config),
            new(LibxcChecks.VcpuXsaveSize, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvVcpuXsave), b => b[..16]).Join(), Pv.Config),
            new(LibxcChecks.VcpuMsrsSize, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvVcpuMsrs), b => [.. b, 1, 2, 3, 4]).Join(), Pv.Config),
            new(LibxcChecks.Vcpu0BasicMissing, () => Pv.Edit().Remove(Vcpu(LibxcRecordType.X86PvVcpuBasic, 0)).Join(), Pv.Config),
            // XN-2's third path: no X86_PV_P2M_FRAMES (and so no page: every pfn would be beyond max_pfn) before END.
            new(LibxcChecks.RequiredP2m, () =>
            {
                StreamEdit e = Pv.Edit().Remove(Rec(LibxcRecordType.X86PvP2mFrames));
                Func<Item, bool> pageData = Rec(LibxcRecordType.PageData);
                e.Items.RemoveAll(i => pageData(i));
                return e.Join();
            }, Pv.Config),
            new(RestoreChecks.VcpuIdRange, () => Pv.Edit().ReplaceBody(Vcpu(LibxcRecordType.X86PvVcpuBasic, 1),
                b => With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x, 5))).Join(), Pv.Config),
            new(LibxcChecks.SharedInfoLength, () => Pv.Edit().ReplaceBody(Rec(LibxcRecordType.SharedInfo), b => b[..4088]).Join(), Pv.Config),
            new(LibxcChecks.SharedInfoNoPvInfo, () => Pv.Edit().InsertAfter(IsDomain, Pv.Edit().First(Rec(LibxcRecordType.SharedInfo))).Join(), Pv.Config),
            // A PTE beyond max_pfn (XN-1's shape): the restore profile's check, which the engine names too.
            new(LibxcChecks.PageDataPtePfn, () =>
            {
                StreamEdit e = Pv.Edit();
                (int item, int page) = FirstPageTable(e);
                byte[] raw = e.Items[item].Raw;
                for (int slot = 0; slot < 512; slot++)
                {
                    ulong pte = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(page + (8 * slot)));
                    if ((pte & 1) != 0)
                    {
                        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(page + (8 * slot)), (pte & ~0x000F_FFFF_FFFF_F000ul) | (PvOutOfRangePfn << 12));
                        break;
                    }
                }

                return e.Join();
            }, Pv.Config),
            new(RestoreChecks.PageType, () => Pv32.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, PageData([PageWord.Make(100, WirePageType.L4Tab)], new byte[LibxcWire.PageSize]))).Join(), Pv32.Config),
            new(RestoreChecks.StreamComplete, () => Pv.Edit().ReplaceBody(Vcpu(LibxcRecordType.X86PvVcpuBasic, 0),
                b => With(b, x => BinaryPrimitives.WriteUInt64LittleEndian(x.AsSpan(8 + VcpuGuestContextLayout.X86_64.Rdx), PvOutOfRangePfn))).Join(), Pv.Config),

            // ---------------------------------------------------------------- HVM
            new(LibxcChecks.HvmContextEmpty, () => Hvm.Edit().ReplaceBody(Rec(LibxcRecordType.HvmContext), _ => []).Join(), Hvm.Config),
            new(LibxcChecks.HvmParamsTooShort, () => Hvm.Edit().ReplaceBody(Rec(LibxcRecordType.HvmParams), _ => new byte[4]).Join(), Hvm.Config),
            new(LibxcChecks.HvmParamsReserved, () => Hvm.Edit().ReplaceBody(Rec(LibxcRecordType.HvmParams), b => With(b, x => x[4] = 1)).Join(), Hvm.Config),
            new(LibxcChecks.HvmParamsLength, () => Hvm.Edit().ReplaceBody(Rec(LibxcRecordType.HvmParams),
                b => With(b, x => BinaryPrimitives.WriteUInt32LittleEndian(x, BinaryPrimitives.ReadUInt32LittleEndian(x) + 1))).Join(), Hvm.Config),
            new(RestoreChecks.HvmParam, () => Hvm.Edit().InsertBefore(Rec(LibxcRecordType.End), Libxc(LibxcRecordType.HvmParams, HvmParams((200, 1)))).Join(), Hvm.Config),
            new(RestoreChecks.HvmContextLoad, () => Hvm.Edit().ReplaceBody(Rec(LibxcRecordType.HvmContext), _ => Enumerable.Range(1, 24).Select(i => (byte)i).ToArray()).Join(), Hvm.Config),
            new(RestoreChecks.HvmContextMissing, () => Hvm.Edit().Remove(Rec(LibxcRecordType.HvmContext)).Join(), Hvm.Config),
            new(RestoreChecks.Populate, () => Hvm.Edit().InsertBefore(Rec(LibxcRecordType.PageData),
                Libxc(LibxcRecordType.PageData, PageData([PageWord.Make(HvmMemoryLayout.DefaultMmioHoleStartPfn, WirePageType.NoTab)], new byte[LibxcWire.PageSize]))).Join(), Hvm.Config),

            // ---------------------------------------------------------------- checkpoints
            new(RestoreChecks.CheckpointBuffer, () => PvRemus.Bytes, PvRemus.Config, o => o with { MaxCheckpointBufferBytes = 100 }),
        };
        return c.ToDictionary(x => x.Check.Id);
    }

    public static TheoryData<string> Checks() => [.. Catalog.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Checks))]
    public void Restore_refuses_the_stream_with_the_checks_id_and_leaves_no_domain(string check)
    {
        Case c = Catalog[check];
        GuestDomain? created = null;
        var options = new RestoreOptions { Config = c.Config, DomainCreated = d => created = d };
        options = c.Options?.Invoke(options) ?? options;

        StreamFormatException e = Assert.Throws<StreamFormatException>(() => RestoreEngine.Restore(ByteSource.FromMemory(c.Stream()), options));

        Assert.Same(c.Check, e.Check);
        Assert.True(e.Offset >= 0);
        if (created is not null)
        {
            Assert.Equal(DomainLifecycle.Discarded, created.Lifecycle);
        }
    }

    [Fact]
    public void A_given_target_is_discarded_when_the_restore_fails()
    {
        using GuestDomain target = Hvm.Config.CreateEmpty();
        byte[] broken = Hvm.Edit().Remove(Rec(LibxcRecordType.HvmContext)).Join();

        Assert.Throws<StreamFormatException>(() => RestoreEngine.Restore(ByteSource.FromMemory(broken), new RestoreOptions { Target = target }));

        Assert.Equal(DomainLifecycle.Discarded, target.Lifecycle);
    }

    [Fact]
    public void Every_error_check_of_the_restore_profile_has_a_refusal_case()
    {
        // Not reachable in a restore of an upstream main stream: the reader frames everything it does not truncate,
        // and the other layers (post-copy RFC, back channels) are refused as a whole.
        VerificationCheck[] notApplicable = [StreamChecks.Malformed, LibxcChecks.ImageRfcVersion];
        string[] missing = VerificationChecks.For(VerificationProfile.Restore)
            .Where(k => k.Severity == FindingSeverity.Error && k.Layer is not (CheckLayer.Postcopy or CheckLayer.BackChannel))
            .Except(notApplicable)
            .Select(k => k.Id)
            .Where(id => !id.Contains("postcopy", StringComparison.Ordinal))
            .Where(id => !Catalog.ContainsKey(id))
            .ToArray();

        Assert.True(missing.Length == 0, "restore-profile checks without a refusal case: " + string.Join(", ", missing));
    }

    [Fact]
    public void The_error_names_offset_record_and_field()
    {
        byte[] stream = Pv.Edit().ReplaceBody(Rec(LibxcRecordType.X86PvInfo), b => With(b, x => x[0] = 4)).Join();
        long pvInfoOffset = Parse(stream).Items.TakeWhile(i => !i.Is(LibxcRecordType.X86PvInfo)).Sum(i => i.Raw.Length);

        StreamFormatException e = Assert.Throws<StreamFormatException>(() => EngineTestSupport.Restore(stream, options: new RestoreOptions { Config = Pv.Config }));

        Assert.Equal(pvInfoOffset, e.Offset);
        Assert.Equal("X86_PV_INFO", e.RecordType);
        Assert.Equal(ErrorLayer.Libxc, e.Layer);
        Assert.Equal("guest_width", e.Field);
        Assert.Contains("Invalid X86_PV_INFO combination: width 4, pt_levels 4", e.Message, StringComparison.Ordinal);
    }
}
