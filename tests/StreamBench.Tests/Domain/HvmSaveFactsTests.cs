using StreamBench.Domain.Hvm.Context;
using StreamBench.Formats.Wire;
using StreamBench.X86;
using Xunit;

namespace StreamBench.Tests.Domain;

/// <summary>
/// Xen's HVM save type codes and the blob's framing are defined once (<see cref="HvmSaveType"/> and
/// <see cref="HvmSaveFraming"/> in StreamBench.X86), and both the domain (which must not know the migration wire) and
/// the wire decoders use them. What each side adds is tied to them here: the domain's names for the codes and the
/// wire's and the domain's body sizes.
/// </summary>
public sealed class HvmSaveFactsTests
{
    [Fact]
    public void Every_save_type_has_the_name_save_h_gives_it()
    {
        foreach (HvmSaveType type in Enum.GetValues<HvmSaveType>())
        {
            // save.h's names are the enum's in upper case with underscores where save.h puts them (LAPIC_REGS, PMTIMER).
            Assert.Equal(type.ToString().ToUpperInvariant(), HvmSaveTypes.Name((ushort)type).Replace("_", "", StringComparison.Ordinal));
        }

        Assert.Equal(HvmSaveFraming.MaxCode, (ushort)Enum.GetValues<HvmSaveType>().Max());
    }

    [Fact]
    public void The_blob_framing_constants_agree()
    {
        Assert.Equal(HvmSaveFraming.DescriptorSize, HvmSaveWire.DescriptorSize);
        Assert.Equal(HvmSaveFraming.DescriptorSize, HvmSaveTypes.DescriptorSize);
        Assert.Equal(HvmSaveFraming.FileMagic, HvmSaveWire.FileMagic);
        Assert.Equal(HvmSaveFraming.FileMagic, HvmSaveTypes.FileMagic);
        Assert.Equal(HvmSaveWire.HeaderBodySize, HvmSaveTypes.FixedLength(HvmSaveType.Header));
        Assert.Equal(HvmSaveWire.CpuBodySize, HvmSaveTypes.FixedLength(HvmSaveType.Cpu));
    }
}
