using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Legacy;

/// <summary><c>verify</c> and <c>inspect</c> take legacy input: converted on the fly, as libxl's helper does.</summary>
public sealed class LegacyVerificationTests
{
    private static VerifyResult VerifyLegacy(string name, VerificationProfile profile = VerificationProfile.Restore)
    {
        using var source = ByteSource.Open(Corpus.Get(name).Path);
        return LegacyVerification.Verify(source, new LegacyStreamReaderOptions(), VerifierOptions.Create(profile));
    }

    [Theory]
    [InlineData("legacy/hvm64-qemu-toolstack.legacy")]
    [InlineData("legacy/hvm32-noqemu.legacy")]
    [InlineData("legacy/remus-pv64-compressed.legacy")]
    public void Valid_legacy_images_verify_through_the_on_the_fly_conversion(string name)
    {
        var result = VerifyLegacy(name);
        Assert.True(result.IsValid, string.Join('\n', result.Findings));
        Assert.True(result.Summary.DataPages > 0);
        Assert.True(result.Summary.LegacyConverted);
    }

    [Fact]
    public void A_tmem_chunk_is_reported_at_its_offset_in_the_legacy_input()
    {
        var result = VerifyLegacy("legacy/hvm64-tmem.legacy");
        var error = Assert.Single(result.Findings, f => f.Severity == FindingSeverity.Error);
        Assert.Equal(ErrorLayer.Legacy, error.Layer);
        Assert.Equal(4116, error.Offset);
        Assert.Contains("TMEM", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_legacy_image_is_an_error_at_an_in_range_offset_and_nothing_hangs()
    {
        var bytes = File.ReadAllBytes(Corpus.Get("legacy/hvm64-qemu-toolstack.legacy").Path);
        foreach (var cut in new[] { 7, 100, 5000, bytes.Length / 2, bytes.Length - 3 })
        {
            using var source = ByteSource.FromMemory(bytes.AsMemory(0, cut));
            var result = LegacyVerification.Verify(source, new LegacyStreamReaderOptions(), VerifierOptions.Create(VerificationProfile.Strict));
            Assert.False(result.IsValid);
            var legacyError = Assert.Single(result.Findings, f => f.Layer == ErrorLayer.Legacy);
            Assert.InRange(legacyError.Offset, 0, cut);
        }
    }

    [Fact]
    public void A_converter_finding_about_the_converted_stream_says_so()
    {
        var result = VerifyLegacy("legacy/pv32-guest64.legacy");
        // pfn-range (a PAGE_DATA pfn beyond max_pfn) and, in the strict profile, pte-pfn (a page table naming one)
        var errors = result.Findings.Where(f => f.Severity == FindingSeverity.Error).ToArray();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.StartsWith("in the converted v3 stream: ", e.Message, StringComparison.Ordinal));
    }
}
