using StreamBench.Capture.Format;
using StreamBench.Engine.Migration;
using StreamBench.Formats.Streams;
using StreamBench.Tests.Engine;

namespace StreamBench.Tests.Report;

/// <summary>
/// A capture of a COLO session of the engine: the primary's main stream as s2r, the secondary's back channel as r2s,
/// item by item on one clock (the engine's runner hands both streams over whole, so the back channel's items are spread
/// evenly over the session; what the tests check is that the report puts each where its arrival time says).
/// </summary>
internal static class ColoCaptures
{
    public static (int BackItems, int Checkpoints) Write(string path)
    {
        using var source = ColoTests.Guest();
        var r = ColoRunner.Run(source, ColoTests.Options(MigrationTransport.Pipe, checkpoints: 3) with { RecordMainStream = true, RecordBackChannel = true });
        r.Secondary?.Domain.Dispose();
        var main = r.MainStream ?? throw new InvalidOperationException("the COLO runner recorded no main stream");
        var back = r.BackChannel ?? throw new InvalidOperationException("the COLO runner recorded no back channel");
        var mainItems = StreamIndexing.Build(new MemoryStream(main)).Entries;
        var backItems = StreamIndexing.Build(new MemoryStream(back), new XenStreamReaderOptions { Format = StreamIndexing.GuessBackFormat(back) }).Entries;
        const long Step = 1_000_000; // 1 ms per main-stream item
        using var w = CaptureWriter.Create(path);
        long t = 0;
        int next = 0;
        long total = mainItems.Count * Step;
        foreach (var e in mainItems)
        {
            t += Step;
            w.WriteData(CaptureDirection.SenderToReceiver, main.AsMemory((int)e.Offset, (int)e.Length), t);
            while (next < backItems.Count && (next + 1) * total / (backItems.Count + 1) <= t)
            {
                var b = backItems[next++];
                w.WriteData(CaptureDirection.ReceiverToSender, back.AsMemory((int)b.Offset, (int)b.Length), t + Step / 2);
            }
        }
        for (; next < backItems.Count; next++)
        {
            var b = backItems[next];
            w.WriteData(CaptureDirection.ReceiverToSender, back.AsMemory((int)b.Offset, (int)b.Length), t + Step / 2);
        }
        w.Complete();
        return (backItems.Count, r.Checkpoints.Count);
    }
}
