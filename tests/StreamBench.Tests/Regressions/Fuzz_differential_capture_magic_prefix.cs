using StreamBench.Formats;
using StreamBench.Formats.Streams;
using Xunit;

namespace StreamBench.Tests.Regressions;

/// <summary>
/// Fuzzing regression (differential target, CI smoke of 2026-12-06): the one-byte input 0x89, a prefix of the capture
/// file magic. Since detection refuses a known container magic or a prefix of one (never a legacy guess), the reader
/// raises a non-truncation error there, which the differential relation took for a disagreement. A container is not a
/// stream and no Kaitai description covers it: the relation now compares nothing for it, and the reader's refusal
/// stays as it is (checked here).
/// </summary>
public sealed class Fuzz_differential_capture_magic_prefix
{
    [Fact]
    public void A_prefix_of_the_capture_magic_is_no_differential_finding() =>
        FuzzRegression.AssertHandled("differential", [0x89]);

    [Fact]
    public void The_reader_refuses_it_as_a_container_at_offset_0()
    {
        using var reader = XenStreamReader.FromMemory(new byte[] { 0x89 });
        var e = Assert.Throws<StreamFormatException>(() => reader.Read());
        Assert.Equal(0, e.Offset);
        Assert.Contains("capture file magic", e.Message, StringComparison.Ordinal);
    }
}
