using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>Chunk framing: the item loop (images, Remus checkpoints, how the read ends), each item's start and fields, and the body cursor (read, skip, buffer or finish the current item's body; truncation errors naming offset, item and field).</summary>
public sealed partial class LegacyStreamReader
{
    // ---- the item loop -----------------------------------------------------------------------------------------

    /// <summary>Moves to the next item. False at the end (see <see cref="Ending"/>).</summary>
    public bool Read()
    {
        if (_state == State.Done)
        {
            Kind = LegacyItemKind.None;
            return false;
        }
        try
        {
            FinishItem();
            return Step();
        }
        catch (StreamFormatException e) when (e.IsTruncation && CheckpointIndex > 0)
        {
            // A Remus stream stops wherever the primary failed; the last complete checkpoint stands.
            DiscardedBytes = _src.Position - _checkpointStart;
            return Finish(StreamEnding.Failover);
        }
    }

    private bool Step()
    {
        while (true)
        {
            switch (_state)
            {
                case State.Start:
                    return ReadHeader();
                case State.ExtendedInfo:
                    return ReadExtendedInfo();
                case State.ExtendedBlocks:
                    if (_extendedLeft == 0)
                    {
                        _state = State.P2mFrames;
                        continue;
                    }
                    return ReadExtendedBlock();
                case State.P2mFrames:
                    return ReadP2mFrames();
                case State.Body:
                    return ReadChunk();
                case State.TmemPools:
                    return ReadTmemPool();
                case State.TmemPages:
                    return ReadTmemPage();
                case State.TmemExtra:
                    return ReadTmemInvalidation();
                case State.PvUnmapped:
                    return ReadPvUnmapped();
                case State.PvVcpus:
                    if (ReadPvVcpu())
                    {
                        return true;
                    }
                    _state = State.PvSharedInfo;
                    continue;
                case State.PvSharedInfo:
                    return ReadSharedInfo();
                case State.HvmMagic:
                    return ReadHvmMagic();
                case State.HvmContext:
                    return ReadHvmContext();
                case State.Qemu:
                    if (ReadQemu())
                    {
                        return true;
                    }
                    continue;
                case State.AfterImage:
                    if (NextCheckpoint())
                    {
                        continue;
                    }
                    return false;
                default:
                    Kind = LegacyItemKind.None;
                    return false;
            }
        }
    }

    private bool Finish(StreamEnding ending)
    {
        if (Ending == StreamEnding.None)
        {
            Ending = ending;
        }
        _state = State.Done;
        Kind = LegacyItemKind.None;
        _itemFinished = true;
        return false;
    }

    /// <summary>The image (body, tail, QEMU record) is complete: decide whether a Remus checkpoint follows.</summary>
    private void ImageComplete()
    {
        CompleteImages++;
        _state = State.AfterImage;
    }

    private bool NextCheckpoint()
    {
        if (_options.StopAfterFirstImage || LastCheckpointSeen || _src.AtEnd
            || (GuestType == LegacyGuestType.Hvm && _options.QemuRecord == LegacyQemuRecordHandling.Skip))
        {
            return Finish(StreamEnding.Complete);
        }
        CheckpointIndex++;
        _checkpointStart = _src.Position;
        // xc_domain_restore switches to compressed bodies after the first tail, and only if the first body asked.
        InCompressedBody = _compressionRequested;
        _vcpuInfoSeenThisBody = false;
        _state = State.Body;
        return true;
    }

    // ---- item plumbing -----------------------------------------------------------------------------------------

    private void BeginItem(LegacyItemKind kind, long offset, long bodyLength)
    {
        Kind = kind;
        Offset = offset;
        ItemIndex = _itemCounter;
        BodyOffset = _src.Position;
        BodyLength = bodyLength;
        _bodyConsumed = 0;
        _bodyBufferLength = -1;
        _itemFinished = false;
    }

    /// <summary>Starts parsing the next item: numbers it, so that errors inside it carry its index.</summary>
    private long StartItem()
    {
        _itemCounter++;
        ItemIndex = _itemCounter;
        return _src.Position;
    }

    private ReadOnlySpan<byte> Need(int count, string itemName, string field)
    {
        if (!_src.Ensure(count))
        {
            throw new StreamFormatException(
                string.Create(CultureInfo.InvariantCulture, $"stream truncated: {field} needs {count} bytes, {_src.Available} left"),
                _src.Position, ErrorLayer.Legacy, _itemCounter, itemName, field, truncated: true);
        }
        return _src.Peek(count);
    }

    private StreamFormatException Error(string problem, long offset, string itemName, string field)
        => new(problem, offset, ErrorLayer.Legacy, _itemCounter, itemName, field);

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes through the source's window.</summary>
    private void ReadExact(Span<byte> destination, string itemName, string field)
    {
        var at = _src.Position;
        var done = 0;
        while (done < destination.Length)
        {
            var n = _src.Read(destination[done..]);
            if (n == 0)
            {
                throw new StreamFormatException(
                    string.Create(CultureInfo.InvariantCulture, $"stream truncated: {field} needs {destination.Length} bytes, {done} left"),
                    at, ErrorLayer.Legacy, _itemCounter, itemName, field, truncated: true);
            }
            done += n;
        }
    }

    private ulong ReadUlong(ReadOnlySpan<byte> at) => Width == LegacyWidth.Bits32
        ? BinaryPrimitives.ReadUInt32LittleEndian(at)
        : BinaryPrimitives.ReadUInt64LittleEndian(at);

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '.';
        }
        return new string(chars);
    }

    // ---- bodies ------------------------------------------------------------------------------------------------

    /// <summary>Bytes of the current body not yet read or skipped (long.MaxValue when it runs to an end of unknown position).</summary>
    public long BodyRemaining => _bodyBufferLength >= 0 ? 0 : BodyLength < 0 ? long.MaxValue : BodyLength - _bodyConsumed;

    private StreamFormatException BodyTruncated(long have) => new(
        string.Create(CultureInfo.InvariantCulture, $"stream truncated: the body needs {BodyLength} bytes, {have} present"),
        BodyOffset + have, ErrorLayer.Legacy, ItemIndex, ItemName, "body", truncated: true);

    /// <summary>Copies the next body bytes into <paramref name="destination"/>; returns the count (0 at the body's end).</summary>
    public int ReadBody(Span<byte> destination)
    {
        var left = BodyRemaining;
        if (left <= 0 || destination.IsEmpty)
        {
            return 0;
        }
        var want = (int)Math.Min(destination.Length, left);
        var done = 0;
        while (done < want)
        {
            var n = _src.Read(destination[done..want]);
            if (n == 0)
            {
                break;
            }
            done += n;
        }
        _bodyConsumed += done;
        if (done < want && BodyLength >= 0)
        {
            throw BodyTruncated(_bodyConsumed);
        }
        return done;
    }

    /// <summary>
    /// The next up to <paramref name="max"/> body bytes in place, without a copy (valid until the next call on this
    /// reader). Empty at the body's end.
    /// </summary>
    public ReadOnlySpan<byte> ReadBodySpan(int max)
    {
        var left = BodyRemaining;
        if (left <= 0 || max <= 0)
        {
            return default;
        }
        var want = (int)Math.Min(Math.Min(max, left), _src.MaxWindow);
        if (!_src.Ensure(want))
        {
            var have = _src.Available;
            if (BodyLength >= 0 || have == 0)
            {
                if (BodyLength >= 0)
                {
                    throw BodyTruncated(_bodyConsumed + have);
                }
                return default;
            }
            want = have;
        }
        var span = _src.Peek(want);
        _src.Advance(want);
        _bodyConsumed += want;
        return span;
    }

    /// <summary>Skips <paramref name="count"/> body bytes.</summary>
    public void SkipBody(long count)
    {
        var want = Math.Min(count, BodyRemaining);
        if (want <= 0)
        {
            return;
        }
        var n = _src.Skip(want);
        _bodyConsumed += n;
        if (n < want && BodyLength >= 0)
        {
            throw BodyTruncated(_bodyConsumed);
        }
    }

    /// <summary>
    /// The whole current body in one span. The buffer grows only as bytes arrive, so a lying length cannot make it
    /// allocate up front; bodies above <see cref="LegacyStreamReaderOptions.MaxBufferedBody"/> are refused.
    /// </summary>
    public ReadOnlySpan<byte> GetBody()
    {
        if (_bodyBufferLength >= 0)
        {
            return _bodyBuffer.AsSpan(0, _bodyBufferLength);
        }
        if (_bodyConsumed != 0)
        {
            throw new InvalidOperationException("the body has already been partly consumed");
        }
        if (BodyLength > _options.MaxBufferedBody)
        {
            throw new StreamFormatException(
                string.Create(CultureInfo.InvariantCulture, $"body of {BodyLength} bytes is larger than the buffering limit of {_options.MaxBufferedBody}"),
                Offset, ErrorLayer.Legacy, ItemIndex, ItemName, "length");
        }
        var buffer = _bodyBuffer ?? new byte[4096];
        var filled = 0;
        while (true)
        {
            var left = BodyRemaining;
            if (left == 0)
            {
                break;
            }
            if (filled == buffer.Length)
            {
                if (buffer.Length >= _options.MaxBufferedBody)
                {
                    throw new StreamFormatException(
                        string.Create(CultureInfo.InvariantCulture, $"body is larger than the buffering limit of {_options.MaxBufferedBody}"),
                        Offset, ErrorLayer.Legacy, ItemIndex, ItemName, "length");
                }
                Array.Resize(ref buffer, (int)Math.Min(_options.MaxBufferedBody, (long)buffer.Length * 2));
            }
            var n = ReadBody(buffer.AsSpan(filled, (int)Math.Min(buffer.Length - filled, left)));
            if (n == 0)
            {
                break;
            }
            filled += n;
        }
        _bodyBuffer = buffer;
        _bodyBufferLength = filled;
        return buffer.AsSpan(0, filled);
    }

    /// <summary>Skips what is left of the current body. <see cref="Read"/> calls it when the caller did not.</summary>
    public void FinishItem()
    {
        if (_itemFinished)
        {
            return;
        }
        var left = BodyRemaining;
        if (left > 0)
        {
            SkipBody(left);
        }
        _itemFinished = true;
    }
}
