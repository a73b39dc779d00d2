using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Verification;

/// <summary>
/// Our verifier on the reproducers of the findings in Xen's restore code (docs/FUZZING.md, "Findings in Xen's restore
/// code"; fuzz/xen-native/findings/make_reproducers.py writes them). It runs without the xen-native build: what it
/// keeps honest is the table in the docs, i.e. which of our checks rejects each reproducer in the strict profile and
/// whether the xen profile (verify-stream-v2's checks) does at all.
/// </summary>
public sealed class XenFindingsVerifierTests
{
    [Theory]
    // XN-1/XN-2: Xen's verifier accepts both; ours names the page-table entry the C restore reads the p2m with.
    [InlineData("xn1", OuterFormat.Auto, "libxc.page-data.pte-pfn", "page[0].L1[0]", true)]
    [InlineData("xn2", OuterFormat.Auto, "libxc.page-data.pte-pfn", "page[0].L1[0]", true)]
    // XN-2's third path: no P2M_FRAMES and no page before END (process_start_info reads the NULL pfn_types).
    [InlineData("xn2-start-info", OuterFormat.Auto, "libxc.required.p2m-frames", null, true)]
    [InlineData("xn3", OuterFormat.Auto, "libxc.domain.page-shift", "page_shift", false)]
    // XN-4: the stream carries no bound for HVM pfns; both verifiers only miss HVM_CONTEXT (the engine refuses the pfn).
    [InlineData("xn4", OuterFormat.Auto, "libxc.required.hvm-context", null, true)]
    [InlineData("xn5", OuterFormat.Auto, "libxc.hvm-params.too-short", "length", false)]
    [InlineData("xl1-end", OuterFormat.Auto, "stream.missing-end", null, false)]
    [InlineData("xl1-body", OuterFormat.Auto, "stream.truncated", null, false)]
    [InlineData("xl2", OuterFormat.BackChannel, "libxl.checkpoint-state.empty", "length", false)]
    [InlineData("xl3", OuterFormat.BackChannel, "back-channel.record-type", "type", false)]
    [InlineData("xl4", OuterFormat.BackChannel, "back-channel.record-type", "type", false)]
    [InlineData("xl5", OuterFormat.Auto, "stream.truncated", null, false)]
    public void The_strict_verifier_rejects_every_reproducer(string finding, OuterFormat format, string check, string? field, bool xenAccepts)
    {
        byte[] bytes = Reproducer(finding);
        VerifyResult strict = Verifier.Verify(bytes, VerifierOptions.Create(VerificationProfile.Strict, format));
        Assert.False(strict.IsValid, $"{finding}: {VerifierTests.Describe(strict)}");
        Finding hit = Assert.Single(strict.Findings, f => f.CheckId == check && (field is null || f.Field == field));
        Assert.Equal(FindingSeverity.Error, hit.Severity);

        VerifyResult xen = Verifier.Verify(bytes, VerifierOptions.Create(VerificationProfile.Xen, format));
        Assert.True(xen.IsValid == xenAccepts, $"{finding}, xen profile: {VerifierTests.Describe(xen)}");
    }

    /// <summary>
    /// XL-6: a Remus stream cut after libxc's CHECKPOINT record is a failover to the last complete checkpoint for the
    /// restore and strict profiles (an info finding: what libxl should have done instead of spinning), and a missing
    /// END for the xen profile, as for verify-stream-v2.
    /// </summary>
    [Fact]
    public void A_remus_stream_cut_inside_a_checkpoint_is_a_failover()
    {
        byte[] bytes = Reproducer("xl6");
        VerifyResult strict = Verifier.Verify(bytes, VerifierOptions.Create(VerificationProfile.Strict));
        Assert.True(strict.IsValid, VerifierTests.Describe(strict));
        Assert.Contains(strict.Findings, f => f.CheckId == "stream.failover" && f.Severity == FindingSeverity.Info);
        VerifyResult xen = Verifier.Verify(bytes, VerifierOptions.Create(VerificationProfile.Xen));
        Assert.Contains(xen.Findings, f => f.CheckId == "stream.missing-end");
    }

    private static byte[] Reproducer(string finding) => FindingReproducers.Bytes(finding);
}
