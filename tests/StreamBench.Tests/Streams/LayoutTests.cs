using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Streams;

/// <summary>
/// Every layout in Wire/Layouts.cs names its fields in order, without gaps or overlaps, and its last field ends where
/// the layer's size says the header or body ends.
/// </summary>
public sealed class LayoutTests
{
    public static TheoryData<string, int[], int[], int> Layouts => new()
    {
        { "libxc image header", [LibxcImageHeaderLayout.Marker, LibxcImageHeaderLayout.Id, LibxcImageHeaderLayout.Version, LibxcImageHeaderLayout.Options,
            LibxcImageHeaderLayout.Reserved1, LibxcImageHeaderLayout.Reserved2], [8, 4, 4, 2, 2, 4], LibxcWire.ImageHeaderSize },
        { "libxc domain header", [LibxcDomainHeaderLayout.Type, LibxcDomainHeaderLayout.PageShift, LibxcDomainHeaderLayout.Reserved,
            LibxcDomainHeaderLayout.XenMajor, LibxcDomainHeaderLayout.XenMinor], [4, 2, 2, 4, 4], LibxcWire.DomainHeaderSize },
        { "libxl header", [LibxlHeaderLayout.Ident, LibxlHeaderLayout.Version, LibxlHeaderLayout.Options], [8, 4, 4], LibxlWire.HeaderSize },
        { "record header", [RecordHeaderLayout.Type, RecordHeaderLayout.Length], [4, 4], Framing.RecordHeaderSize },
        { "X86_TSC_INFO", [TscInfoLayout.Mode, TscInfoLayout.Khz, TscInfoLayout.Nsec, TscInfoLayout.Incarnation, TscInfoLayout.Reserved],
            [4, 4, 8, 4, 4], LibxcBodySizes.TscInfo },
        { "HVM save HEADER", [HvmSaveHeaderLayout.Magic, HvmSaveHeaderLayout.Version, HvmSaveHeaderLayout.Changeset, HvmSaveHeaderLayout.Cpuid,
            HvmSaveHeaderLayout.GtscKhz], [4, 4, 8, 4, 4], HvmSaveWire.HeaderBodySize },
        { "xl header", [0, XlWire.ByteOrderOffset, XlWire.MandatoryFlagsOffset, XlWire.OptionalFlagsOffset, XlWire.OptionalDataLengthOffset],
            [XlWire.MagicSize, 4, 4, 4, 4], XlWire.HeaderSize },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Fields_are_contiguous_and_fill_the_size(string layout, int[] offsets, int[] widths, int size)
    {
        var at = 0;
        for (var i = 0; i < offsets.Length; i++)
        {
            Assert.True(at == offsets[i], $"{layout}: field {i} at {offsets[i]}, expected {at}");
            at += widths[i];
        }
        Assert.Equal(size, at);
    }
}
