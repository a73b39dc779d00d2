using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The tails (FORMATS.md 6.3): PV unmapped pfns, vCPU contexts and shared_info; HVM magic pfns and context; the QEMU record.</summary>
public sealed partial class LegacyStreamReader
{
    // ---- 6.3 tails ---------------------------------------------------------------------------------------------

    private bool ReadPvUnmapped()
    {
        var at = StartItem();
        var count = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.UnmappedCountSize, "PV_TAIL_UNMAPPED_PFNS", "nr_unmapped"));
        _src.Advance(LegacyLayout.UnmappedCountSize);
        UnmappedCount = count;
        BeginItem(LegacyItemKind.PvUnmappedPfns, at, (long)count * UlongSize);
        _vcpuCursor = 0;
        _vcpuStep = VcpuStep.Basic;
        _state = State.PvVcpus;
        return true;
    }

    private bool ReadPvVcpu()
    {
        while (_vcpuCursor < _onlineCount)
        {
            var vcpu = _online[_vcpuCursor];
            switch (_vcpuStep)
            {
                case VcpuStep.Basic:
                {
                    var at = StartItem();
                    VcpuId = vcpu;
                    BeginItem(LegacyItemKind.PvVcpuBasic, at, BasicContextSize);
                    _vcpuStep = VcpuStep.Extended;
                    return true;
                }
                case VcpuStep.Extended:
                    _vcpuStep = VcpuStep.Xsave;
                    if (HasExtendedVcpuContext)
                    {
                        var at = StartItem();
                        VcpuId = vcpu;
                        BeginItem(LegacyItemKind.PvVcpuExtended, at, LegacyWire.ExtendedVcpuContextSize);
                        return true;
                    }
                    continue;
                default:
                    _vcpuStep = VcpuStep.Basic;
                    _vcpuCursor++;
                    if (XsaveLength != 0)
                    {
                        var at = StartItem();
                        const string name = "PV_TAIL_VCPU_XSAVE";
                        var h = Need(LegacyLayout.XsaveHeaderSize, name, "mask/size");
                        var mask = BinaryPrimitives.ReadUInt64LittleEndian(h);
                        var size = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
                        if (XsaveLength < LegacyLayout.XsaveHeaderSize || size != XsaveLength - LegacyLayout.XsaveHeaderSize)
                        {
                            throw Error(string.Create(CultureInfo.InvariantCulture,
                                $"vCPU {vcpu} xsave size {size} differs from the \"xcnt\" length {XsaveLength} minus 16"), at + 8, name, "size");
                        }
                        _src.Advance(LegacyLayout.XsaveHeaderSize);
                        VcpuId = vcpu;
                        XsaveMask = mask;
                        BeginItem(LegacyItemKind.PvVcpuXsave, at, (long)size);
                        return true;
                    }
                    continue;
            }
        }
        return false;
    }

    private bool ReadSharedInfo()
    {
        var at = StartItem();
        BeginItem(LegacyItemKind.SharedInfo, at, LegacyLayout.SharedInfoSize);
        ImageComplete();
        return true;
    }

    private bool ReadHvmMagic()
    {
        var at = StartItem();
        var h = Need(LegacyLayout.HvmMagicPfnsSize, "HVM_TAIL_MAGIC_PFNS", "ioreq/bufioreq/store");
        MagicPfns = new LegacyHvmMagicPfns(BinaryPrimitives.ReadUInt64LittleEndian(h), BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(h[16..]));
        _src.Advance(LegacyLayout.HvmMagicPfnsSize);
        BeginItem(LegacyItemKind.HvmMagicPfns, at, 0);
        _state = State.HvmContext;
        return true;
    }

    private bool ReadHvmContext()
    {
        var at = StartItem();
        var length = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.HvmContextLengthSize, "HVM_TAIL_CONTEXT", "length"));
        _src.Advance(LegacyLayout.HvmContextLengthSize);
        BeginItem(LegacyItemKind.HvmContext, at, length);
        _state = State.Qemu;
        return true;
    }

    private bool ReadQemu()
    {
        switch (_options.QemuRecord)
        {
            case LegacyQemuRecordHandling.Skip:
                ImageComplete();
                return false;
            case LegacyQemuRecordHandling.Auto when _src.AtEnd:
                ImageComplete();
                return false;
        }
        var at = StartItem();
        const string name = "QEMU_RECORD";
        Need(LegacyWire.QemuSignatureSize, name, "signature").CopyTo(_qemuSignature);
        _src.Advance(LegacyWire.QemuSignatureSize);
        ReadOnlySpan<byte> sig = _qemuSignature;
        if (sig.SequenceEqual(LegacyWire.DeviceModelRecord0002) || sig.SequenceEqual(LegacyWire.RemusDeviceModelState))
        {
            QemuSignature = sig.SequenceEqual(LegacyWire.DeviceModelRecord0002)
                ? LegacyQemuSignature.DeviceModelRecord0002
                : LegacyQemuSignature.RemusDeviceModelState;
            var length = BinaryPrimitives.ReadUInt32LittleEndian(Need(LegacyLayout.QemuLengthSize, name, "length"));
            _src.Advance(LegacyLayout.QemuLengthSize);
            BeginItem(LegacyItemKind.QemuRecord, at, length);
        }
        else if (sig.SequenceEqual(LegacyWire.QemuDeviceModelRecord))
        {
            QemuSignature = LegacyQemuSignature.QemuDeviceModelRecord;
            var length = _src.Length is long total ? total - _src.Position : -1;
            BeginItem(LegacyItemKind.QemuRecord, at, length);
        }
        else
        {
            QemuSignature = LegacyQemuSignature.None;
            throw Error($"unrecognised QEMU signature \"{Printable(sig)}\"", at, name, "signature");
        }
        ImageComplete();
        return true;
    }
}
