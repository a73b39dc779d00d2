using System.Net;
using System.Net.Sockets;
using StreamBench.Capture.Format;
using StreamBench.Capture.Recording;
using StreamBench.Capture.Replay;
using StreamBench.Formats.Synthesis;
using Xunit;

namespace StreamBench.Tests.Capture;

public sealed class TcpProxyTests
{
    [Fact]
    public async Task The_tcp_proxy_records_an_xl_migrate_session_both_ways_and_replay_to_tcp_plays_it_back()
    {
        using var dir = new TempDir();
        var sender = CaptureTestSupport.SenderStream(150);
        var part = CaptureTestSupport.StreamPart(sender);
        var path = dir.File("tcp.cap");

        // The receiver: a TCP server playing xl migrate-receive.
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var serverPort = ((IPEndPoint)server.LocalEndpoint).Port;
        var receiver = Task.Run(() =>
        {
            using var s = server.AcceptSocket();
            using var ns = new NetworkStream(s);
            var got = CaptureTestSupport.RunFakeReceiver(ns, ns, part);
            s.Shutdown(SocketShutdown.Send);
            return got;
        });

        // The recorder in the middle.
        var proxyPort = new TaskCompletionSource<int>();
        var recording = Task.Run(() =>
        {
            using var writer = CaptureWriter.Create(path);
            return Recorder.RecordTcpProxy(writer, new CaptureMetadata(), new RecordingOptions(), "127.0.0.1:0",
                $"127.0.0.1:{serverPort}", proxyPort.SetResult, CancellationToken.None);
        });

        // The sender connects to the proxy.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, await proxyPort.Task);
            var ns = client.GetStream();
            var back = CaptureTestSupport.RunFakeSender(new HalfCloseStream(client.Client, ns), ns, sender);
            Assert.Equal(SyntheticStreams.MigrateReceiverSide(), back);
        }
        Assert.Equal(sender, await receiver);
        Assert.Equal(0, (await recording).ExitCode);

        using var capture = CaptureFile.Open(path);
        Assert.Equal(CaptureEndState.Complete, capture.EndState);
        Assert.Equal(sender.Length, capture.LengthOf(CaptureDirection.SenderToReceiver));
        Assert.Equal(SyntheticStreams.MigrateReceiverSide().Length, capture.LengthOf(CaptureDirection.ReceiverToSender));
        Assert.True(capture.HasEnded(CaptureDirection.SenderToReceiver));

        // Replay s2r to a fresh receiver over TCP.
        using var server2 = new TcpListener(IPAddress.Loopback, 0);
        server2.Start();
        var receiver2 = Task.Run(() =>
        {
            using var s = server2.AcceptSocket();
            using var ns = new NetworkStream(s);
            var got = CaptureTestSupport.RunFakeReceiver(ns, ns, part, TimeSpan.FromMilliseconds(100));
            s.Shutdown(SocketShutdown.Send);
            return got;
        });
        using var input = ReplayInput.FromCapture(capture, CaptureDirection.SenderToReceiver);
        using var target = new TcpReplayTarget($"127.0.0.1:{((IPEndPoint)server2.LocalEndpoint).Port}");
        var result = Replayer.Run(input, target, new ReplayOptions { PeerTimeout = TimeSpan.FromSeconds(30) });
        Assert.True(result.Succeeded, result.Stopped ?? result.Target.Detail);
        Assert.Equal(sender, await receiver2);
        Assert.Equal((byte)0, result.MigrateResult);
        Assert.Null(result.PeerDivergedAt);
    }

    /// <summary>Disposing it half-closes the socket (what the fake sender's "close" means on TCP).</summary>
    private sealed class HalfCloseStream(Socket socket, NetworkStream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            base.Dispose(disposing);
        }
    }
}
