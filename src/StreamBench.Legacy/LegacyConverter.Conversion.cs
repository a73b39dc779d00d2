using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

public static partial class LegacyConverter
{
    /// <summary>The conversion of one input: the reader loop, the header and the dispatch of each legacy item to its handler.</summary>
    private sealed partial class Conversion : IDisposable
    {
        private readonly ByteSource _src;
        private readonly XenStreamWriter _w;
        private readonly LegacyConverterOptions _o;
        private readonly TextWriter? _log;
        private readonly bool _libxl;
        private readonly byte[] _scratch = new byte[1 << 16];
        private readonly ConversionState _state = new();
        private LegacyStreamReader _r = null!;

        public Conversion(ByteSource src, XenStreamWriter w, LegacyConverterOptions o, TextWriter? log)
        {
            _src = src;
            _w = w;
            _o = o;
            _log = log;
            _libxl = o.Format == LegacyOutputFormat.Libxl;
        }

        public LegacyConversionResult Run()
        {
            if (_o.XlHeader)
            {
                CopyXlHeader();
            }
            var readerOptions = new LegacyStreamReaderOptions
            {
                Width = _o.Width,
                GuestType = _o.GuestType,
                Semantics = LegacySemantics.XenConverter,
                // Xen's converter reads the QEMU record unless --skip-qemu in libxc mode (it ignores --skip-qemu for libxl).
                QemuRecord = _o.QemuRecordOptional ? LegacyQemuRecordHandling.Auto
                    : _libxl || !_o.SkipQemu ? LegacyQemuRecordHandling.Require : LegacyQemuRecordHandling.Skip,
                StopAfterFirstImage = !_o.Checkpoints,
            };
            _r = new LegacyStreamReader(_src, readerOptions);
            try
            {
                while (_r.Read())
                {
                    Item();
                }
            }
            catch (StreamFormatException e) when (e.IsTruncation && _r.CheckpointIndex > 0)
            {
                _state.Failover = true;
                _state.PartialItem = _holdingItem;
            }
            if (_r.Ending == StreamEnding.Failover)
            {
                _state.Failover = true;
            }
            if (_state.AwaitQemu && _o.QemuRecordOptional && !_state.Failover)
            {
                _state.AwaitQemu = false;
                if (_o.Checkpoints && !_r.LastCheckpointSeen)
                {
                    // A Remus checkpoint's device-model record is part of it (libxl saves QEMU at every checkpoint): an
                    // input that stops before it stops inside the checkpoint, whose libxc CHECKPOINT is already out.
                    _state.Failover = true;
                }
                else
                {
                    // The image ended right after the HVM tail: no device-model record to wait for.
                    EndOfImage(checkpoint: false);
                }
            }
            if (_state.Failover)
            {
                Info(string.Create(CultureInfo.InvariantCulture,
                    $"Failover: the input stops inside checkpoint {_r.CheckpointIndex}; its complete records end the output without CHECKPOINT")
                    + (_state.PartialItem is null ? "" : $" (the {_state.PartialItem} the input stops in was not written)"));
            }
            var trailing = !_state.Failover && _r.HasTrailingData;
            if (trailing)
            {
                Info("Ignoring input after the converted image");
            }
            return new LegacyConversionResult
            {
                Width = _r.Width,
                GuestType = _r.GuestType,
                Images = _state.Images,
                PageDataRecords = _state.PageRecords,
                Pages = _state.Pages,
                DecompressedPages = _decoder?.PagesDecoded ?? 0,
                TrailingDataIgnored = trailing,
                Failover = _state.Failover,
                PartialItemDropped = _state.PartialItem,
                QemuRecordsDropped = _state.QemuDropped,
                KernelCopiedBytes = _state.KernelCopied,
            };
        }

        private bool Pv => _r.GuestType == LegacyGuestType.Pv;

        public void Dispose()
        {
            _r?.Dispose();
            _xenstore.Dispose();
        }

        private void Info(string message) => _log?.WriteLine(message);

        private StreamFormatException Fail(string problem, string field, long? offset = null) =>
            new(problem, offset ?? _r.Offset, ErrorLayer.Legacy, _r.ItemIndex, _r.ItemName, field);

        // ---- -x ---------------------------------------------------------------------------------------------------

        private void CopyXlHeader()
        {
            Span<byte> h = stackalloc byte[XlWire.HeaderSize];
            var at = _src.Position;
            if (!_src.Ensure(XlWire.MagicSize) || !_src.Peek(XlWire.MagicSize).SequenceEqual(XlWire.Magic))
            {
                var truncated = !_src.Ensure(XlWire.MagicSize);
                throw new StreamFormatException(truncated ? "stream truncated: no room for the xl header's magic" : "No xl header",
                    at, ErrorLayer.Xl, -1, "XL_HEADER", "magic", truncated);
            }
            if (!_src.Ensure(XlWire.HeaderSize))
            {
                throw new StreamFormatException("stream truncated inside the xl header", at, ErrorLayer.Xl, -1, "XL_HEADER", "header", truncated: true);
            }
            _src.Peek(XlWire.HeaderSize).CopyTo(h);
            _src.Advance(XlWire.HeaderSize);
            // convert-legacy-stream unpacks "=IIII": native (little-endian) order, whatever the byteorder field says.
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(h[XlWire.MandatoryFlagsOffset..]);
            if (_libxl)
            {
                flags |= (uint)XlMandatoryFlags.StreamV2;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(h[XlWire.MandatoryFlagsOffset..], flags);
            var optLength = BinaryPrimitives.ReadUInt32LittleEndian(h[XlWire.OptionalDataLengthOffset..]);
            _w.WriteRaw(h);
            var left = (long)optLength;
            while (left > 0)
            {
                var n = _src.Read(_scratch.AsSpan(0, (int)Math.Min(left, _scratch.Length)));
                if (n == 0)
                {
                    throw new StreamFormatException(
                        string.Create(CultureInfo.InvariantCulture, $"stream truncated: the xl optional data needs {optLength} bytes, {optLength - left} present"),
                        at + XlWire.HeaderSize, ErrorLayer.Xl, -1, "XL_HEADER", "optional_data", truncated: true);
                }
                _w.WriteRaw(_scratch.AsSpan(0, n));
                left -= n;
            }
            Info("Processed xl header");
        }

        // ---- items ------------------------------------------------------------------------------------------------

        private void Item()
        {
            switch (_r.Kind)
            {
                case LegacyItemKind.Header:
                    Header();
                    break;
                case LegacyItemKind.ExtendedInfo:
                    Info(string.Create(CultureInfo.InvariantCulture, $"Extended Info: length 0x{_r.ExtendedInfoLength:x}"));
                    break;
                case LegacyItemKind.ExtendedInfoBlock:
                    Info(string.Create(CultureInfo.InvariantCulture, $"  Record type: {_r.BlockName}, size 0x{_r.BodyLength:x}"));
                    if (_r.BlockId.SequenceEqual(LegacyLayout.VcpuBlockId))
                    {
                        WritePvInfo();
                    }
                    break;
                case LegacyItemKind.P2mFrameList:
                    _w.WriteRecord(LibxcRecordType.StaticDataEnd);
                    P2mFrames();
                    break;
                case LegacyItemKind.PageBatch:
                    PageBatch();
                    break;
                case LegacyItemKind.Chunk:
                    Chunk();
                    break;
                case LegacyItemKind.CompressedData:
                    CompressedData();
                    break;
                case LegacyItemKind.Toolstack:
                    Toolstack();
                    break;
                case LegacyItemKind.Tmem:
                case LegacyItemKind.TmemExtra:
                    throw Fail(string.Create(CultureInfo.InvariantCulture,
                        $"{_r.ItemName} at offset {_r.Offset}: transcendent memory state has no record in a v2/v3 stream, so it cannot be converted (Xen's converter stops here too, with \"todo\")"),
                        "id");
                case LegacyItemKind.EndOfBody:
                    EndOfBody();
                    break;
                case LegacyItemKind.PvUnmappedPfns:
                    if (_r.UnmappedCount != 0)
                    {
                        Info(string.Create(CultureInfo.InvariantCulture, $"discarding {_r.UnmappedCount} bogus 'unmapped pfns'"));
                    }
                    break;
                case LegacyItemKind.PvVcpuBasic:
                    VcpuRecord(LibxcRecordType.X86PvVcpuBasic);
                    break;
                case LegacyItemKind.PvVcpuExtended:
                    VcpuRecord(LibxcRecordType.X86PvVcpuExtended);
                    break;
                case LegacyItemKind.PvVcpuXsave:
                    VcpuRecord(LibxcRecordType.X86PvVcpuXsave);
                    break;
                case LegacyItemKind.SharedInfo:
                    StreamRecord((uint)LibxcRecordType.SharedInfo, default, _r.BodyLength);
                    Info("Got shinfo");
                    EndOfImageLibxc();
                    break;
                case LegacyItemKind.HvmMagicPfns:
                {
                    var m = _r.MagicPfns;
                    Info(string.Create(CultureInfo.InvariantCulture, $"Magic pfns: 0x{m.IoreqPfn:x} 0x{m.BufioreqPfn:x} 0x{m.StorePfn:x}"));
                    WriteHvmParams([(ulong)HvmParam.IoreqPfn, m.IoreqPfn, (ulong)HvmParam.BufioreqPfn, m.BufioreqPfn, (ulong)HvmParam.StorePfn, m.StorePfn]);
                    break;
                }
                case LegacyItemKind.HvmContext:
                    Info(string.Create(CultureInfo.InvariantCulture, $"Got HVM Context (0x{_r.BodyLength:x} bytes)"));
                    StreamRecord((uint)LibxcRecordType.HvmContext, default, _r.BodyLength);
                    EndOfImageLibxc();
                    break;
                case LegacyItemKind.QemuRecord:
                    Qemu();
                    break;
            }
        }

        private void Header()
        {
            Info(string.Create(CultureInfo.InvariantCulture, $"P2M Size: 0x{_r.P2mSize:x}"));
            Info($"Image: {(int)_r.Width}-bit toolstack, {(_r.GuestType == LegacyGuestType.Pv ? "PV" : "HVM")} guest ({_r.DetectionReason})");
            if (Pv && (_r.P2mSize == 0 || _r.P2mSize - 1 > uint.MaxValue))
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"p2m_size 0x{_r.P2mSize:x} cannot be expressed: X86_PV_P2M_FRAMES carries end_pfn = p2m_size - 1 in 32 bits"), "p2m_size");
            }
            if (_libxl)
            {
                _w.WriteLibxlHeader(LibxlOptions.Legacy);
                _w.WriteRecord(LibxlRecordType.LibxcContext);
            }
            _w.WriteImageHeader(LibxcWire.MaxVersion);
            _w.WriteDomainHeader(Pv ? DomainType.X86Pv : DomainType.X86Hvm, LibxcWire.LegacyConvertedMajor, LegacyWire.ConverterVersion);
            if (!Pv)
            {
                _w.WriteRecord(LibxcRecordType.StaticDataEnd);
            }
        }

        private void WritePvInfo()
        {
            Span<byte> body = stackalloc byte[LibxcBodySizes.X86PvInfo];
            body.Clear();
            body[0] = (byte)_r.GuestWidth;
            body[1] = (byte)_r.PtLevels;
            _w.WriteRecord(LibxcRecordType.X86PvInfo, body);
        }
    }


    /// <summary>What a conversion has counted and decided so far: the result's figures and the image-end state.</summary>
    private sealed class ConversionState
    {
        public int Images;
        public long PageRecords;
        public long Pages;
        public int QemuDropped;
        public long KernelCopied;
        /// <summary>The input stopped inside a later checkpoint: the output ends with its last complete record.</summary>
        public bool Failover;
        /// <summary>The item the input stopped in, when a failover dropped it.</summary>
        public string? PartialItem;
        /// <summary>The libxc tail is out and the image ends with the device model's record (HVM).</summary>
        public bool AwaitQemu;
    }
}
