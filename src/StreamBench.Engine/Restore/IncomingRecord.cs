using System.Globalization;
using System.Runtime.CompilerServices;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;

namespace StreamBench.Engine.Restore;

/// <summary>
/// One record as the restore sees it: either the record the reader stands on (its body streamed on demand, so page
/// data goes straight into guest pages), or a copy buffered for a later checkpoint (Xen's buffer_record). Errors name
/// the record's offset, index and type.
/// </summary>
internal sealed class IncomingRecord
{
    private XenStreamReader? _reader;
    private byte[]? _body;
    private int _consumed;

    private IncomingRecord()
    {
    }

    public StreamLayer Layer { get; private set; }

    public uint Type { get; private set; }

    public long Length { get; private set; }

    public long Offset { get; private set; }

    public long Index { get; private set; }

    public string TypeName { get; private set; } = "";

    /// <summary>Absolute offset of the body's first byte.</summary>
    public long BodyOffset { get; private set; }

    /// <summary>True for a record replayed from a checkpoint buffer.</summary>
    public bool IsBuffered => _body is not null;

    /// <summary>The record the reader is on.</summary>
    public static IncomingRecord Live(XenStreamReader reader) => new()
    {
        _reader = reader,
        Layer = reader.Layer,
        Type = reader.RecordType,
        Length = reader.BodyLength,
        Offset = reader.Offset,
        Index = reader.RecordIndex,
        TypeName = reader.RecordTypeName,
        BodyOffset = reader.BodyOffset,
    };

    /// <summary>A copy of this record's whole body, detached from the reader (the body must not be consumed yet).</summary>
    public IncomingRecord Detach() => new()
    {
        _body = Body.ToArray(),
        Layer = Layer,
        Type = Type,
        Length = Length,
        Offset = Offset,
        Index = Index,
        TypeName = TypeName,
        BodyOffset = BodyOffset,
    };

    /// <summary>The whole body (small records: in place when the input allows, else copied as the bytes arrive).</summary>
    public ReadOnlySpan<byte> Body => _body ?? _reader!.GetBody();

    /// <summary>Reads exactly <paramref name="destination"/>.Length body bytes, continuing where the last read ended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ReadExact(Span<byte> destination)
    {
        if (_body is not null)
        {
            if (_body.Length - _consumed < destination.Length)
            {
                throw Error($"body ends after {_body.Length} bytes, {_consumed + destination.Length} needed", "body", truncated: true);
            }

            _body.AsSpan(_consumed, destination.Length).CopyTo(destination);
            _consumed += destination.Length;
            return;
        }

        int done = 0;
        while (done < destination.Length)
        {
            int n = _reader!.ReadBody(destination[done..]);
            if (n == 0)
            {
                throw Error($"body ends after {Length} bytes, more needed", "body", truncated: true);
            }

            done += n;
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> body bytes in place, without copying or consuming them, or an empty span when
    /// they are not all at hand (then <see cref="ReadExact"/> reads them, and reports a truncation). <see cref="Skip"/>
    /// consumes them.
    /// </summary>
    public ReadOnlySpan<byte> Peek(int count)
    {
        if (_body is not null)
        {
            return _body.Length - _consumed < count ? default : _body.AsSpan(_consumed, count);
        }

        return _reader!.PeekBody(count);
    }

    /// <summary>Consumes <paramref name="count"/> body bytes that <see cref="Peek"/> returned.</summary>
    public void Skip(int count)
    {
        if (_body is not null)
        {
            _consumed += count;
            return;
        }

        _reader!.SkipBody(count);
    }

    /// <summary>A stream error located at this record (and <paramref name="field"/>).</summary>
    public StreamFormatException Error(string problem, string? field, bool truncated = false, long? offset = null,
        VerificationCheck? check = null) =>
        new(problem, offset ?? Offset, ErrorLayers.Of(Layer), Index, TypeName, field, truncated, check: check);

    /// <summary>The absolute offset of body byte <paramref name="bodyOffset"/>.</summary>
    public long At(long bodyOffset) => BodyOffset + bodyOffset;

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{TypeName} #{Index} @{Offset} ({Length} bytes)");
}
