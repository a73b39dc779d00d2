using StreamBench.Capture.Format;
using StreamBench.Capture.Recording;
using StreamBench.Capture.Replay;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Capture;

public sealed class RecordReplayTests
{
    /// <summary>
    /// Records an xl migrate session between in-process fakes through a <see cref="RecordingSession"/>:
    /// sender → [pipe] → pump s2r → [pipe] → receiver, and back.
    /// </summary>
    private static (string Path, byte[] Sender, byte[] Receiver) RecordSession(TempDir dir, int pages = 300, RecordingOptions? options = null)
    {
        var sender = CaptureTestSupport.SenderStream(pages);
        var part = CaptureTestSupport.StreamPart(sender);
        var path = dir.File("session.cap");
        var (senderOut, pumpIn) = CaptureTestSupport.Pipe();
        var (pumpOut, receiverIn) = CaptureTestSupport.Pipe();
        var (receiverOut, backIn) = CaptureTestSupport.Pipe();
        var (backOut, senderIn) = CaptureTestSupport.Pipe();
        using var writer = CaptureWriter.Create(path);
        using var session = new RecordingSession(writer, Recorder.StartMetadata("test", "pipes", "4.17", ["test"], null),
            options ?? new RecordingOptions { SlabSize = 256 << 10, MinReadSpace = 64 << 10, SlabsPerDirection = 4 });
        session.StartPump(CaptureDirection.SenderToReceiver, pumpIn, pumpOut, sourceEnded: pumpOut.Dispose);
        session.StartPump(CaptureDirection.ReceiverToSender, backIn, backOut, sourceEnded: backOut.Dispose);
        var receiver = Task.Run(() =>
        {
            var got = CaptureTestSupport.RunFakeReceiver(receiverIn, receiverOut, part);
            receiverOut.Dispose();
            return got;
        });
        var fromReceiver = CaptureTestSupport.RunFakeSender(senderOut, senderIn, sender);
        Assert.Equal(sender, receiver.Result);
        Assert.True(session.WaitForPumps(TimeSpan.FromSeconds(30)));
        var summary = session.Complete();
        Assert.Null(summary.CaptureError);
        Assert.Equal(sender.Length, summary.SenderBytes);
        return (path, sender, fromReceiver);
    }

    private static byte[] ReadDirection(CaptureFile c, CaptureDirection d)
    {
        using var s = c.OpenDirection(d);
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    [Fact]
    public void Recording_an_xl_migrate_session_keeps_both_directions_byte_for_byte()
    {
        using var dir = new TempDir();
        var (path, sender, receiver) = RecordSession(dir);
        Assert.Equal(SyntheticStreams.MigrateReceiverSide(), receiver);
        using var c = CaptureFile.Open(path);
        Assert.Equal(CaptureEndState.Complete, c.EndState);
        Assert.Equal(sender, ReadDirection(c, CaptureDirection.SenderToReceiver));
        Assert.Equal(receiver, ReadDirection(c, CaptureDirection.ReceiverToSender));
        Assert.True(c.HasEnded(CaptureDirection.SenderToReceiver));
        Assert.True(c.HasEnded(CaptureDirection.ReceiverToSender));
        Assert.Equal("4.17", c.Metadata[CaptureMetadata.XenVersion]);
        Assert.True("xl" == c.Metadata[CaptureMetadata.StreamFormat], StreamBench.Capture.Tools.CaptureSummary.Describe(c));
    }

    [Fact]
    public void The_index_recorded_on_the_fly_equals_the_index_parsed_afterwards()
    {
        using var dir = new TempDir();
        var (path, sender, receiver) = RecordSession(dir);
        using var c = CaptureFile.Open(path);
        var parsed = StreamIndexing.Build(new MemoryStream(sender)).Entries;
        Assert.Equal(parsed, c.RecordedIndex(CaptureDirection.SenderToReceiver));
        Assert.Equal(StreamItemKind.ProtocolMessage, parsed[^1].Kind);
        var back = StreamIndexing.Build(new MemoryStream(receiver), new XenStreamReaderOptions { Format = OuterFormat.MigrateReceiver }).Entries;
        Assert.Equal(back, c.RecordedIndex(CaptureDirection.ReceiverToSender));
        Assert.Equal(3, back.Count);
    }

    [Fact]
    public void Chunk_order_is_causal_every_reply_is_recorded_after_what_it_answers()
    {
        using var dir = new TempDir();
        var (path, sender, _) = RecordSession(dir);
        using var c = CaptureFile.Open(path);
        var s2r = c.Extents(CaptureDirection.SenderToReceiver);
        var r2s = c.Extents(CaptureDirection.ReceiverToSender);
        var part = CaptureTestSupport.StreamPart(sender);
        var banner = XlMigrateProtocol.ReceiverBanner.Length;
        // The banner before any stream byte; "ready" after the whole stream; the permission after "ready".
        var bannerChunk = r2s.First(e => e.End >= banner);
        Assert.True(bannerChunk.Sequence < s2r[0].Sequence);
        var readyChunk = r2s.First(e => e.End >= banner + XlMigrateProtocol.ReceiverReady.Length);
        Assert.True(s2r.First(e => e.End >= part).Sequence < readyChunk.Sequence);
        Assert.True(readyChunk.Sequence < s2r.First(e => e.End > part).Sequence);
    }

    [Fact]
    public void Replaying_s2r_into_a_receiver_is_byte_exact_and_waits_for_the_banner_and_the_ready_message()
    {
        using var dir = new TempDir();
        var (path, sender, receiver) = RecordSession(dir);
        using var input = ReplayInput.Open(path, CaptureDirection.SenderToReceiver);
        var engine = new CaptureTestSupport.FakeReceiverEngine(CaptureTestSupport.StreamPart(sender), TimeSpan.FromMilliseconds(300));
        using var target = new EngineReplayTarget(engine);
        var result = Replayer.Run(input, target, new ReplayOptions { PeerTimeout = TimeSpan.FromSeconds(30) });
        Assert.True(result.Succeeded, result.Stopped ?? result.Target.Detail);
        Assert.Equal(ReplaySequencing.Recorded, result.Script.Mode);
        Assert.Equal(sender, engine.Received);
        Assert.Equal(receiver, result.PeerReceived);
        Assert.Null(result.PeerDivergedAt);
        Assert.Equal((byte)0, result.MigrateResult);
        Assert.True(result.Duration >= TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public void Replaying_r2s_into_a_sender_is_byte_exact_and_answers_in_order()
    {
        using var dir = new TempDir();
        var (path, sender, receiver) = RecordSession(dir);
        using var input = ReplayInput.Open(path, CaptureDirection.ReceiverToSender);
        var engine = new CaptureTestSupport.FakeSenderEngine(sender);
        using var target = new EngineReplayTarget(engine);
        var result = Replayer.Run(input, target, new ReplayOptions { PeerTimeout = TimeSpan.FromSeconds(30) });
        Assert.True(result.Succeeded, result.Stopped ?? result.Target.Detail);
        Assert.Equal(receiver, engine.Received);
        Assert.Equal(sender, result.PeerReceived);
        Assert.Equal(3, result.Script.Gates.Count + 1); // banner free, "ready" after the stream, report after the permission
    }

    [Fact]
    public void A_plain_xl_migrate_stream_is_sequenced_by_the_protocol()
    {
        var sender = CaptureTestSupport.SenderStream(100);
        using var input = ReplayInput.FromMemory(sender);
        var engine = new CaptureTestSupport.FakeReceiverEngine(CaptureTestSupport.StreamPart(sender), TimeSpan.FromMilliseconds(100));
        using var target = new EngineReplayTarget(engine);
        var result = Replayer.Run(input, target, new ReplayOptions { PeerTimeout = TimeSpan.FromSeconds(30) });
        Assert.True(result.Succeeded, result.Stopped ?? result.Target.Detail);
        Assert.Equal(ReplaySequencing.Protocol, result.Script.Mode);
        Assert.Equal(sender, engine.Received);
        Assert.Equal((byte)0, result.MigrateResult);
    }

    [Fact]
    public void A_peer_that_never_answers_stops_the_replay_with_a_clear_reason()
    {
        var sender = CaptureTestSupport.SenderStream(20);
        using var input = ReplayInput.FromMemory(sender);
        using var target = new EngineReplayTarget(new SilentEngine());
        var result = Replayer.Run(input, target, new ReplayOptions { PeerTimeout = TimeSpan.FromMilliseconds(300), FinishTimeout = TimeSpan.FromSeconds(5) });
        Assert.False(result.Succeeded);
        Assert.Equal(0, result.BytesSent);
        Assert.Contains("expected before byte 0", result.Stopped, StringComparison.Ordinal);
    }

    private sealed class SilentEngine : IRestoreEngineEndpoint
    {
        public string Description => "silent";

        public ReplayTargetOutcome Restore(Stream input, Stream backChannel, CancellationToken cancel)
        {
            input.CopyTo(Stream.Null);
            return new ReplayTargetOutcome(false, null, "said nothing");
        }
    }

    [Fact]
    public void Replaying_at_the_recorded_pace_keeps_the_gaps_between_chunks()
    {
        using var dir = new TempDir();
        var path = dir.File("paced.cap");
        var data = new byte[3000];
        new Random(1).NextBytes(data);
        using (var w = CaptureWriter.Create(path))
        {
            w.WriteData(CaptureDirection.SenderToReceiver, data.AsMemory(0, 1000), 0);
            w.WriteData(CaptureDirection.SenderToReceiver, data.AsMemory(1000, 1000), 150_000_000);
            w.WriteData(CaptureDirection.SenderToReceiver, data.AsMemory(2000, 1000), 300_000_000);
            w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.SenderToReceiver, data.Length); // as the recorder does
            w.Complete();
        }
        using var input = ReplayInput.Open(path, CaptureDirection.SenderToReceiver);
        var output = new MemoryStream();
        var full = Replayer.Run(input, new StreamReplayTarget(output, "memory", leaveOpen: true));
        Assert.Equal(data, output.ToArray());
        output.SetLength(0);
        var paced = Replayer.Run(input, new StreamReplayTarget(output, "memory", leaveOpen: true), new ReplayOptions { Pace = ReplayPace.Recorded });
        Assert.Equal(data, output.ToArray());
        Assert.True(paced.Duration >= TimeSpan.FromMilliseconds(280), paced.Duration.ToString());
        Assert.True(full.Duration < paced.Duration, full.Duration.ToString());
    }

    [Fact]
    public void A_recording_of_bytes_that_are_not_a_stream_forwards_them_unchanged_and_notes_why_indexing_stopped()
    {
        using var dir = new TempDir();
        var path = dir.File("junk.cap");
        // A valid libxc start (image and domain headers), then noise: the first "record" claims a body it never delivers.
        var junk = new byte[2_000_000];
        new Random(7).NextBytes(junk);
        var start = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Pages = 1 });
        start.AsSpan(0, LibxcWire.ImageHeaderSize + LibxcWire.DomainHeaderSize).CopyTo(junk);
        junk[LibxcWire.ImageHeaderSize + LibxcWire.DomainHeaderSize + 7] = 0x7F;
        var forwarded = new MemoryStream();
        using (var writer = CaptureWriter.Create(path))
        {
            var r = Recorder.RecordStream(writer, new CaptureMetadata(), new RecordingOptions(), new Support.TrickleStream(junk, 70_000), forwarded, CancellationToken.None);
            Assert.Equal(0, r.ExitCode);
        }
        Assert.Equal(junk, forwarded.ToArray());
        using var c = CaptureFile.Open(path);
        Assert.Equal(junk, ReadDirection(c, CaptureDirection.SenderToReceiver));
        Assert.Contains(c.Events, e => e.Code == CaptureEventCode.IndexStopped && e.Value == LibxcWire.ImageHeaderSize + LibxcWire.DomainHeaderSize);
        Assert.Equal(2, c.RecordedIndex(CaptureDirection.SenderToReceiver).Count);
    }
}
