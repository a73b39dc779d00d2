using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using ZstdSharp;

namespace StreamBench.Capture.Input;

/// <summary>What wraps the stream in the file that was opened.</summary>
public enum InputContainer
{
    /// <summary>The file is the stream.</summary>
    None,
    /// <summary>A zstd-compressed stream, decompressed while it is read.</summary>
    Zstd,
    /// <summary>One direction of a capture file.</summary>
    Capture,
}

/// <summary>How <see cref="StreamInputs.Open"/> opens an input.</summary>
public sealed record StreamInputOptions
{
    /// <summary>The capture direction read when the input is a capture (sender → receiver by default).</summary>
    public CaptureDirection Direction { get; init; } = CaptureDirection.SenderToReceiver;

    /// <summary>The outer layer: <see cref="OuterFormat.Auto"/> detects it, anything else is taken as given.</summary>
    public OuterFormat Format { get; init; } = OuterFormat.Auto;
}

/// <summary>
/// An opened input: the stream's bytes (decompressed, or a capture's direction), the detected outer layer, and where
/// the bytes came from, so that every error can say which layer and which offset of which file it means.
/// </summary>
public sealed class OpenedInput : IDisposable
{
    private readonly List<IDisposable> _owned;

    internal OpenedInput(string path, ByteSource source, OuterFormat format, InputContainer container, CaptureFile? capture, List<IDisposable> owned)
    {
        Path = path;
        Source = source;
        Format = format;
        Container = container;
        Capture = capture;
        _owned = owned;
    }

    /// <summary>The path given ("-" for standard input).</summary>
    public string Path { get; }

    /// <summary>The stream's bytes, at offset 0 of the stream (not of the file, for a container).</summary>
    public ByteSource Source { get; }

    /// <summary>The outer layer: detected, or the one the caller named. Never <see cref="OuterFormat.Auto"/>.</summary>
    public OuterFormat Format { get; }

    /// <summary>Whether the stream is a legacy (pre-4.6) image.</summary>
    public bool IsLegacy => Format == OuterFormat.Legacy;

    /// <summary>What wrapped the stream.</summary>
    public InputContainer Container { get; }

    /// <summary>The capture, when the input is one.</summary>
    public CaptureFile? Capture { get; }

    /// <summary>The input for reports: the path, and for a container what the offsets refer to.</summary>
    public string Description => Provenance is { } p ? $"{Name} ({p})" : Name;

    /// <summary>What offsets in errors refer to, for a container; null for a plain stream.</summary>
    public string? Provenance => Container switch
    {
        InputContainer.Zstd => "offsets are in the decompressed stream",
        InputContainer.Capture => $"offsets are in the capture's {CaptureDirections.Name(Direction)} direction",
        _ => null,
    };

    /// <summary>The capture direction read.</summary>
    public CaptureDirection Direction { get; internal init; }

    /// <summary>A note about lost or unfinished capture data, or null when there is nothing to say.</summary>
    public string? CaptureWarning => Capture is { } c && (c.LostBytes > 0 || c.EndState != CaptureEndState.Complete)
        ? $"capture {c.Path}: {c.EndState}; {c.LostBytes} bytes after the last valid chunk were lost{(c.Problem is null ? "" : " (" + c.Problem + ")")}"
        : null;

    private string Name => Path == "-" ? "standard input" : Path;

    /// <summary>The error with the input's provenance added (which file, which inner layer); itself for a plain stream.</summary>
    public StreamFormatException Explain(StreamFormatException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (Provenance is null || error.Problem.EndsWith(')') && error.Problem.Contains(Name, StringComparison.Ordinal))
        {
            return error;
        }
        return new StreamFormatException($"{error.Problem} (in {Name}: {Provenance})", error.Offset, error.Layer, error.RecordIndex,
            error.RecordType, error.Field, error.IsTruncation, error);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Source.Dispose();
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }
}

/// <summary>
/// The one way every command opens the stream it reads (docs/ARCHITECTURE.md, "The input seam"): it detects the
/// outer format (a known magic, or a prefix of one, is never taken for legacy), decompresses zstd while reading
/// (bounded memory, pipes too), takes a capture file as the stream of one of its directions, converts legacy images
/// on the fly for the commands that want a v3 stream, and keeps the provenance of errors.
/// </summary>
public static class StreamInputs
{
    /// <summary>Opens <paramref name="path"/> ("-" is standard input).</summary>
    /// <exception cref="StreamFormatException">The input is a damaged or misplaced container.</exception>
    /// <exception cref="IOException">The input cannot be read.</exception>
    public static OpenedInput Open(string path, StreamInputOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new StreamInputOptions();
        var owned = new List<IDisposable>();
        var raw = ByteSource.Open(path);
        try
        {
            var head = Head(raw);
            if (head.Length == 0)
            {
                throw new StreamFormatException($"{(path == "-" ? "standard input" : path)} is empty: there is no stream to read", 0, ErrorLayer.Input, truncated: true);
            }
            var container = XenStreamReader.DescribeContainer(head);
            var name = path == "-" ? "standard input" : path;
            if (head.Length >= ContainerWire.CaptureMagic.Length && head.AsSpan(0, ContainerWire.CaptureMagic.Length).SequenceEqual(ContainerWire.CaptureMagic))
            {
                if (path == "-")
                {
                    throw new StreamFormatException("a capture file cannot be read from standard input: give its path", 0, ErrorLayer.Capture, field: "magic");
                }
                raw.Dispose();
                CaptureFile capture;
                try
                {
                    capture = CaptureFile.Open(path);
                }
                catch (CaptureFormatException e)
                {
                    throw new StreamFormatException($"{e.Message} (in capture {name})", 0, ErrorLayer.Capture, field: "header", inner: e);
                }
                owned.Add(capture);
                var direction = capture.OpenDirection(options.Direction);
                owned.Add(direction);
                var source = ByteSource.FromStream(direction);
                return Finish(path, source, options, InputContainer.Capture, capture, owned);
            }
            if (head.Length >= ContainerWire.ZstdMagic.Length && head.AsSpan(0, ContainerWire.ZstdMagic.Length).SequenceEqual(ContainerWire.ZstdMagic))
            {
                var compressed = new ByteSourceReadStream(raw);
                owned.Add(raw);
                var decompressed = new ZstdInputStream(compressed, name);
                owned.Add(decompressed);
                var source = ByteSource.FromStream(decompressed);
                var inner = Head(source);
                if (XenStreamReader.DescribeContainer(inner) is { } nested)
                {
                    throw new StreamFormatException($"the decompressed content of {name} is {nested}, not a stream: decompress it first", 0, ErrorLayer.Zstd, field: "content");
                }
                return Finish(path, source, options, InputContainer.Zstd, null, owned);
            }
            if (container is not null)
            {
                throw new StreamFormatException($"{name} is {container}: too short to be read", 0, ErrorLayer.Input, field: "magic", truncated: true);
            }
            if (options.Format == OuterFormat.Auto && LooksLikeDamagedCapture(head))
            {
                throw new StreamFormatException($"{name} looks like a capture file with a damaged magic ({Convert.ToHexStringLower(head.AsSpan(0, ContainerWire.CaptureMagic.Length))}); it is not read as a stream",
                    0, ErrorLayer.Capture, field: "magic");
            }
            return Finish(path, raw, options, InputContainer.None, null, owned);
        }
        catch
        {
            raw.Dispose();
            for (var i = owned.Count - 1; i >= 0; i--)
            {
                owned[i].Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Decompresses the .zst file at <paramref name="path"/> (whatever it holds: a stream or a capture) into a new file in
    /// <paramref name="directory"/> (default: the system's temporary folder, TMPDIR) and returns its path; the caller
    /// deletes it. For consumers that need random access (replay). Streaming, so memory stays the decoder's window; disk
    /// is the bound: a full disk is an <see cref="IOException"/> naming the folder, and no partial file is left behind.
    /// </summary>
    /// <exception cref="StreamFormatException">The .zst is damaged or truncated (the offset is in the compressed file).</exception>
    /// <exception cref="IOException">The input cannot be read or the decompressed bytes do not fit.</exception>
    public static string DecompressToTemporaryFile(string path, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var folder = directory ?? System.IO.Path.GetTempPath();
        var temp = System.IO.Path.Combine(folder, $"streambench-{Guid.NewGuid():N}.decompressed");
        try
        {
            using var raw = ByteSource.Open(path);
            using var decompressed = new ZstdInputStream(new ByteSourceReadStream(raw), path);
            // Unbuffered (CopyTo writes 1 MiB blocks): a full disk fails in a write, never again in Dispose over the error.
            using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            try
            {
                decompressed.CopyTo(output, 1 << 20);
            }
            catch (IOException e)
            {
                throw new IOException($"cannot decompress {path} into {folder}: {e.Message} (the decompressed bytes must fit there; TMPDIR chooses another folder)", e);
            }
            return temp;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Verifies the input: a legacy image is converted on the fly and its converted stream verified (findings say so),
    /// anything else is verified as it is. The one place that decides between the two.
    /// </summary>
    public static VerifyResult Verify(OpenedInput input, LegacyStreamReaderOptions legacy, VerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        var reader = options.Reader with { Format = input.Format };
        return input.IsLegacy
            ? LegacyVerification.Verify(input.Source, legacy ?? new LegacyStreamReaderOptions(), options with { Reader = reader })
            : Verifier.Verify(input.Source, options with { Reader = reader });
    }

    /// <summary>
    /// The input as a v3 stream for a consumer that reads only v3 (the restore engine, the scrubber): a legacy image is
    /// converted on the fly, as libxl's conversion helper does; anything else is passed through. With
    /// <paramref name="checkpoints"/> a legacy Remus image's checkpoints are converted too (the helper's --remus).
    /// </summary>
    public static V3Input AsV3(OpenedInput input, LegacyStreamReaderOptions? legacy = null, bool checkpoints = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.IsLegacy
            ? new V3Input(input, LegacyOnTheFly.Start(input.Source, legacy, checkpoints))
            : new V3Input(input, null);
    }

    /// <summary>
    /// Whether <paramref name="head"/> is a capture file whose magic was damaged: at least 6 of its 8 bytes match. Such a
    /// file must not be read as a stream (its chunk framing would be taken for stream data).
    /// </summary>
    public static bool LooksLikeDamagedCapture(ReadOnlySpan<byte> head)
    {
        var magic = ContainerWire.CaptureMagic;
        if (head.Length < magic.Length)
        {
            return false;
        }
        var same = 0;
        for (var i = 0; i < magic.Length; i++)
        {
            same += head[i] == magic[i] ? 1 : 0;
        }
        return same >= magic.Length - 2;
    }

    private static byte[] Head(ByteSource source)
    {
        var want = Math.Min(ContainerWire.DetectionBytes, source.MaxWindow);
        source.Ensure(want);
        return source.Peek(Math.Min(want, source.Available)).ToArray();
    }

    private static OpenedInput Finish(string path, ByteSource source, StreamInputOptions options, InputContainer container, CaptureFile? capture, List<IDisposable> owned)
    {
        var format = options.Format != OuterFormat.Auto ? options.Format
            : container == InputContainer.Capture && options.Direction == CaptureDirection.ReceiverToSender
                ? StreamIndexing.GuessBackFormat(Head(source)) // the back direction is never a legacy image
                : XenStreamReader.DetectFormat(source);
        return new OpenedInput(path, source, format, container, capture, owned) { Direction = options.Direction };
    }

    /// <summary>
    /// zstd decompression whose failures are stream errors naming the offset in the compressed file: a damaged or
    /// truncated .zst is an invalid input (exit 1), not an I/O error. Memory is the decoder's window (at most 128 MiB,
    /// zstd's default limit) plus one buffer, whatever the input's length.
    /// </summary>
    private sealed class ZstdInputStream(ByteSourceReadStream compressed, string name) : Stream
    {
        private readonly DecompressionStream _inner = new(compressed, 0, checkEndOfStream: true, leaveOpen: false);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return _inner.Read(buffer);
            }
            catch (EndOfStreamException e)
            {
                throw Error("the compressed file ends inside a zstd frame (truncated .zst)", e, truncated: true);
            }
            catch (ZstdException e)
            {
                throw Error("zstd data is damaged: " + e.Message, e, truncated: false);
            }
        }

        private StreamFormatException Error(string problem, Exception inner, bool truncated) =>
            new(string.Create(CultureInfo.InvariantCulture, $"{problem} (near offset {compressed.Position} of the compressed file {name})"),
                compressed.Position, ErrorLayer.Zstd, field: "frame", truncated: truncated, inner: inner);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>An input as a v3 stream: itself, or its legacy image converted on the fly.</summary>
public sealed class V3Input : IDisposable
{
    private readonly OpenedInput _input;
    private readonly LegacyOnTheFly? _conversion;

    internal V3Input(OpenedInput input, LegacyOnTheFly? conversion)
    {
        _input = input;
        _conversion = conversion;
        Source = conversion is null ? input.Source : ByteSource.FromStream(conversion.Converted);
    }

    /// <summary>The v3 bytes.</summary>
    public ByteSource Source { get; }

    /// <summary>Whether a legacy image is being converted.</summary>
    public bool Converted => _conversion is not null;

    /// <summary>The reader options for <see cref="Source"/>: a converted image is a libxl stream.</summary>
    public XenStreamReaderOptions ReaderOptions(XenStreamReaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { Format = _conversion is null ? _input.Format : OuterFormat.Libxl };
    }

    /// <summary>
    /// The error to report for <paramref name="error"/> raised while reading <see cref="Source"/>: the legacy input's
    /// own error (at its offset in the image) when the conversion failed, else the error with its provenance.
    /// </summary>
    public StreamFormatException Explain(StreamFormatException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (_conversion?.Finish() is { } legacy)
        {
            return _input.Explain(legacy);
        }
        return _input.Explain(_conversion is null ? error
            : new StreamFormatException(error.Problem + " (in the v3 stream converted from the legacy image)", error.Offset, error.Layer,
                error.RecordIndex, error.RecordType, error.Field, error.IsTruncation, error));
    }

    /// <summary>After a successful read: throws the legacy input's error if the conversion failed late.</summary>
    public void Complete()
    {
        if (_conversion?.Finish() is { } late)
        {
            throw _input.Explain(late);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_conversion is not null)
        {
            Source.Dispose();
            _conversion.Dispose();
        }
    }
}
