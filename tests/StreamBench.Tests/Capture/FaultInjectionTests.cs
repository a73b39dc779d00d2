using StreamBench.Capture.Format;
using StreamBench.Capture.Replay;
using StreamBench.Formats.Synthesis;
using Xunit;

namespace StreamBench.Tests.Capture;

public sealed class FaultInjectionTests
{
    private static readonly byte[] Stream = SyntheticStreams.Generate(new SyntheticStreamOptions
    {
        Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Hvm, Pages = 40, BatchSize = 8,
    });

    private static readonly List<CaptureIndexEntry> Records =
        [.. StreamIndexing.Build(new MemoryStream(Stream)).Entries.Where(e => e.IsRecord)];

    private static (byte[] Sent, ReplayResult Result) Replay(FaultPlan faults)
    {
        using var input = ReplayInput.FromMemory(Stream);
        var output = new MemoryStream();
        var result = Replayer.Run(input, new StreamReplayTarget(output, "memory", leaveOpen: true), new ReplayOptions { Faults = faults });
        return (output.ToArray(), result);
    }

    private static byte[] Without(byte[] b, long start, long end) => [.. b.AsSpan(0, (int)start), .. b.AsSpan((int)end)];

    [Fact]
    public void No_fault_sends_the_stream_unchanged()
    {
        Assert.Equal(Stream, Replay(new FaultPlan()).Sent);
    }

    [Fact]
    public void Cut_at_byte_sends_exactly_that_many_bytes()
    {
        foreach (var n in new long[] { 0, 1, 47, 48, 1000, Stream.Length - 1, Stream.Length, Stream.Length + 10 })
        {
            var (sent, result) = Replay(new FaultPlan { CutAtByte = n });
            Assert.Equal(Stream.AsSpan(0, (int)Math.Min(n, Stream.Length)).ToArray(), sent);
            Assert.Equal(Math.Min(n, Stream.Length), result.BytesSent);
        }
    }

    [Fact]
    public void Cut_at_record_stops_right_before_that_record()
    {
        foreach (var n in new[] { 0, 1, 5, Records.Count - 1 })
        {
            var (sent, _) = Replay(new FaultPlan { CutAtRecord = n });
            Assert.Equal(Stream.AsSpan(0, (int)Records[n].Offset).ToArray(), sent);
        }
    }

    [Fact]
    public void Corrupt_xors_exactly_the_named_bytes()
    {
        var (sent, _) = Replay(new FaultPlan { Corruptions = [(100, 0x01), (5000, 0xFF), (Stream.Length - 1, 0x80)] });
        var expected = (byte[])Stream.Clone();
        expected[100] ^= 0x01;
        expected[5000] ^= 0xFF;
        expected[^1] ^= 0x80;
        Assert.Equal(expected, sent);
        Assert.Equal((100L, (byte)0x10), FaultPlan.ParseCorruption("0x64:0x10"));
        Assert.Equal((7L, (byte)0xFF), FaultPlan.ParseCorruption("7"));
        Assert.Throws<ArgumentException>(() => FaultPlan.ParseCorruption("7:0"));
    }

    [Fact]
    public void Drop_record_removes_exactly_that_record()
    {
        foreach (var n in new[] { 0, 4, Records.Count - 1 })
        {
            var (sent, _) = Replay(new FaultPlan { Drops = new HashSet<long> { n } });
            Assert.Equal(Without(Stream, Records[n].Offset, Records[n].End), sent);
        }
    }

    [Fact]
    public void Duplicate_record_sends_that_record_twice_in_a_row()
    {
        var n = 6;
        var r = Records[n];
        var (sent, _) = Replay(new FaultPlan { Duplicates = new HashSet<long> { n } });
        byte[] expected = [.. Stream.AsSpan(0, (int)r.End), .. Stream.AsSpan((int)r.Offset, (int)r.Length), .. Stream.AsSpan((int)r.End)];
        Assert.Equal(expected, sent);
    }

    [Fact]
    public void Delay_record_pauses_before_it_and_changes_no_byte()
    {
        var (sent, result) = Replay(new FaultPlan { Delays = new Dictionary<long, int> { [3] = 250 } });
        Assert.Equal(Stream, sent);
        Assert.True(result.Duration >= TimeSpan.FromMilliseconds(240));
        Assert.Contains(result.Steps, s => s.DelayMs == 250 && s.Start == Records[3].Offset);
    }

    [Fact]
    public void Faults_combine_drop_duplicate_corrupt_and_cut()
    {
        var faults = new FaultPlan
        {
            Drops = new HashSet<long> { 2 },
            Duplicates = new HashSet<long> { 4 },
            Corruptions = [(Records[4].Offset + 9, 0x0F)],
            CutAtRecord = 8,
        };
        var (sent, _) = Replay(faults);
        var s = (byte[])Stream.Clone();
        s[Records[4].Offset + 9] ^= 0x0F;
        byte[] expected =
        [
            .. s.AsSpan(0, (int)Records[2].Offset),
            .. s.AsSpan((int)Records[3].Offset, (int)(Records[4].End - Records[3].Offset)),
            .. s.AsSpan((int)Records[4].Offset, (int)Records[4].Length),
            .. s.AsSpan((int)Records[5].Offset, (int)(Records[8].Offset - Records[5].Offset)),
        ];
        Assert.Equal(expected, sent);
    }

    [Fact]
    public void A_record_number_past_the_stream_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Replay(new FaultPlan { Drops = new HashSet<long> { 100_000 } }));
        Assert.Contains("it has", e.Message, StringComparison.Ordinal);
    }
}
