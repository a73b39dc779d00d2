using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Capture.Tools;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;

namespace StreamBench.Fuzz.Targets.Engine;

/// <summary>
/// The <c>capture</c> target (issue #11): capture files are what people share, so they are untrusted input. The input
/// is written to a file and read as <c>export --info</c> does (the checking pass, metadata, index, events, footer, the
/// summary), then both directions are read back through the index and through the input seam. A damaged capture may
/// only raise <see cref="CaptureFormatException"/> (a bad file header) or <see cref="StreamFormatException"/>.
/// </summary>
internal static class CaptureTarget
{
    [ThreadStatic]
    private static string? path;

    public static void Run(ReadOnlyMemory<byte> data)
    {
        path ??= Path.Combine(Path.GetTempPath(), $"sb-fuzz-capture-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.cap");
        File.WriteAllBytes(path, data.ToArray());
        using (var capture = CaptureFile.Open(path))
        {
            _ = CaptureSummary.Describe(capture);
            _ = CaptureSummary.IncompleteReasons(capture);
            foreach (var direction in (CaptureDirection[])[CaptureDirection.SenderToReceiver, CaptureDirection.ReceiverToSender])
            {
                _ = CaptureSummary.Items(capture.IndexFor(direction));
                using var s = capture.OpenDirection(direction);
                s.CopyTo(Stream.Null);
            }
        }
        using var input = StreamInputs.Open(path);
        using var reader = new XenStreamReader(input.Source, new XenStreamReaderOptions { Format = input.Format }, ownsSource: false);
        while (reader.Read())
        {
        }
    }

    /// <summary>The "capture" seed family: small captures of a sender stream, one plain, one with both directions and events.</summary>
    public static IEnumerable<(string Family, string Name, byte[] Bytes)> Seeds()
    {
        var stream = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.XlMigrateSender, Pages = 4, BatchSize = 2 });
        var file = Path.Combine(Path.GetTempPath(), $"sb-fuzz-seed-{Environment.ProcessId}.cap");
        foreach (var both in (bool[])[false, true])
        {
            using (var writer = CaptureWriter.Create(file))
            {
                writer.WriteMetadata(new CaptureMetadata { [CaptureMetadata.Source] = "seed", [CaptureMetadata.Mode] = "stream" });
                writer.WriteData(CaptureDirection.SenderToReceiver, stream.AsMemory(0, stream.Length / 2), 1);
                if (both)
                {
                    writer.WriteData(CaptureDirection.ReceiverToSender, SyntheticStreams.MigrateReceiverSide(), 2);
                    writer.WriteEvent(CaptureEventCode.Signal, null, 15, "interrupted");
                }
                writer.WriteData(CaptureDirection.SenderToReceiver, stream.AsMemory(stream.Length / 2), 3);
                writer.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.SenderToReceiver, stream.Length);
                writer.Complete();
            }
            yield return ("capture", both ? "capture-both-directions" : "capture-s2r", File.ReadAllBytes(file));
        }
        File.Delete(file);
    }
}
