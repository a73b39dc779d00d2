using System.Globalization;
using Microsoft.Win32.SafeHandles;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Format;

/// <summary>Where one data chunk's payload lies: in the file and in its direction's byte stream.</summary>
public readonly record struct CaptureDataExtent(long FileOffset, long Position, int Length, long Timestamp, uint Sequence)
{
    /// <summary>The direction offset just past the chunk.</summary>
    public long End => Position + Length;
}

/// <summary>
/// A capture opened for random access: one checking pass over every chunk (CRC32C, sequence, positions) collects the
/// metadata, the data extents of both directions, the index, the events and the footer, and measures any damage.
/// Payloads are not kept in memory; <see cref="OpenDirection"/> reads them back from the file.
/// </summary>
public sealed class CaptureFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly List<CaptureDataExtent>[] _extents = [[], []];
    private readonly List<CaptureIndexEntry>[] _index = [[], []];
    private readonly List<CaptureEvent> _events = [];
    private readonly List<string> _inconsistencies = [];

    private CaptureFile(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    /// <summary>Opens and checks a capture. Throws <see cref="CaptureFormatException"/> only when the file header is bad.</summary>
    public static CaptureFile Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var file = new CaptureFile(path, handle);
        try
        {
            file.Scan();
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="path"/> starts with the capture magic.</summary>
    public static bool IsCapture(string path)
    {
        if (path == "-" || !File.Exists(path))
        {
            return false;
        }
        Span<byte> head = stackalloc byte[CaptureWire.MagicSize];
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        return fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(CaptureWire.Magic);
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The file header.</summary>
    public CaptureFileHeader Header { get; private set; }

    /// <summary>Every metadata chunk merged in order.</summary>
    public CaptureMetadata Metadata { get; } = new();

    /// <summary>Events in file order.</summary>
    public IReadOnlyList<CaptureEvent> Events => _events;

    /// <summary>The footer, when the capture was closed cleanly.</summary>
    public CaptureFooter? Footer { get; private set; }

    /// <summary>How the checking pass ended.</summary>
    public CaptureEndState EndState { get; private set; }

    /// <summary>Why it stopped early, if it did.</summary>
    public string? Problem { get; private set; }

    /// <summary>
    /// What disagrees inside intact chunks (index entries, footer counts, event directions, payloads that do not parse),
    /// each naming the chunk; non-empty when <see cref="EndState"/> is <see cref="CaptureEndState.Inconsistent"/>
    /// or the file is also damaged. A CRC only proves that the bytes are the ones written, not that they make sense.
    /// </summary>
    public IReadOnlyList<string> Inconsistencies => _inconsistencies;

    /// <summary>File length.</summary>
    public long FileLength { get; private set; }

    /// <summary>Bytes up to the end of the last good chunk.</summary>
    public long ValidLength { get; private set; }

    /// <summary>Bytes after the last good chunk (a torn or damaged tail).</summary>
    public long LostBytes { get; private set; }

    /// <summary>Good chunks.</summary>
    public long ChunkCount { get; private set; }

    /// <summary>The data extents of a direction, in order.</summary>
    public IReadOnlyList<CaptureDataExtent> Extents(CaptureDirection direction) => _extents[(int)direction];

    /// <summary>The recorded index of a direction (may stop short of the data: see <see cref="IndexFor"/>).</summary>
    public IReadOnlyList<CaptureIndexEntry> RecordedIndex(CaptureDirection direction) => _index[(int)direction];

    /// <summary>Bytes of a direction.</summary>
    public long LengthOf(CaptureDirection direction)
    {
        var e = _extents[(int)direction];
        return e.Count == 0 ? 0 : e[^1].End;
    }

    /// <summary>Whether the recorder saw the direction's end of input.</summary>
    public bool HasEnded(CaptureDirection direction) => _events.Any(e => e.Code == CaptureEventCode.DirectionEnd && e.Direction == direction);

    /// <summary>Whether the capture holds any byte of the direction.</summary>
    public bool Has(CaptureDirection direction) => _extents[(int)direction].Count > 0;

    /// <summary>A seekable read-only stream over a direction's bytes.</summary>
    public Stream OpenDirection(CaptureDirection direction) => new DirectionStream(_handle, _extents[(int)direction]);

    /// <summary>
    /// The item index of a direction: the recorded one when it covers the whole direction, otherwise one rebuilt by
    /// parsing the bytes (a capture cut by a crash, or recorded with indexing off). Parsing stops at the first bad item.
    /// </summary>
    public IReadOnlyList<CaptureIndexEntry> IndexFor(CaptureDirection direction, XenStreamReaderOptions? options = null)
    {
        var recorded = _index[(int)direction];
        var length = LengthOf(direction);
        if (recorded.Count > 0 && recorded[^1].End == length && options is null)
        {
            return recorded;
        }
        using var stream = OpenDirection(direction);
        return StreamIndexing.Build(stream, options ?? DefaultReaderOptions(direction)).Entries;
    }

    /// <summary>Reader options for a direction: s2r auto-detected; r2s as the migrate receiver side when it starts with the banner, else back channel.</summary>
    public XenStreamReaderOptions DefaultReaderOptions(CaptureDirection direction)
    {
        if (direction == CaptureDirection.SenderToReceiver)
        {
            return new XenStreamReaderOptions();
        }
        using var s = OpenDirection(direction);
        return new XenStreamReaderOptions { Format = StreamIndexing.GuessBackFormat(s) };
    }

    private void Scan()
    {
        // A stream of its own: disposing a FileStream built on _handle would close the handle.
        using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20, FileOptions.SequentialScan);
        FileLength = fs.Length;
        using var reader = new CaptureReader(fs, leaveOpen: true);
        Header = reader.Header;
        long chunksBeforeFooter = 0;
        CaptureChunkHeader? footerChunk = null;
        void Inconsistent(CaptureChunkHeader h, string what) => _inconsistencies.Add(string.Create(CultureInfo.InvariantCulture,
            $"chunk #{h.Sequence} ({h.Type}) at capture offset {reader.ChunkOffset}: {what}"));
        while (reader.ReadChunk())
        {
            var h = reader.Chunk;
            if (footerChunk is null && h.Type != CaptureChunkType.Footer)
            {
                chunksBeforeFooter++;
            }
            switch (h.Type)
            {
                case CaptureChunkType.Metadata:
                    if (CaptureMetadata.Parse(reader.Payload) is { } m)
                    {
                        Metadata.Merge(m);
                    }
                    else
                    {
                        Inconsistent(h, $"a payload of {h.PayloadLength} bytes that does not parse as metadata (length-prefixed key and value pairs)");
                    }
                    break;
                case CaptureChunkType.Data:
                    _extents[h.DirectionByte].Add(new CaptureDataExtent(reader.PayloadOffset, h.Position, h.PayloadLength, h.Timestamp, h.Sequence));
                    break;
                case CaptureChunkType.Index:
                    var p = reader.Payload;
                    for (var i = 0; i + CaptureWire.IndexEntrySize <= p.Length; i += CaptureWire.IndexEntrySize)
                    {
                        _index[h.DirectionByte].Add(CaptureIndexEntry.Read(p[i..]));
                    }
                    break;
                case CaptureChunkType.Event:
                    if (h.DirectionByte > 1 && h.DirectionByte != CaptureWire.NoDirection)
                    {
                        Inconsistent(h, $"direction byte {h.DirectionByte} is not 0 (s2r), 1 (r2s) or 0x{CaptureWire.NoDirection:x} (none)");
                    }
                    else if (CaptureEvent.Parse(reader.Payload, h.Direction, h.Timestamp) is { } e)
                    {
                        _events.Add(e);
                    }
                    else
                    {
                        Inconsistent(h, $"an event payload of {h.PayloadLength} bytes (at least {CaptureWire.EventFixedSize})");
                    }
                    break;
                case CaptureChunkType.Footer:
                    Footer = CaptureFooter.Parse(reader.Payload);
                    footerChunk = h;
                    if (Footer is null)
                    {
                        Inconsistent(h, $"a footer payload of {h.PayloadLength} bytes, not {CaptureWire.FooterSize}");
                    }
                    break;
            }
        }
        EndState = reader.EndState;
        Problem = reader.Problem;
        CheckIndex(CaptureDirection.SenderToReceiver);
        CheckIndex(CaptureDirection.ReceiverToSender);
        if (Footer is { } f && footerChunk is { } fc)
        {
            void Count(string what, long claimed, long actual)
            {
                if (claimed != actual)
                {
                    Inconsistent(fc, string.Create(CultureInfo.InvariantCulture, $"the footer counts {claimed} {what}, the file holds {actual}"));
                }
            }
            Count("s2r bytes", f.SenderBytes, LengthOf(CaptureDirection.SenderToReceiver));
            Count("r2s bytes", f.ReceiverBytes, LengthOf(CaptureDirection.ReceiverToSender));
            Count("chunks before it", f.ChunkCount, chunksBeforeFooter);
            Count("s2r index entries", f.SenderIndexEntries, _index[0].Count);
            Count("r2s index entries", f.ReceiverIndexEntries, _index[1].Count);
        }
        if (_inconsistencies.Count > 0 && EndState == CaptureEndState.Complete)
        {
            EndState = CaptureEndState.Inconsistent;
            Problem ??= _inconsistencies[0];
        }
        ValidLength = reader.ValidLength;
        LostBytes = reader.LostBytes;
        ChunkCount = reader.ChunkCount;
    }

    /// <summary>
    /// A recorded index must tile its direction from offset 0: each entry starts where the previous one ended, has no
    /// negative length, and ends within the direction's bytes. Stops at the first bad entry (one line, not millions).
    /// </summary>
    private void CheckIndex(CaptureDirection direction)
    {
        var index = _index[(int)direction];
        var length = LengthOf(direction);
        long expected = 0;
        for (var i = 0; i < index.Count; i++)
        {
            var e = index[i];
            string? why = e.Offset != expected ? $"offset {e.Offset}, expected {expected}"
                : e.Length < 0 ? $"length {e.Length}"
                : e.Length > length - e.Offset ? $"offset {e.Offset} + length {e.Length} is past the direction's {length} bytes"
                : null;
            if (why is not null)
            {
                _inconsistencies.Add(string.Create(CultureInfo.InvariantCulture, $"{CaptureDirections.Name(direction)} index entry {i}: {why}"));
                return;
            }
            expected = e.End;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    /// <summary>A direction's bytes, read back from the data extents.</summary>
    private sealed class DirectionStream(SafeFileHandle handle, List<CaptureDataExtent> extents) : Stream
    {
        private readonly long _length = extents.Count == 0 ? 0 : extents[^1].End;
        private long _position;
        private int _extent;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => _length;

        public override long Position
        {
            get => _position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (!buffer.IsEmpty && _position < _length)
            {
                while (extents[_extent].End <= _position)
                {
                    _extent++;
                }
                var e = extents[_extent];
                var within = _position - e.Position;
                var n = (int)Math.Min(buffer.Length, e.Length - within);
                var got = RandomAccess.Read(handle, buffer[..n], e.FileOffset + within);
                if (got <= 0)
                {
                    throw new IOException("capture file shrank while it was being read");
                }
                _position += got;
                total += got;
                buffer = buffer[got..];
            }
            return total;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => _length + offset,
            };
            ArgumentOutOfRangeException.ThrowIfNegative(target);
            _position = target;
            // Find the extent by binary search on Position.
            int lo = 0, hi = extents.Count - 1;
            while (lo < hi)
            {
                var mid = (lo + hi + 1) / 2;
                if (extents[mid].Position <= target)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            _extent = Math.Max(0, lo);
            return _position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
