using BenchmarkDotNet.Attributes;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Streams;

namespace StreamBench.Benchmarks;

/// <summary>
/// The reference engine in-process on a 256 MiB domain: a non-live save (into <see cref="Stream.Null"/>), a restore
/// of that save from memory into a fresh domain, and the domain digest the engine's law compares.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private GuestDomain? _domain;
    private byte[] _saved = [];
    private DomainConfig? _config;

    /// <summary>The guest kind.</summary>
    [Params(GuestType.Hvm, GuestType.Pv)]
    public GuestType Guest { get; set; }

    /// <summary>Builds the 256 MiB, 2-vCPU domain and saves it once for the restore benchmark.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _domain = DomainBuilder.Build(new DomainSpec(Guest, 256, 2, 1) { BalloonedPages = Guest.IsPv() ? 8 : 0 });
        using var ms = new MemoryStream();
        SaveEngine.Save(_domain, ms, new SaveOptions { Format = SaveFormat.Libxc });
        _saved = ms.ToArray();
        _config = DomainConfig.FromDomain(_domain);
    }

    /// <summary>Frees the domain.</summary>
    [GlobalCleanup]
    public void Cleanup() => _domain?.Dispose();

    /// <summary>Non-live libxc save of the whole domain.</summary>
    [Benchmark]
    public long Save() => SaveEngine.Save(_domain!, Stream.Null, new SaveOptions { Format = SaveFormat.Libxc }).Bytes;

    /// <summary>Restore of the saved stream into a new domain (created and disposed each time).</summary>
    [Benchmark]
    public bool Restore()
    {
        using GuestDomain d = RestoreEngine.Restore(ByteSource.FromMemory(_saved), new RestoreOptions { Config = _config }).Domain;
        return d.Lifecycle == DomainLifecycle.Ready;
    }

    /// <summary>The domain digest (every page, vCPU and platform state).</summary>
    [Benchmark]
    public int Digest() => _domain!.ComputeDigest().GetHashCode();
}
