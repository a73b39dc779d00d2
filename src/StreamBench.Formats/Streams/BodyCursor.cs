using System.Globalization;

namespace StreamBench.Formats.Streams;

/// <summary>The item a <see cref="BodyCursor"/> walks, as its errors name it.</summary>
/// <param name="Layer">The layer of the item.</param>
/// <param name="Offset">Absolute offset of the item's first byte (its header).</param>
/// <param name="Index">The record or item index, or -1.</param>
/// <param name="Name">The record type or chunk name.</param>
public readonly record struct BodyItem(ErrorLayer Layer, long Offset, long Index, string Name);

/// <summary>A reader whose bodies a <see cref="BodyCursor"/> walks: asked who the current item is only when an error is raised.</summary>
public interface IBodyOwner
{
    /// <summary>The current item, for an error message.</summary>
    BodyItem DescribeBody();
}

/// <summary>
/// The body of the current item of a reader (<see cref="XenStreamReader"/> and the legacy reader share it): get it
/// whole, read it, take it in place, skip it, finish it, and the truncation errors. One behaviour for both readers:
/// <list type="bullet">
/// <item>A short read is not truncation (a pipe hands out what it has): the cursor reads and skips until the body is
/// complete or the input has ended.</item>
/// <item>Truncation raises <see cref="StreamFormatException"/> at the item's offset, naming the item, the field
/// <c>body</c>, the body's first byte and the offset where the data ran out.</item>
/// <item><see cref="GetBody"/> hands the body out in place when it fits the source's window, and otherwise copies it
/// into a buffer that grows only as bytes arrive (a lying length cannot make it allocate up front), up to a limit.</item>
/// <item>A body of unknown length (running to the end of the input) exists only for the legacy reader
/// (<see cref="BeginToEnd"/>); it never raises truncation.</item>
/// </list>
/// A mutable struct: keep it in a field and call it through the field.
/// </summary>
public struct BodyCursor
{
    private const int FirstBuffer = 1 << 20;
    private const int FirstUnboundedBuffer = 4096;

    private readonly ByteSource _src;
    private readonly IBodyOwner _owner;
    private readonly int _maxBuffered;
    private readonly string _lengthField;
    private byte[]? _buffer;
    private int _buffered;
    private long _consumed;

    /// <summary>A cursor over <paramref name="source"/> for <paramref name="owner"/>'s bodies.</summary>
    /// <param name="source">The input.</param>
    /// <param name="owner">Names the current item in errors.</param>
    /// <param name="maxBuffered">The largest body <see cref="GetBody"/> copies when it does not fit the window.</param>
    /// <param name="lengthField">The name of the field holding the body's length (named when a body is too large).</param>
    public BodyCursor(ByteSource source, IBodyOwner owner, int maxBuffered, string lengthField)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(owner);
        _src = source;
        _owner = owner;
        _maxBuffered = maxBuffered;
        _lengthField = lengthField;
        _buffered = -1;
    }

    /// <summary>Absolute offset of the body's first byte.</summary>
    public long Start { get; private set; }

    /// <summary>The body's length; -1 when it runs to the end of the input (legacy only).</summary>
    public long Length { get; private set; }

    /// <summary>Bytes not yet read or skipped (0 once buffered by <see cref="GetBody"/>; long.MaxValue when the length is unknown).</summary>
    public readonly long Remaining => _buffered >= 0 ? 0 : Length < 0 ? long.MaxValue : Length - _consumed;

    /// <summary>Starts a body of <paramref name="length"/> bytes at the source's position.</summary>
    public void Begin(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Start = _src.Position;
        Length = length;
        _consumed = 0;
        _buffered = -1;
    }

    /// <summary>Starts a body that runs to the end of the input (the legacy reader's QEMU record on a pipe).</summary>
    public void BeginToEnd()
    {
        Start = _src.Position;
        Length = -1;
        _consumed = 0;
        _buffered = -1;
    }

    /// <summary>
    /// The first <paramref name="count"/> bytes in place (no copy), clamped to the body's length; only before any
    /// read or skip. Valid until the next call on the source.
    /// </summary>
    public readonly ReadOnlySpan<byte> Prefix(int count)
    {
        if (_buffered >= 0)
        {
            return _buffer.AsSpan(0, Math.Min(count, _buffered));
        }
        if (_consumed != 0)
        {
            throw new InvalidOperationException("the body has already been consumed");
        }
        var n = Length < 0 ? count : (int)Math.Min(count, Length);
        if (n > _src.MaxWindow)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "larger than the source's window; use ReadBody");
        }
        if (!_src.Ensure(n))
        {
            if (Length < 0)
            {
                return _src.Peek(_src.Available);
            }
            throw Truncated(_src.Available);
        }
        return _src.Peek(n);
    }

    /// <summary>
    /// The next up to <paramref name="max"/> bytes in place, consumed (valid until the next call on the source).
    /// Empty at the body's end.
    /// </summary>
    /// <summary>
    /// The next <paramref name="count"/> body bytes in place (no copy, the cursor does not move), or an empty span
    /// when they cannot be had that way: fewer left in the body, more than the source's window, or the input ends
    /// first (the caller then reads them with <see cref="Read"/>, which reports the truncation). Valid until the next
    /// call on this cursor or its source.
    /// </summary>
    public readonly ReadOnlySpan<byte> PeekNext(int count)
    {
        if (_buffered >= 0 || count <= 0 || Remaining < count || count > _src.MaxWindow || !_src.Ensure(count))
        {
            return default;
        }
        return _src.Peek(count);
    }

    public ReadOnlySpan<byte> ReadSpan(int max)
    {
        var left = Remaining;
        if (left <= 0 || max <= 0)
        {
            return default;
        }
        var want = (int)Math.Min(Math.Min(max, left), _src.MaxWindow);
        if (!_src.Ensure(want))
        {
            var have = _src.Available;
            if (Length >= 0)
            {
                throw Truncated(_consumed + have);
            }
            want = have;
        }
        var span = _src.Peek(want);
        _src.Advance(want);
        _consumed += want;
        return span;
    }

    /// <summary>Copies the next body bytes into <paramref name="destination"/>, reading until it is full or the body ends; returns the count.</summary>
    public int Read(Span<byte> destination)
    {
        var left = Remaining;
        if (left <= 0 || destination.IsEmpty)
        {
            return 0;
        }
        var want = (int)Math.Min(destination.Length, left);
        var done = _src.Read(destination[..want]);
        _consumed += done;
        return done == want ? done : ReadRest(destination, done, want);
    }

    /// <summary>A short read: keep reading until <paramref name="want"/> bytes are in or the input ends.</summary>
    private int ReadRest(Span<byte> destination, int done, int want)
    {
        while (done < want)
        {
            var n = _src.Read(destination[done..want]);
            if (n == 0)
            {
                break;
            }
            done += n;
            _consumed += n;
        }
        if (done < want && Length >= 0)
        {
            throw Truncated(_consumed);
        }
        return done;
    }

    /// <summary>Skips <paramref name="count"/> body bytes (clamped to what is left), by seeking or mapping when the input allows.</summary>
    public void Skip(long count)
    {
        var want = Math.Min(count, Remaining);
        if (want > 0)
        {
            SkipExactly(want);
        }
    }

    private void SkipExactly(long want)
    {
        var n = _src.Skip(want);
        _consumed += n;
        if (n < want)
        {
            SkipRest(want - n);
        }
    }

    /// <summary>A short skip: keep skipping until <paramref name="want"/> bytes are passed or the input ends.</summary>
    private void SkipRest(long want)
    {
        while (want > 0)
        {
            var n = _src.Skip(want);
            if (n == 0)
            {
                break;
            }
            _consumed += n;
            want -= n;
        }
        if (want > 0 && Length >= 0)
        {
            throw Truncated(_consumed);
        }
    }

    /// <summary>
    /// The whole body. In place when its length is known and fits the source's window (not consumed then: a second
    /// call returns it again); otherwise copied into a buffer that grows only as bytes arrive, up to the limit
    /// (consumed then). Only before any read or skip.
    /// </summary>
    public ReadOnlySpan<byte> GetBody()
    {
        if (_buffered >= 0)
        {
            return _buffer.AsSpan(0, _buffered);
        }
        if (_consumed != 0)
        {
            throw new InvalidOperationException("the body has already been partly consumed");
        }
        if (Length >= 0 && Length <= _src.MaxWindow)
        {
            return Prefix((int)Length);
        }
        if (Length > _maxBuffered)
        {
            throw TooLarge();
        }
        var limit = Length >= 0 ? (int)Length : _maxBuffered;
        var buffer = _buffer ?? new byte[Math.Min(limit, Length >= 0 ? FirstBuffer : FirstUnboundedBuffer)];
        var filled = 0;
        while (filled < limit)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(limit, (long)buffer.Length * 2));
            }
            var n = Read(buffer.AsSpan(filled, Math.Min(buffer.Length, limit) - filled));
            if (n == 0)
            {
                break;
            }
            filled += n;
        }
        if (Length < 0 && filled == limit && !_src.AtEnd)
        {
            throw TooLarge();
        }
        _buffer = buffer;
        _buffered = filled;
        return buffer.AsSpan(0, filled);
    }

    /// <summary>Skips what is left of the body.</summary>
    public void Finish()
    {
        var left = Remaining;
        if (left > 0)
        {
            SkipExactly(left);
        }
    }

    private readonly StreamFormatException Truncated(long have)
    {
        var item = _owner.DescribeBody();
        return new StreamFormatException(
            string.Create(CultureInfo.InvariantCulture,
                $"stream truncated: the body of {Length} bytes starting at offset {Start} ran out at offset {Start + have} ({have} bytes present)"),
            item.Offset, item.Layer, item.Index, item.Name, "body", truncated: true);
    }

    private readonly StreamFormatException TooLarge()
    {
        var item = _owner.DescribeBody();
        var size = Length >= 0 ? string.Create(CultureInfo.InvariantCulture, $"body of {Length} bytes") : "body of unknown length";
        return new StreamFormatException(
            string.Create(CultureInfo.InvariantCulture, $"{size} starting at offset {Start} is larger than the buffering limit of {_maxBuffered}"),
            item.Offset, item.Layer, item.Index, item.Name, _lengthField);
    }
}
