using BenchmarkDotNet.Attributes;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;

namespace StreamBench.Benchmarks;

/// <summary>
/// The generated Kaitai parsers (the differential oracle of <c>dump --kaitai</c>): a whole parse of an 8 MiB v3
/// libxc stream, of its xl-file form, and of a PV legacy image; plus printing the libxc tree.
/// </summary>
[MemoryDiagnoser]
public class KaitaiBenchmarks
{
    private byte[] _libxc = [];
    private byte[] _xl = [];
    private byte[] _legacy = [];

    /// <summary>The inputs (2048 pages each).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _libxc = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 2048 });
        _xl = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Hvm, Pages = 2048 });
        // PV: a synthetic legacy HVM image carries random bytes as its Xen HVM context, which the Kaitai parser (rightly)
        // refuses to read as save records.
        _legacy = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Guest = LegacyGuestType.Pv, Pages = 2048, Seed = 3 });
    }

    /// <summary>The libxc parser over the whole stream.</summary>
    [Benchmark]
    public object ParseLibxc() => KaitaiParsers.Parse(_libxc, OuterFormat.Libxc, StreamDialect.Upstream);

    /// <summary>The xl-file parser (xl header, libxl, libxc) over the whole stream.</summary>
    [Benchmark]
    public object ParseXl() => KaitaiParsers.Parse(_xl, OuterFormat.Xl, StreamDialect.Upstream);

    /// <summary>The legacy parser over a 64-bit PV image.</summary>
    [Benchmark]
    public object ParseLegacy() => KaitaiParsers.Parse(_legacy, OuterFormat.Legacy, StreamDialect.Upstream);

    /// <summary>Parse and print the libxc tree (what <c>dump --kaitai</c> does, to a null writer).</summary>
    [Benchmark]
    public void PrintLibxcTree() => KaitaiTreePrinter.Print(KaitaiParsers.Parse(_libxc, OuterFormat.Libxc, StreamDialect.Upstream), TextWriter.Null);
}
