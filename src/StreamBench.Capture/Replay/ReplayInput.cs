using StreamBench.Capture.Format;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Replay;

/// <summary>A span of the bytes to send, as it was recorded: where it sits in the direction, when and in what order it came.</summary>
public readonly record struct ReplayChunk(long Position, int Length, long Timestamp, uint Sequence)
{
    /// <summary>Just past the chunk.</summary>
    public long End => Position + Length;
}

/// <summary>
/// What a replay sends (one direction of a capture, or a plain stream file) and what the peer answered when it was
/// recorded (the other direction), with the chunk timing and order of both.
/// </summary>
public sealed class ReplayInput : IDisposable
{
    private readonly CaptureFile? _capture;
    private readonly Func<Stream> _open;
    private readonly Func<IReadOnlyList<CaptureIndexEntry>> _index;
    private IReadOnlyList<CaptureIndexEntry>? _indexCache;

    private ReplayInput(CaptureFile? capture, Func<Stream> open, long length, IReadOnlyList<ReplayChunk> chunks,
        byte[]? peer, IReadOnlyList<ReplayChunk>? peerChunks, Func<IReadOnlyList<CaptureIndexEntry>> index, string description, CaptureDirection direction)
    {
        _capture = capture;
        _open = open;
        Length = length;
        Chunks = chunks;
        RecordedPeer = peer;
        PeerChunks = peerChunks;
        _index = index;
        Description = description;
        Direction = direction;
    }

    /// <summary>One direction of a capture; the other becomes the expected peer.</summary>
    public static ReplayInput FromCapture(CaptureFile capture, CaptureDirection direction, XenStreamReaderOptions? readerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(capture);
        static List<ReplayChunk> Chunks(IReadOnlyList<CaptureDataExtent> e) => [.. e.Select(x => new ReplayChunk(x.Position, x.Length, x.Timestamp, x.Sequence))];
        var other = CaptureDirections.Other(direction);
        byte[]? peer = null;
        if (capture.Has(other))
        {
            using var s = capture.OpenDirection(other);
            peer = new byte[capture.LengthOf(other)];
            s.ReadExactly(peer);
        }
        return new ReplayInput(null, () => capture.OpenDirection(direction), capture.LengthOf(direction), Chunks(capture.Extents(direction)),
            peer, peer is null ? null : Chunks(capture.Extents(other)), () => capture.IndexFor(direction, readerOptions),
            $"{capture.Path} ({CaptureDirections.Name(direction)})", direction);
    }

    /// <summary>Opens a capture or a plain stream file; a plain stream is one s2r direction with no recorded peer.</summary>
    /// <exception cref="StreamFormatException">The capture is damaged or unfinished (unless <paramref name="readable"/>), or
    /// the file is a capture whose magic was damaged.</exception>
    /// <remarks>A .zst file (a stream or a capture) is decompressed first into <paramref name="temporaryDirectory"/> (default
    /// TMPDIR), since a replay needs random access; the file is deleted on <see cref="Dispose"/>.</remarks>
    public static ReplayInput Open(string path, CaptureDirection direction, XenStreamReaderOptions? readerOptions = null, bool readable = false,
        string? temporaryDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var head = new byte[Formats.Wire.ContainerWire.DetectionBytes];
        int got;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1))
        {
            got = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        if (!CaptureFile.IsCapture(path))
        {
            if (Input.StreamInputs.LooksLikeDamagedCapture(head.AsSpan(0, got)))
            {
                throw new Formats.StreamFormatException($"{path} looks like a capture file with a damaged magic; it is not replayed as a raw stream", 0, Formats.ErrorLayer.Capture, field: "magic");
            }
            if (got >= Formats.Wire.ContainerWire.ZstdMagic.Length && head.AsSpan(0, Formats.Wire.ContainerWire.ZstdMagic.Length).SequenceEqual(Formats.Wire.ContainerWire.ZstdMagic))
            {
                return OpenDecompressed(path, direction, readerOptions, readable, temporaryDirectory);
            }
            if (XenStreamReader.DescribeContainer(head.AsSpan(0, got)) is { } container)
            {
                throw new Formats.StreamFormatException($"{path} is {container}: too short to be replayed", 0, Formats.ErrorLayer.Input, field: "magic", truncated: true);
            }
        }
        if (CaptureFile.IsCapture(path))
        {
            var capture = CaptureFile.Open(path);
            if (!readable && DamageOf(capture, direction) is { } damage)
            {
                capture.Dispose();
                throw new Formats.StreamFormatException($"capture {path} is damaged: {damage}; replay what is readable with --replay-readable",
                    capture.ValidLength, Formats.ErrorLayer.Capture, field: CaptureDirections.Name(direction));
            }
            var input = FromCapture(capture, direction, readerOptions);
            return new ReplayInput(capture, input._open, input.Length, input.Chunks, input.RecordedPeer, input.PeerChunks, input._index, input.Description, direction)
            {
                Damage = DamageOf(capture, direction),
            };
        }
        if (direction != CaptureDirection.SenderToReceiver)
        {
            throw new ArgumentException($"{path} is a plain stream: it has only the s2r direction");
        }
        return FromStreamFile(path, readerOptions);
    }

    private static ReplayInput OpenDecompressed(string path, CaptureDirection direction, XenStreamReaderOptions? readerOptions, bool readable, string? temporaryDirectory)
    {
        var temp = Input.StreamInputs.DecompressToTemporaryFile(path, temporaryDirectory);
        try
        {
            var inner = Open(temp, direction, readerOptions, readable);
            if (inner._capture is null && inner.Length == 0)
            {
                throw new Formats.StreamFormatException($"{path} decompresses to nothing: there is no stream to replay", 0, Formats.ErrorLayer.Zstd, field: "content", truncated: true);
            }
            return new ReplayInput(inner._capture, inner._open, inner.Length, inner.Chunks, inner.RecordedPeer, inner.PeerChunks, inner._index,
                inner.Description.Replace(temp, path + " (decompressed)", StringComparison.Ordinal), direction)
            {
                Damage = inner.Damage,
                _temporaryFile = temp,
            };
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// What is wrong with <paramref name="direction"/> of <paramref name="capture"/> for a faithful replay: a damaged or
    /// torn file, a missing footer, or a direction whose end the recorder never saw. Null when nothing is.
    /// </summary>
    public static string? DamageOf(CaptureFile capture, CaptureDirection direction)
    {
        ArgumentNullException.ThrowIfNull(capture);
        var problems = new List<string>();
        if (capture.EndState != CaptureEndState.Complete || capture.LostBytes > 0)
        {
            problems.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{capture.EndState.ToString().ToLowerInvariant()}, {capture.LostBytes} bytes lost after the last valid chunk{(capture.Problem is null ? "" : " (" + capture.Problem + ")")}"));
        }
        if (capture.Has(direction) && !capture.HasEnded(direction))
        {
            problems.Add($"the recorder did not see the end of {CaptureDirections.Name(direction)}");
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>A plain stream file: sent in 1 MiB chunks, no timing, no peer.</summary>
    public static ReplayInput FromStreamFile(string path, XenStreamReaderOptions? readerOptions = null)
    {
        var length = new FileInfo(path).Length;
        Stream Open() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return new ReplayInput(null, Open, length, Split(length), null, null, () =>
        {
            using var s = Open();
            return StreamIndexing.Build(s, readerOptions).Entries;
        }, path, CaptureDirection.SenderToReceiver);
    }

    /// <summary>Bytes in memory (tests, the engine): one s2r direction with no peer.</summary>
    public static ReplayInput FromMemory(byte[] bytes, byte[]? expectedPeer = null, XenStreamReaderOptions? readerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return new ReplayInput(null, () => new MemoryStream(bytes, writable: false), bytes.Length, Split(bytes.Length), expectedPeer, null, () =>
            StreamIndexing.Build(new MemoryStream(bytes, writable: false), readerOptions).Entries, "memory", CaptureDirection.SenderToReceiver);
    }

    private static List<ReplayChunk> Split(long length)
    {
        var chunks = new List<ReplayChunk>();
        const int size = 1 << 20;
        for (long at = 0; at < length; at += size)
        {
            chunks.Add(new ReplayChunk(at, (int)Math.Min(size, length - at), 0, (uint)chunks.Count));
        }
        return chunks;
    }

    /// <summary>What is damaged in the capture replayed with <c>readable</c> (<see cref="Open"/>); null when nothing is.</summary>
    public string? Damage { get; private init; }

    /// <summary>The direction sent.</summary>
    public CaptureDirection Direction { get; }

    /// <summary>Where the bytes come from.</summary>
    public string Description { get; }

    /// <summary>Bytes to send.</summary>
    public long Length { get; }

    /// <summary>The recorded chunks of the sent direction.</summary>
    public IReadOnlyList<ReplayChunk> Chunks { get; }

    /// <summary>What the peer sent when this was recorded, or null.</summary>
    public byte[]? RecordedPeer { get; }

    /// <summary>The peer's recorded chunks (same clock and sequence as <see cref="Chunks"/>), or null.</summary>
    public IReadOnlyList<ReplayChunk>? PeerChunks { get; }

    /// <summary>The item index of the bytes to send (recorded, or parsed on first use).</summary>
    public IReadOnlyList<CaptureIndexEntry> Index => _indexCache ??= _index();

    /// <summary>A seekable stream over the bytes to send.</summary>
    public Stream OpenData() => _open();

    /// <summary>The decompressed copy of a .zst input, deleted with this object.</summary>
    private string? _temporaryFile;

    /// <inheritdoc />
    public void Dispose()
    {
        _capture?.Dispose();
        if (_temporaryFile is not null)
        {
            File.Delete(_temporaryFile);
            _temporaryFile = null;
        }
    }
}
