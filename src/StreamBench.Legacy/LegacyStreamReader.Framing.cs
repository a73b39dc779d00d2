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
        BodyLength = bodyLength;
        if (bodyLength < 0)
        {
            _body.BeginToEnd();
        }
        else
        {
            _body.Begin(bodyLength);
        }
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
    public long BodyRemaining => _body.Remaining;

    /// <summary>Absolute offset of the current body's first byte.</summary>
    public long BodyOffset => _body.Start;

    /// <inheritdoc />
    BodyItem IBodyOwner.DescribeBody() => new(ErrorLayer.Legacy, Offset, ItemIndex, ItemName);

    /// <summary>Copies the next body bytes into <paramref name="destination"/> (reading until it is full or the body ends); returns the count (0 at the body's end).</summary>
    public int ReadBody(Span<byte> destination) => _body.Read(destination);

    /// <summary>
    /// The next up to <paramref name="max"/> body bytes in place, without a copy (valid until the next call on this
    /// reader). Empty at the body's end.
    /// </summary>
    public ReadOnlySpan<byte> ReadBodySpan(int max) => _body.ReadSpan(max);

    /// <summary>Skips <paramref name="count"/> body bytes.</summary>
    public void SkipBody(long count) => _body.Skip(count);

    /// <summary>
    /// The whole current body in one span: in place when it fits the source's window, otherwise copied into a buffer
    /// that grows only as bytes arrive, so a lying length cannot make it allocate up front; such bodies above
    /// <see cref="LegacyStreamReaderOptions.MaxBufferedBody"/> are refused (see <see cref="BodyCursor.GetBody"/>).
    /// </summary>
    public ReadOnlySpan<byte> GetBody() => _body.GetBody();

    /// <summary>Skips what is left of the current body. <see cref="Read"/> calls it when the caller did not.</summary>
    public void FinishItem()
    {
        if (_itemFinished)
        {
            return;
        }
        _body.Finish();
        _itemFinished = true;
    }
}
