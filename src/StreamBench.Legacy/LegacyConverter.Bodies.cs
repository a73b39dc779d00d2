using System.Globalization;

namespace StreamBench.Formats.Legacy;

public static partial class LegacyConverter
{
    /// <summary>Item bodies into records: streamed, or held whole in a later checkpoint so that a failover writes none of a record.</summary>
    private sealed partial class Conversion
    {
        // A body held whole before it is written (in a Remus checkpoint after the first), and the item it belongs to.
        private byte[] _held = [];
        private int _heldLength;
        private string? _holdingItem;

        /// <summary>
        /// Whether records are read whole before they are written: in a Remus checkpoint after the first, where the end
        /// of the input is a failover (not an error) and the output must stop at a record boundary.
        /// </summary>
        private bool Holding => _r.CheckpointIndex > 0;

        /// <summary>
        /// A record of <paramref name="length"/> bytes: <paramref name="prefix"/>, then the current item's body
        /// (<paramref name="bodyLength"/> bytes). Streamed; in a later checkpoint read whole first (up to
        /// <see cref="LegacyConverterOptions.MaxHeldCheckpointRecord"/>), so a failover inside it writes none of it.
        /// </summary>
        private void BodyRecord(uint type, uint length, ReadOnlySpan<byte> prefix, long bodyLength, bool pageData = false)
        {
            if (Holding && bodyLength > _o.MaxHeldCheckpointRecord && InputEndsWithin(bodyLength))
            {
                DrainBody(); // a failover inside a record too big to hold: the input (a file) ends before it does
            }
            if (Holding && bodyLength <= _o.MaxHeldCheckpointRecord)
            {
                HoldBody();
                _w.BeginRecord(type, length);
                _w.WriteBody(prefix);
                _w.WritePageBody(_held.AsSpan(0, _heldLength));
                _w.EndRecord();
                return;
            }
            _w.BeginRecord(type, length);
            _w.WriteBody(prefix);
            CopyBody(pageData);
            _w.EndRecord();
        }

        /// <summary>
        /// True when the input's length is known (a file, memory) and it ends before the current body's remaining
        /// <paramref name="bodyLength"/> bytes do: the record cannot complete, whatever its declared size.
        /// </summary>
        private bool InputEndsWithin(long bodyLength) =>
            _r.Source.Length is long length && length - _r.Source.Position < Math.Min(bodyLength, _r.BodyRemaining);

        /// <summary>Reads the rest of the current body without keeping it, up to the input's end (which then fails over).</summary>
        private void DrainBody()
        {
            _holdingItem = _r.ItemName;
            while (!_r.ReadBodySpan(1 << 22).IsEmpty)
            {
            }
            _holdingItem = null;
        }

        /// <summary>Reads the rest of the current body into <see cref="_held"/>, which grows only as bytes arrive.</summary>
        private void HoldBody()
        {
            _holdingItem = _r.ItemName;
            _heldLength = 0;
            while (true)
            {
                var span = _r.ReadBodySpan(1 << 22);
                if (span.IsEmpty)
                {
                    break;
                }
                if (_held.Length - _heldLength < span.Length)
                {
                    Array.Resize(ref _held, Math.Max(_heldLength + span.Length, (int)Math.Min(2L * _held.Length, Array.MaxLength)));
                }
                span.CopyTo(_held.AsSpan(_heldLength));
                _heldLength += span.Length;
            }
            _holdingItem = null;
        }

        /// <summary>Streams the rest of the current body into the open record, in place where the source allows.</summary>
        private void CopyBody(bool pageData = false)
        {
            if (pageData)
            {
                CopyInKernel();
            }
            while (true)
            {
                var span = _r.ReadBodySpan(1 << 22);
                if (span.IsEmpty)
                {
                    return;
                }
                if (pageData)
                {
                    _w.WritePageBody(span); // zero-page runs may become holes in a file
                }
                else
                {
                    _w.WriteBody(span);
                }
            }
        }

        /// <summary>
        /// Page data of a regular input file handed to the kernel (<see cref="LegacyConverterOptions.KernelCopy"/>), as
        /// much of the current body as it takes; <see cref="CopyBody"/> writes whatever is left. Only when the whole body
        /// is in the file: a body the file ends inside takes the ordinary path, whose error names its offset and field.
        /// </summary>
        private void CopyInKernel()
        {
            var left = _r.BodyRemaining;
            if (!_o.KernelCopy || left < MinKernelCopy || _r.Source.FileHandle is not { } input
                || _r.Source.Length is not long length || length - _r.Source.Position < left)
            {
                return;
            }
            var copied = _w.CopyBodyFromFile(input, _r.Source.Position, left);
            if (copied > 0)
            {
                _r.SkipBody(copied);
                _state.KernelCopied += copied;
            }
        }

        /// <summary>Bodies shorter than this are written as usual (a system call per record would cost more than the copy).</summary>
        private const long MinKernelCopy = 64 << 10;

        /// <summary>A record whose body is <paramref name="prefix"/> and then the current item's body, streamed.</summary>
        private void StreamRecord(uint type, ReadOnlySpan<byte> prefix, long bodyLength)
        {
            var length = prefix.Length + bodyLength;
            if (bodyLength < 0 || length > uint.MaxValue)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture,
                    $"{_r.ItemName} of {bodyLength} bytes does not fit a record (at most 4 GiB)"), "length");
            }
            BodyRecord(type, (uint)length, prefix, bodyLength);
        }

        private ReadOnlySpan<byte> BufferToEnd()
        {
            var buffer = new MemoryStream();
            while (true)
            {
                var span = _r.ReadBodySpan(1 << 20);
                if (span.IsEmpty)
                {
                    break;
                }
                if (buffer.Length + span.Length > _o.MaxBufferedQemuRecord)
                {
                    throw Fail(string.Create(CultureInfo.InvariantCulture,
                        $"QEMU record of unknown length exceeds the {_o.MaxBufferedQemuRecord}-byte buffering limit"), "data");
                }
                buffer.Write(span);
            }
            return buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        }
    }
}
