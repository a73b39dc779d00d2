using BenchmarkDotNet.Attributes;
using StreamBench.Capture.Format;
using StreamBench.Capture.Recording;
using StreamBench.Formats.Synthesis;

namespace StreamBench.Benchmarks;

/// <summary>
/// The recorder's pump in-process: 64 MiB of a v3 stream read from memory, forwarded to a sink, and written as a
/// capture (CRC32C chunks, live index) into <see cref="Stream.Null"/>. No sockets or disks: the pump, writer thread
/// and indexer are what is measured.
/// </summary>
[MemoryDiagnoser]
public class RecorderBenchmarks
{
    private byte[] _stream = [];

    /// <summary>The stream.</summary>
    [GlobalSetup]
    public void Setup() =>
        _stream = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 16384 });

    /// <summary>Records the stream with a passthrough sink.</summary>
    [Benchmark]
    public long RecordWithPassthrough()
    {
        using var writer = CaptureWriter.ToStream(Stream.Null);
        using var source = new MemoryStream(_stream, writable: false);
        var r = Recorder.RecordStream(writer, new CaptureMetadata(), new RecordingOptions(), source, Stream.Null, CancellationToken.None);
        return r.Summary.CaptureBytes;
    }
}
