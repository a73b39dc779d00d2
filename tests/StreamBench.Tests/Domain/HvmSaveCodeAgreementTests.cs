using StreamBench.Domain.Hvm.Context;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Domain;

/// <summary>
/// Xen's HVM save type codes exist twice on purpose: in the domain (<see cref="HvmSaveType"/>, which must not know the
/// wire format) and in the wire constants (<see cref="HvmSaveCode"/>, which the decoders and the Kaitai agreement
/// test use). This test is the one place that ties them: same codes, same names.
/// </summary>
public sealed class HvmSaveCodeAgreementTests
{
    [Fact]
    public void The_domains_save_types_and_the_wire_codes_are_the_same_set_with_the_same_names()
    {
        var domain = Enum.GetValues<HvmSaveType>().ToDictionary(t => (ushort)t, t => t.ToString().ToUpperInvariant());
        var wire = Enum.GetValues<HvmSaveCode>().ToDictionary(c => (ushort)c, c => c.ToString().ToUpperInvariant());

        Assert.Equal(domain.Keys.Order(), wire.Keys.Order());
        foreach (var (code, name) in domain)
        {
            Assert.Equal(name, wire[code]);
        }
    }

    [Fact]
    public void The_blob_framing_constants_agree()
    {
        Assert.Equal(HvmSaveWire.DescriptorSize, HvmSaveTypes.DescriptorSize);
        Assert.Equal(HvmSaveWire.FileMagic, HvmSaveTypes.FileMagic);
        Assert.Equal(HvmSaveWire.HeaderBodySize, HvmSaveTypes.FixedLength(HvmSaveType.Header));
        Assert.Equal(HvmSaveWire.CpuBodySize, HvmSaveTypes.FixedLength(HvmSaveType.Cpu));
    }
}
