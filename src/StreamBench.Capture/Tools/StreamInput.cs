using StreamBench.Capture.Format;

namespace StreamBench.Capture.Tools;

/// <summary>A stream to work on: a plain stream file (or standard input), or one direction of a capture.</summary>
public sealed class StreamInput : IDisposable
{
    private readonly IDisposable? _owner;

    private StreamInput(Stream stream, string description, CaptureFile? capture, IDisposable? owner)
    {
        Stream = stream;
        Description = description;
        Capture = capture;
        _owner = owner;
    }

    /// <summary>The bytes.</summary>
    public Stream Stream { get; }

    /// <summary>For reports.</summary>
    public string Description { get; }

    /// <summary>The capture, when the input is one.</summary>
    public CaptureFile? Capture { get; }

    /// <summary>Opens <paramref name="path"/> ("-" is standard input, read as a plain stream).</summary>
    public static StreamInput Open(string path, CaptureDirection direction = CaptureDirection.SenderToReceiver, Stream? standardInput = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path == "-")
        {
            return new StreamInput(standardInput ?? throw new ArgumentException("standard input is not available here"), "standard input", null, null);
        }
        if (CaptureFile.IsCapture(path))
        {
            var capture = CaptureFile.Open(path);
            try
            {
                var s = capture.OpenDirection(direction);
                return new StreamInput(s, $"{path} ({CaptureDirections.Name(direction)})", capture, capture);
            }
            catch
            {
                capture.Dispose();
                throw;
            }
        }
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return new StreamInput(fs, path, null, fs);
    }

    /// <summary>A note about lost or unfinished capture data, or null when there is nothing to say.</summary>
    public string? CaptureWarning => Capture is { } c && (c.LostBytes > 0 || c.EndState != CaptureEndState.Complete)
        ? $"capture {c.Path}: {c.EndState}; {c.LostBytes} bytes after the last valid chunk were lost{(c.Problem is null ? "" : " (" + c.Problem + ")")}"
        : null;

    /// <inheritdoc />
    public void Dispose()
    {
        Stream.Dispose();
        _owner?.Dispose();
    }
}
