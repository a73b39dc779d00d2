using StreamBench.Formats.Streams;

namespace StreamBench.Formats;

/// <summary>
/// Where a <see cref="StreamFormatException"/> found the bad bytes: a stream layer (the reader's
/// <see cref="StreamLayer"/>), or a container around the stream (the input seam: capture files, zstd). The sibling of
/// the check catalog's <see cref="Verification.CheckLayer"/>, which names what a check is about rather than where an
/// error was met.
/// </summary>
public enum ErrorLayer
{
    /// <summary>The stream as a whole (it ends too early, it lacks END, its outer layer is unknown).</summary>
    Stream,
    /// <summary>The input before any stream layer: an empty file, a container that is not a stream.</summary>
    Input,
    /// <summary>A capture file around the stream.</summary>
    Capture,
    /// <summary>The zstd container around the stream.</summary>
    Zstd,
    /// <summary>The xl save-file / migrate header.</summary>
    Xl,
    /// <summary>The libxl stream.</summary>
    Libxl,
    /// <summary>The libxc stream.</summary>
    Libxc,
    /// <summary>A legacy (pre-4.6) image.</summary>
    Legacy,
    /// <summary>The back channel (receiver → sender).</summary>
    BackChannel,
    /// <summary>The <c>xl migrate</c> protocol messages.</summary>
    Migrate,
}

/// <summary>Names of <see cref="ErrorLayer"/> as messages print them, and the layer of a reader item.</summary>
public static class ErrorLayers
{
    /// <summary>The name messages print: <c>xl</c>, <c>libxc</c>, <c>back-channel</c>...</summary>
    public static string Name(this ErrorLayer layer) => layer switch
    {
        ErrorLayer.Stream => "stream",
        ErrorLayer.Input => "input",
        ErrorLayer.Capture => "capture",
        ErrorLayer.Zstd => "zstd",
        ErrorLayer.Xl => "xl",
        ErrorLayer.Libxl => "libxl",
        ErrorLayer.Libxc => "libxc",
        ErrorLayer.Legacy => "legacy",
        ErrorLayer.BackChannel => "back-channel",
        ErrorLayer.Migrate => "migrate",
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, null),
    };

    /// <summary>The error layer of a reader layer (<see cref="StreamLayer.None"/>, nothing read yet, is the stream's).</summary>
    public static ErrorLayer Of(StreamLayer layer) => layer switch
    {
        StreamLayer.Xl => ErrorLayer.Xl,
        StreamLayer.Libxl => ErrorLayer.Libxl,
        StreamLayer.Libxc => ErrorLayer.Libxc,
        StreamLayer.Legacy => ErrorLayer.Legacy,
        StreamLayer.BackChannel => ErrorLayer.BackChannel,
        StreamLayer.Migrate => ErrorLayer.Migrate,
        _ => ErrorLayer.Stream,
    };
}
