using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Records;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

public static partial class LegacyConverter
{
    /// <summary>Chunks, toolstack data, the vCPU and HVM tail records, and the end of each image or checkpoint (END/CHECKPOINT, the libxl records, QEMU).</summary>
    private sealed partial class Conversion
    {
        private readonly List<ulong> _hvmParams = [];
        private readonly MemoryStream _xenstore = new();

        private void Chunk()
        {
            var id = _r.ChunkId;
            Info(string.Create(CultureInfo.InvariantCulture, $"Chunk: {_r.RawChunkId} - {LegacyLayout.ChunkName(_r.RawChunkId)}"));
            if (LegacyLayout.HvmParamOf(id) is HvmParam param)
            {
                if (Pv)
                {
                    throw Fail("HVM-only param in PV stream", "id");
                }
                if (_hvmParams.Count / 2 >= _o.MaxHvmParams)
                {
                    throw Fail(string.Create(CultureInfo.InvariantCulture, $"more than {_o.MaxHvmParams} HVM-param chunks in one body"), "id");
                }
                _hvmParams.Add((ulong)param);
                _hvmParams.Add(_r.ChunkValue);
                return;
            }
            switch (id)
            {
                case LegacyChunkId.TscInfo:
                {
                    var t = _r.Tsc;
                    Span<byte> body = stackalloc byte[LibxcBodySizes.TscInfo];
                    TscInfoBody.Write(body, t.Mode, t.Khz, t.Nsec, t.Incarnation);
                    _w.WriteRecord(LibxcRecordType.X86TscInfo, body);
                    break;
                }
                case LegacyChunkId.VcpuInfo:
                    Info($"  Vcpu info: max_id {_r.MaxVcpuId}, online map [{string.Join(", ", _r.OnlineVcpus.ToArray())}]");
                    break;
                case LegacyChunkId.EnableVerifyMode:
                    Info("This is a debug stream");
                    break;
                case LegacyChunkId.EnableCompression:
                    Info(_o.Checkpoints
                        ? "  Checkpoint compression enabled (later checkpoints are decoded)"
                        : "  Checkpoint compression enabled (only the first image is converted)");
                    break;
            }
        }

        private void Toolstack()
        {
            if (_r.BodyLength == 0)
            {
                return;
            }
            Info(string.Create(CultureInfo.InvariantCulture, $"  Toolstack Data: sz 0x{_r.BodyLength:x}"));
            if (!_libxl)
            {
                Info("    Discarding");
                return;
            }
            if (_r.BodyLength > _o.MaxToolstackBlob)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"toolstack blob of {_r.BodyLength} bytes exceeds the {_o.MaxToolstackBlob}-byte limit for physmap data"), "size");
            }
            LegacyToolstackBlob.AppendXenstoreData(_r.GetBody(), _r.Width, _xenstore, _r.BodyOffset, _r.ItemIndex, _log);
            if (_xenstore.Length > _o.MaxXenstoreData)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"toolstack blobs expand to more than {_o.MaxXenstoreData} bytes of xenstore data"), "data");
            }
        }

        private void EndOfBody()
        {
            Info("Chunk: 0 - end");
            if (_r.InCompressedBody)
            {
                _decoder?.EndOfBody();
                FlushDecoded();
            }
            if (_hvmParams.Count > 0)
            {
                WriteHvmParams(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_hvmParams));
                _hvmParams.Clear();
            }
        }

        private void WriteHvmParams(ReadOnlySpan<ulong> pairs)
        {
            var length = LibxcBodySizes.HvmParamsHeader + (pairs.Length * 8);
            _w.BeginRecord((uint)LibxcRecordType.HvmParams, (uint)length);
            Span<byte> h = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)(pairs.Length / 2));
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
            _w.WriteBody(h);
            foreach (var v in pairs)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(h, v);
                _w.WriteBody(h);
            }
            _w.EndRecord();
        }

        private void VcpuRecord(LibxcRecordType type)
        {
            Span<byte> h = stackalloc byte[LibxcBodySizes.VcpuHeader];
            BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)_r.VcpuId);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
            StreamRecord((uint)type, h, _r.BodyLength);
        }

        /// <summary>The libxc tail is written: END (or CHECKPOINT), then the libxl records that follow the libxc stream.</summary>
        private void EndOfImageLibxc()
        {
            var checkpoint = _o.Checkpoints && !_r.LastCheckpointSeen;
            _w.WriteRecord(checkpoint ? LibxcRecordType.Checkpoint : LibxcRecordType.End);
            if (_libxl && _xenstore.Length > 0)
            {
                WriteEmulatorRecord(LibxlRecordType.EmulatorXenstoreData, _xenstore.GetBuffer().AsSpan(0, (int)_xenstore.Length), 0);
                _xenstore.SetLength(0);
            }
            _state.AwaitQemu = !Pv && (_libxl || !_o.SkipQemu);
            if (!_state.AwaitQemu)
            {
                EndOfImage(checkpoint);
            }
        }

        private void EndOfImage(bool checkpoint)
        {
            _state.Images++;
            if (_libxl)
            {
                _w.WriteRecord(checkpoint ? LibxlRecordType.CheckpointEnd : LibxlRecordType.End);
            }
        }

        private void WriteEmulatorRecord(LibxlRecordType type, ReadOnlySpan<byte> data, long streamed)
        {
            var length = LibxlWire.EmulatorSubHeaderSize + data.Length + streamed;
            if (length > uint.MaxValue)
            {
                throw Fail("the emulator record would exceed 4 GiB", "length");
            }
            Span<byte> h = stackalloc byte[LibxlWire.EmulatorSubHeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(h, (uint)EmulatorId.Unknown);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], 0);
            if (streamed > 0)
            {
                BodyRecord((uint)type, (uint)length, h, streamed); // data is empty when the body is streamed
                return;
            }
            _w.BeginRecord((uint)type, (uint)length);
            _w.WriteBody(h);
            _w.WriteBody(data);
            _w.EndRecord();
        }

        private void Qemu()
        {
            var checkpoint = _o.Checkpoints && !_r.LastCheckpointSeen;
            Info($"Qemu signature: {Encoding.ASCII.GetString(_r.QemuSignatureBytes)}");
            if (!_state.AwaitQemu)
            {
                return;
            }
            _state.AwaitQemu = false;
            if (_libxl)
            {
                if (_r.BodyLength >= 0)
                {
                    WriteEmulatorRecord(LibxlRecordType.EmulatorContext, default, _r.BodyLength);
                }
                else
                {
                    // "QemuDeviceModelRecord" through a pipe: the length is known only at the end of the input.
                    WriteEmulatorRecord(LibxlRecordType.EmulatorContext, BufferToEnd(), 0);
                }
            }
            else if (checkpoint)
            {
                // A checkpointed libxc stream has no place for raw QEMU state between checkpoints.
                _state.QemuDropped++;
                Info("  (QEMU record of a checkpoint dropped: libxc output cannot carry it)");
            }
            else
            {
                if (Holding && _r.BodyLength > _o.MaxHeldCheckpointRecord && InputEndsWithin(_r.BodyLength))
                {
                    DrainBody(); // a failover inside a QEMU record too big to hold
                }
                var hold = Holding && _r.BodyLength >= 0 && _r.BodyLength <= _o.MaxHeldCheckpointRecord;
                if (hold)
                {
                    HoldBody(); // the last image of a Remus stream: its raw QEMU record is written whole or not at all
                }
                _w.WriteRaw(_r.QemuSignatureBytes);
                if (_r.QemuSignature != LegacyQemuSignature.QemuDeviceModelRecord)
                {
                    Span<byte> len = stackalloc byte[LegacyLayout.QemuLengthSize];
                    BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)_r.BodyLength);
                    _w.WriteRaw(len);
                }
                if (hold)
                {
                    _w.WriteRaw(_held.AsSpan(0, _heldLength));
                }
                while (!hold)
                {
                    var span = _r.ReadBodySpan(1 << 22);
                    if (span.IsEmpty)
                    {
                        break;
                    }
                    _w.WriteRaw(span);
                }
            }
            EndOfImage(checkpoint);
        }
    }
}
