using BenchmarkDotNet.Attributes;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;

namespace StreamBench.Benchmarks;

/// <summary>The legacy (pre-4.6) converter in-process: a 64 MiB HVM image and a checkpointed, compressed PV image.</summary>
[MemoryDiagnoser]
public class LegacyBenchmarks
{
    private byte[] _hvm = [];
    private byte[] _remus = [];

    /// <summary>The two images.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _hvm = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Width = LegacyWidth.Bits64, Guest = LegacyGuestType.Hvm, Pages = 16384, BatchSize = 1024, Seed = 1 });
        _remus = LegacySyntheticImage.Generate(new LegacySyntheticOptions
        {
            Width = LegacyWidth.Bits64, Guest = LegacyGuestType.Pv, GuestWidth = 8, Pages = 4096, BatchSize = 1024, Seed = 2,
            Checkpoints = 8, Compression = true, DirtyPagesPerCheckpoint = 256,
        });
    }

    /// <summary>64 MiB HVM image to a v2 libxc stream.</summary>
    [Benchmark]
    public long ConvertHvm()
    {
        using var source = ByteSource.FromMemory(_hvm);
        return LegacyConverter.Convert(source, Stream.Null, new LegacyConverterOptions()).BytesWritten;
    }

    /// <summary>PV image with 8 compressed checkpoints to a checkpointed libxc stream.</summary>
    [Benchmark]
    public long ConvertCheckpointedCompressed()
    {
        using var source = ByteSource.FromMemory(_remus);
        return LegacyConverter.Convert(source, Stream.Null, new LegacyConverterOptions { Checkpoints = true }).BytesWritten;
    }
}
