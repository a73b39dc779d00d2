using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Regressions;

/// <summary>
/// <see cref="FuzzRegression"/> itself: every fuzz target's rules hold on a few corpus streams of each kind, and a
/// truncated stream is handled too, so a generated regression test fails only for a real reason.
/// </summary>
public sealed class FuzzRegressionSelfTests
{
    public static TheoryData<string> Targets => new()
    {
        "detect", "reader-xl", "reader-libxl", "reader-libxc", "reader-backchannel", "reader-postcopy", "reader-legacy", "records",
        "verifier-xen", "verifier-restore", "verifier-strict", "verifier-postcopy", "kaitai", "differential", "legacy-converter", "restore-engine",
    };

    private static readonly string[] Streams =
    [
        "synthetic/xl-hvm.bin", "synthetic/libxl-remus-failover.bin", "synthetic/libxc-pv64-v3.bin", "synthetic/colo-back-channel.bin",
        "synthetic/xl-migrate-r2s.bin", "synthetic/libxl-postcopy.bin", "legacy/hvm64-qemu-toolstack.legacy",
    ];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_target_handles_corpus_streams_whole_and_cut(string target)
    {
        foreach (var name in Streams)
        {
            var bytes = File.ReadAllBytes(Path.Combine(Corpus.Root, "corpus", name));
            FuzzRegression.AssertHandled(target, bytes);
            FuzzRegression.AssertHandled(target, bytes[..(bytes.Length / 3)]);
        }
    }

    [Fact]
    public void An_unknown_target_is_refused() =>
        Assert.Throws<ArgumentException>(() => FuzzRegression.AssertHandled("no-such-target", [1, 2, 3]));
}
