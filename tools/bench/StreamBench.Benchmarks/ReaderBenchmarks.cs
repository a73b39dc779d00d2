using BenchmarkDotNet.Attributes;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;

namespace StreamBench.Benchmarks;

/// <summary>The reader's hot paths: record walking with page skipping, over memory and over a pipe-like stream.</summary>
[MemoryDiagnoser]
public class ReaderBenchmarks
{
    private byte[] _batched = [];
    private byte[] _onePage = [];

    /// <summary>64 MiB of 1024-page batches, and 16384 one-page records.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _batched = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 16384 });
        _onePage = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 16384, BatchSize = 1 });
    }

    private static long Walk(ByteSource source)
    {
        using var reader = new XenStreamReader(source, ownsSource: true);
        long pfns = 0;
        while (reader.Read())
        {
            if (reader.Kind == StreamItemKind.Record && reader.RecordType == (uint)LibxcRecordType.PageData)
            {
                pfns += BitConverter.ToUInt32(reader.BodyPrefix(8));
            }
        }
        return pfns;
    }

    /// <summary>Batched stream in memory (headers read, pages skipped).</summary>
    [Benchmark]
    public long BatchedFromMemory() => Walk(ByteSource.FromMemory(_batched));

    /// <summary>Batched stream through a non-seekable stream (every byte read).</summary>
    [Benchmark]
    public long BatchedThroughPipe() => Walk(ByteSource.FromStream(new NonSeekable(_batched)));

    /// <summary>One-page records in memory.</summary>
    [Benchmark]
    public long OnePageRecordsFromMemory() => Walk(ByteSource.FromMemory(_onePage));

    /// <summary>Copy through reader and writer (round trip).</summary>
    [Benchmark]
    public long RoundTrip()
    {
        using var reader = new XenStreamReader(ByteSource.FromMemory(_batched), ownsSource: true);
        using var writer = new XenStreamWriter(Stream.Null);
        return StreamCopier.Copy(reader, writer);
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanSeek => false;
    }
}
