using StreamBench.Domain.Determinism;
using Xunit;

namespace StreamBench.Tests.Domain;

public sealed class DeterminismTests
{
    [Fact]
    public void SplitMix64_matches_the_published_reference_sequence()
    {
        var sm = new SplitMix64(0);
        Assert.Equal(0xE220_A839_7B1D_CDAFul, sm.Next());
        Assert.Equal(0x6E78_9E6A_A1B9_65F4ul, sm.Next());
        Assert.Equal(0x06C4_5D18_8009_454Ful, sm.Next());
    }

    [Fact]
    public void Xoshiro256StarStar_matches_an_independent_reference_implementation()
    {
        // Values from a Python transcription of xoshiro256starstar.c seeded through splitmix64.
        var rng = new Xoshiro256StarStar(42);
        Assert.Equal(0x1578_0B2E_0C2E_C716ul, rng.NextUInt64());
        Assert.Equal(0x6104_D986_6D11_3A7Eul, rng.NextUInt64());
        Assert.Equal(0xAE17_5332_39E4_99A1ul, rng.NextUInt64());
        Assert.Equal(0xECB8_AD47_03B3_60A1ul, rng.NextUInt64());
        Assert.Equal(0x99EC_5F36_CB75_F2B4ul, new Xoshiro256StarStar(0).NextUInt64());
    }

    [Fact]
    public void Bounded_draws_stay_in_range_and_clones_continue_identically()
    {
        var rng = new Xoshiro256StarStar(7);
        for (int i = 0; i < 10_000; i++)
        {
            Assert.InRange(rng.NextBelow(3), 0ul, 2ul);
            Assert.InRange(rng.NextDouble(), 0.0, 0.9999999999999999);
        }

        Xoshiro256StarStar copy = rng.Clone();
        Assert.Equal(rng.NextUInt64(), copy.NextUInt64());
        var bytes = new byte[13];
        rng.NextBytes(bytes);
        Assert.Contains(bytes, b => b != 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextBelow(0));
    }

    [Fact]
    public void Derived_seeds_differ_per_key_and_repeat_per_key()
    {
        Assert.Equal(SplitMix64.Derive(1, 2), SplitMix64.Derive(1, 2));
        Assert.NotEqual(SplitMix64.Derive(1, 2), SplitMix64.Derive(1, 3));
        Assert.NotEqual(SplitMix64.Derive(1, 2), SplitMix64.Derive(2, 2));
        Assert.NotEqual(SplitMix64.Derive(1, 2, 3), SplitMix64.Derive(1, 3, 2));
    }
}
