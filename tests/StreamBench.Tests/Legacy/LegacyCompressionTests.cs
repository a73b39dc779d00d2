using FsCheck;
using FsCheck.Fluent;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Tests.Support;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Legacy;

[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class LegacyCompressionTests
{
    /// <summary>A page's seed, how many bytes change, and the chunk size the delta is fed in.</summary>
    public sealed record Delta(int Seed, int Changes, int Split);

    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>Any seed, up to 1100 changed bytes, chunks of 1 to 5000 bytes.</summary>
        public static Arbitrary<Delta> Deltas() => Arb.From(
            from seed in Gen.Choose(0, int.MaxValue)
            from changes in Gen.Choose(0, 1100)
            from split in Gen.Choose(1, 5000)
            select new Delta(seed, changes, split));
    }

    private const int PageSize = LegacyLayout.PageSize;

    private static byte[] RandomPage(int seed)
    {
        var page = new byte[PageSize];
        new Random(seed).NextBytes(page);
        return page;
    }

    private static byte[] Encode(byte[] current, byte[]? previous)
    {
        var buffer = new byte[LegacyPageCompression.WorstCaseSize];
        var n = previous is null
            ? LegacyPageCompression.CompressFull(current, buffer)
            : LegacyPageCompression.CompressDelta(current, previous, buffer);
        return buffer.AsSpan(0, n).ToArray();
    }

    private sealed class Collector
    {
        public List<(ulong Word, byte[] Page)> Pages { get; } = [];

        public void Add(ulong word, ReadOnlySpan<byte> page) => Pages.Add((word, page.ToArray()));
    }

    [Fact]
    public void An_unchanged_page_is_one_EMPTY_PAGE_byte()
    {
        var page = RandomPage(1);
        Assert.Equal([LegacyPageCompression.EmptyPage], Encode(page, page));
    }

    [Fact]
    public void A_fully_changed_page_is_eight_runs_of_127_words_and_one_of_8_the_worst_case()
    {
        var old = RandomPage(1);
        var current = old.Select(b => (byte)~b).ToArray();
        var encoded = Encode(current, old);
        Assert.Equal(LegacyPageCompression.WorstCaseSize, encoded.Length);
        Assert.Equal(127, encoded[0]);
        Assert.Equal(127, encoded[1 + 508]);
        Assert.Equal(8, encoded[8 * 509]);
    }

    [Fact]
    public void One_changed_word_is_a_skip_a_copy_and_skips_to_the_end()
    {
        var old = new byte[PageSize];
        var current = (byte[])old.Clone();
        current[400] = 1;
        var encoded = Encode(current, old);
        // skip 100 words; copy 1 word; skip 127 x 7 + 34 words.
        Assert.Equal(0x80 | 100, encoded[0]);
        Assert.Equal(1, encoded[1]);
        Assert.Equal([1, 0, 0, 0], encoded[2..6]);
        Assert.Equal(0x80 | 127, encoded[6]);
        Assert.Equal(0x80 | 34, encoded[^1]);
    }

    [Property(MaxTest = 200)]
    public void Decoding_a_delta_restores_the_page_for_any_changes_and_any_chunking(Delta t)
    {
        var rng = new Random(t.Seed);
        var old = RandomPage(t.Seed);
        var current = (byte[])old.Clone();
        for (var i = 0; i < t.Changes; i++)
        {
            current[rng.Next(PageSize)] ^= (byte)(1 + rng.Next(255));
        }
        var stream = Encode(old, null).Concat(Encode(current, old)).ToArray();
        var got = new Collector();
        var decoder = new LegacyCompressedPageDecoder(got.Add);
        decoder.Announce(7);
        decoder.Announce(LegacyPfn.Make(3, 0xF));
        decoder.Announce(7);
        for (var i = 0; i < stream.Length; i += t.Split)
        {
            decoder.Feed(stream.AsSpan(i, Math.Min(t.Split, stream.Length - i)));
        }
        decoder.EndOfBody();
        Assert.Equal(3, got.Pages.Count);
        Assert.Equal(old, got.Pages[0].Page);
        Assert.Equal(LegacyPfn.Make(3, 0xF), got.Pages[1].Word);
        Assert.Empty(got.Pages[1].Page);
        Assert.Equal(current, got.Pages[2].Page);
    }

    [Fact]
    public void Byte_by_byte_feeding_gives_the_same_pages()
    {
        var a = RandomPage(3);
        var b = (byte[])a.Clone();
        b[0] = 9;
        b[4095] = 9;
        var stream = Encode(a, null).Concat(Encode(b, a)).Concat(Encode(b, b)).ToArray();
        var got = new Collector();
        var decoder = new LegacyCompressedPageDecoder(got.Add);
        decoder.Announce(1);
        decoder.Announce(1);
        decoder.Announce(1);
        foreach (var x in stream)
        {
            decoder.Feed([x]);
        }
        decoder.EndOfBody();
        Assert.Equal([a, b, b], got.Pages.Select(p => p.Page));
        Assert.Equal(3, decoder.PagesDecoded);
    }

    [Fact]
    public void Words_without_data_pass_through_in_order()
    {
        var got = new Collector();
        var decoder = new LegacyCompressedPageDecoder(got.Add);
        decoder.Announce(LegacyPfn.Make(1, 0xE));
        Assert.Single(got.Pages);
        decoder.Announce(2);
        decoder.Announce(LegacyPfn.Make(3, 0xD));
        Assert.Single(got.Pages);
        decoder.Feed(Encode(RandomPage(5), null));
        Assert.Equal([LegacyPfn.Make(1, 0xE), 2ul, LegacyPfn.Make(3, 0xD)], got.Pages.Select(p => p.Word));
    }

    [Theory]
    [InlineData(new byte[] { 0x05 }, "previous contents are not known")]
    [InlineData(new byte[] { 0x80, 1, 2 }, "not (completely) decoded")]
    public void Decoding_errors_are_precise(byte[] data, string message)
    {
        var decoder = new LegacyCompressedPageDecoder((_, _) => { }) { StreamOffset = 1000 };
        decoder.Announce(9);
        var e = Assert.Throws<StreamFormatException>(() =>
        {
            decoder.Feed(data);
            decoder.EndOfBody();
        });
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal("XC_SAVE_ID_COMPRESSED_DATA", e.RecordType);
        Assert.InRange(e.Offset, 1000, 1000 + data.Length);
    }

    [Fact]
    public void Zero_length_runs_overruns_and_extra_pages_are_errors()
    {
        var page = RandomPage(9);
        StreamFormatException Run(byte[] tail, int announce = 2)
        {
            var decoder = new LegacyCompressedPageDecoder((_, _) => { });
            for (var i = 0; i < announce; i++)
            {
                decoder.Announce(4);
            }
            decoder.Feed(Encode(page, null));
            return Assert.Throws<StreamFormatException>(() => decoder.Feed(tail));
        }
        Assert.Contains("zero-length run", Run([0x81, 0x00]).Message, StringComparison.Ordinal);
        Assert.Contains("overruns the page", Run([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]).Message, StringComparison.Ordinal);
        Assert.Contains("not exactly one page", Run([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).Message, StringComparison.Ordinal);
        Assert.Contains("more pages than the batches announced", Run([0x00], announce: 1).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_previous_contents_cache_is_bounded_and_least_recently_used()
    {
        var got = new Collector();
        var decoder = new LegacyCompressedPageDecoder(got.Add, cacheCapacity: 2);
        foreach (var pfn in new ulong[] { 1, 2, 1, 3 })
        {
            decoder.Announce(pfn);
            decoder.Feed(Encode(RandomPage((int)pfn), null));
        }
        decoder.Announce(1);
        decoder.Feed([LegacyPageCompression.EmptyPage]);
        Assert.Equal(RandomPage(1), got.Pages[^1].Page);
        decoder.Announce(2);
        var e = Assert.Throws<StreamFormatException>(() => decoder.Feed([LegacyPageCompression.EmptyPage]));
        Assert.Contains("pfn 0x2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pending_words_are_bounded()
    {
        var decoder = new LegacyCompressedPageDecoder((_, _) => { }, maxPending: 3);
        decoder.Announce(1);
        decoder.Announce(2);
        decoder.Announce(3);
        Assert.Equal("pfn[]", Assert.Throws<StreamFormatException>(() => decoder.Announce(4)).Field);
    }
}
