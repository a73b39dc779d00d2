using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Formats;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Tools;

/// <summary>
/// A stream to work on, opened through the input seam (<see cref="StreamInputs"/>): a plain stream file or standard
/// input, a .zst, or one direction of a capture. A legacy image is converted on the fly to a v3 stream, so that the
/// tools (slice, diff, scrub) read it like any other and stop at its first error instead of reading forever.
/// </summary>
public sealed class StreamInput : IDisposable
{
    private readonly OpenedInput _input;
    private readonly V3Input _v3;

    private StreamInput(OpenedInput input, V3Input v3)
    {
        _input = input;
        _v3 = v3;
        Stream = new ByteSourceReadStream(v3.Source);
    }

    /// <summary>The bytes (forward only).</summary>
    public Stream Stream { get; }

    /// <summary>For reports.</summary>
    public string Description => _input.Description + (_v3.Converted ? " (legacy image, converted on the fly)" : "");

    /// <summary>The capture, when the input is one.</summary>
    public CaptureFile? Capture => _input.Capture;

    /// <summary>The outer layer of <see cref="Stream"/> (libxl for a converted legacy image).</summary>
    public OuterFormat Format => _v3.ReaderOptions(new XenStreamReaderOptions()).Format;

    /// <summary>Opens <paramref name="path"/> ("-" is standard input).</summary>
    public static StreamInput Open(string path, CaptureDirection direction = CaptureDirection.SenderToReceiver, OuterFormat format = OuterFormat.Auto)
    {
        var input = StreamInputs.Open(path, new StreamInputOptions { Direction = direction, Format = format });
        try
        {
            return new StreamInput(input, StreamInputs.AsV3(input));
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    /// <summary>A note about lost or unfinished capture data, or null when there is nothing to say.</summary>
    public string? CaptureWarning => _input.CaptureWarning;

    /// <summary>The error with its provenance (the legacy image's own error, the file inside a container).</summary>
    public StreamFormatException Explain(StreamFormatException error) => _v3.Explain(error);

    /// <summary>After reading: throws the legacy image's own error when its conversion failed (else the tool would
    /// see only a short v3 stream).</summary>
    public void Complete() => _v3.Complete();

    /// <inheritdoc />
    public void Dispose()
    {
        Stream.Dispose();
        _v3.Dispose();
        _input.Dispose();
    }
}
