using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The decoded fields of the legacy reader's current item, for <c>streambench dump</c> on legacy input.</summary>
public static class LegacyDescriber
{
    /// <summary>Name/value fields of <paramref name="reader"/>'s current item (page contents are never read).</summary>
    public static IReadOnlyList<RecordField> Describe(LegacyStreamReader reader, int maxItems = RecordDescriber.DefaultMaxItems)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var ci = CultureInfo.InvariantCulture;
        var f = new List<RecordField>();
        void Add(string name, string value) => f.Add(new RecordField(name, value));
        switch (reader.Kind)
        {
            case LegacyItemKind.Header:
                Add("p2m_size", string.Create(ci, $"0x{reader.P2mSize:x}"));
                Add("toolstack_width", string.Create(ci, $"{(int)reader.Width}"));
                Add("guest", reader.GuestType.ToString().ToLowerInvariant());
                Add("detected", reader.DetectionReason.Length == 0 ? "forced" : reader.DetectionReason);
                break;
            case LegacyItemKind.ExtendedInfo:
                Add("total_len", reader.ExtendedInfoLength.ToString(ci));
                break;
            case LegacyItemKind.ExtendedInfoBlock:
                Add("id", reader.BlockName);
                Add("size", reader.BodyLength.ToString(ci));
                break;
            case LegacyItemKind.P2mFrameList:
                Add("frames", reader.FrameCount.ToString(ci));
                break;
            case LegacyItemKind.PageBatch:
            {
                var words = reader.PfnWords;
                Add("count", words.Length.ToString(ci));
                Add("data_pages", reader.DataPageCount.ToString(ci));
                if (words.Length > 0)
                {
                    var shown = words[..Math.Min(words.Length, maxItems)].ToArray()
                        .Select(w => string.Create(ci, $"0x{w & LegacyWire.PfnMask:x}:{RecordDescriber.PageTypeName((PageType)((w >> LegacyWire.TypeShift) & 0xF))}"));
                    Add("pfns", string.Join(',', shown) + (words.Length > maxItems ? ",..." : ""));
                }
                if (reader.InCompressedBody)
                {
                    Add("compressed_body", "true");
                }
                break;
            }
            case LegacyItemKind.Chunk:
                Add("chunk_id", reader.RawChunkId.ToString(ci));
                switch (reader.ChunkId)
                {
                    case LegacyChunkId.VcpuInfo:
                        Add("max_vcpu_id", reader.MaxVcpuId.ToString(ci));
                        Add("online", string.Join(',', reader.OnlineVcpus.ToArray().Take(maxItems).Select(v => v.ToString(ci))));
                        break;
                    case LegacyChunkId.TscInfo:
                        Add("mode", reader.Tsc.Mode.ToString(ci));
                        Add("nsec", reader.Tsc.Nsec.ToString(ci));
                        Add("khz", reader.Tsc.Khz.ToString(ci));
                        Add("incarnation", reader.Tsc.Incarnation.ToString(ci));
                        break;
                    case LegacyChunkId.EnableVerifyMode or LegacyChunkId.LastCheckpoint or LegacyChunkId.EnableCompression:
                        break;
                    default:
                        Add("value", string.Create(ci, $"0x{reader.ChunkValue:x}"));
                        break;
                }
                break;
            case LegacyItemKind.CompressedData or LegacyItemKind.Toolstack or LegacyItemKind.Tmem or LegacyItemKind.TmemExtra:
                Add("chunk_id", reader.RawChunkId.ToString(ci));
                Add("size", reader.BodyLength.ToString(ci));
                break;
            case LegacyItemKind.PvUnmappedPfns:
                Add("count", reader.UnmappedCount.ToString(ci));
                break;
            case LegacyItemKind.PvVcpuBasic or LegacyItemKind.PvVcpuExtended:
                Add("vcpu", reader.VcpuId.ToString(ci));
                Add("bytes", reader.BodyLength.ToString(ci));
                break;
            case LegacyItemKind.PvVcpuXsave:
                Add("vcpu", reader.VcpuId.ToString(ci));
                Add("mask", string.Create(ci, $"0x{reader.XsaveMask:x}"));
                Add("bytes", reader.BodyLength.ToString(ci));
                break;
            case LegacyItemKind.HvmMagicPfns:
                Add("ioreq_pfn", string.Create(ci, $"0x{reader.MagicPfns.IoreqPfn:x}"));
                Add("bufioreq_pfn", string.Create(ci, $"0x{reader.MagicPfns.BufioreqPfn:x}"));
                Add("store_pfn", string.Create(ci, $"0x{reader.MagicPfns.StorePfn:x}"));
                break;
            case LegacyItemKind.QemuRecord:
                Add("signature", reader.QemuSignature.ToString());
                Add("bytes", reader.BodyLength.ToString(ci));
                break;
            default:
                if (reader.BodyLength > 0)
                {
                    Add("bytes", reader.BodyLength.ToString(ci));
                }
                break;
        }
        if (reader.CheckpointIndex > 0)
        {
            Add("checkpoint", reader.CheckpointIndex.ToString(ci));
        }
        return f;
    }
}
