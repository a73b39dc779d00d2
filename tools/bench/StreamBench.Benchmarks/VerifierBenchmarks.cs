using BenchmarkDotNet.Attributes;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Verification;

namespace StreamBench.Benchmarks;

/// <summary>The verifier in-process (no start-up): 64 MiB of batched pages, and 16384 one-page records.</summary>
[MemoryDiagnoser]
public class VerifierBenchmarks
{
    private byte[] _batched = [];
    private byte[] _onePage = [];

    /// <summary>The two streams.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _batched = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 16384 });
        _onePage = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 16384, BatchSize = 1 });
    }

    /// <summary>Strict profile over the batched stream.</summary>
    [Benchmark]
    public int StrictBatched() => Verifier.Verify(_batched, VerifierOptions.Create(VerificationProfile.Strict)).Findings.Count;

    /// <summary>Strict profile over one-page records (per-record cost).</summary>
    [Benchmark]
    public int StrictOnePageRecords() => Verifier.Verify(_onePage, VerifierOptions.Create(VerificationProfile.Strict)).Findings.Count;

    /// <summary>Xen's profile (what verify-stream-v2 checks) over the batched stream.</summary>
    [Benchmark]
    public int XenBatched() => Verifier.Verify(_batched, VerifierOptions.Create(VerificationProfile.Xen)).Findings.Count;
}
