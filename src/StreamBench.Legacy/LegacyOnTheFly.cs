using System.IO.Pipes;
using StreamBench.Formats.Streams;

namespace StreamBench.Formats.Legacy;

/// <summary>
/// Converts a legacy image to a v3 libxl stream on a background thread through an OS pipe, as libxl's conversion
/// helper does on restore, so that anything that reads v3 streams (the verifier, the restore engine) takes legacy
/// input without a temporary file and without holding the stream in memory.
/// </summary>
public sealed class LegacyOnTheFly : IDisposable
{
    private readonly AnonymousPipeServerStream _server;
    private readonly AnonymousPipeClientStream _client;
    private readonly Task _conversion;
    private StreamFormatException? _error;

    private LegacyOnTheFly(ByteSource source, LegacyStreamReaderOptions legacy, bool checkpoints)
    {
        _server = new AnonymousPipeServerStream(PipeDirection.Out);
        _client = new AnonymousPipeClientStream(PipeDirection.In, _server.ClientSafePipeHandle);
        _conversion = Task.Run(() =>
        {
            try
            {
                LegacyConverter.Convert(source, _server, new LegacyConverterOptions
                {
                    Width = legacy.Width,
                    GuestType = legacy.GuestType,
                    Format = LegacyOutputFormat.Libxl,
                    QemuRecordOptional = true,
                    Checkpoints = checkpoints,
                });
            }
            catch (StreamFormatException e)
            {
                _error = e;
            }
            catch (IOException) when (_client.SafePipeHandle.IsClosed)
            {
                // The reader gave up and closed its end: nothing more to say.
            }
            finally
            {
                _server.Dispose(); // end of the converted stream
            }
        });
    }

    /// <summary>
    /// Starts converting <paramref name="source"/> (read from its current position; not disposed).
    /// <paramref name="checkpoints"/>: convert Remus checkpoints after the first image too (CHECKPOINT records), as
    /// libxl runs Xen's converter with --remus for a checkpointed restore; an image that says it is the last
    /// (XC_SAVE_ID_LAST_CHECKPOINT, which every plain save of Xen 4.2-4.5 sends) still ends with END.
    /// </summary>
    public static LegacyOnTheFly Start(ByteSource source, LegacyStreamReaderOptions? legacy = null, bool checkpoints = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new LegacyOnTheFly(source, legacy ?? new LegacyStreamReaderOptions(), checkpoints);
    }

    /// <summary>The converted v3 libxl stream.</summary>
    public Stream Converted => _client;

    /// <summary>
    /// Drains what the reader left of the converted stream, waits for the converter, and returns the legacy input's
    /// error (offset, chunk, field in the legacy image), or null when it converted cleanly.
    /// </summary>
    public StreamFormatException? Finish()
    {
        _client.CopyTo(Stream.Null);
        _conversion.GetAwaiter().GetResult();
        return _error;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }
}
