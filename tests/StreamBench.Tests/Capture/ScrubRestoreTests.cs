using StreamBench.Capture.Tools;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using DomainPageType = StreamBench.Domain.Pages.PageType;
using StreamBench.Engine.Restore;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace StreamBench.Tests.Capture;

/// <summary>
/// What the scrubber promises (docs/CAPTURE.md, "scrub"), checked on every stream of corpus/ (corpus/real/*.zst read
/// through the input seam, legacy images converted by it): either the scrub refuses the input (and then the engine
/// refuses the input too: a scrubber never refuses what restores), or the scrubbed stream restores exactly when the input
/// restores, with the same refusal when it does not; and when it restores, the two domains' canonical forms are the same
/// item for item (every header, vCPU, HVM context, p2m, start_info and shared_info item, every page table, every zero page,
/// the start_info page) except page images that the scrub replaced, each of which holds the pattern of its pfn.
/// </summary>
public sealed class ScrubRestoreTests(ITestOutputHelper output)
{
    private const ulong Seed = 7;

    public static IEnumerable<object[]> Streams() => Corpus.Names();

    [Theory]
    [MemberData(nameof(Streams))]
    public void A_scrubbed_corpus_stream_restores_to_the_inputs_domain_with_each_replaced_page_holding_its_pattern(string name)
    {
        CorpusStream s = Corpus.Get(name);
        // The file as it is in corpus/ (compressed ones too): the input seam decompresses and converts it.
        string original = Path.Combine(Corpus.Root, "corpus", name);
        using var dir = new TempDir();
        string input = dir.File("input.v3");
        string scrubbed = dir.File("scrubbed.v3");

        OuterFormat format;
        try
        {
            using var v3 = StreamInput.Open(original, format: s.Format);
            format = v3.Format;
            using (var spool = File.Create(input))
            {
                v3.Stream.CopyTo(spool, 1 << 20);
            }
            v3.Complete();
        }
        catch (StreamFormatException e)
        {
            output.WriteLine($"{name}: the input seam refuses it ({e.Message}): nothing to scrub");
            return;
        }

        var reader = new XenStreamReaderOptions { Format = format, Dialect = s.Dialect };
        ScrubResult result;
        try
        {
            using var src = File.OpenRead(input);
            using var dst = File.Create(scrubbed);
            result = StreamScrubber.ScrubStream(src, dst, new ScrubOptions { Seed = Seed, Reader = reader });
        }
        catch (StreamFormatException refused)
        {
            // Fail closed is allowed only for what does not restore anyway.
            var e = Assert.ThrowsAny<Exception>(() => Restore(input, reader).Domain.Dispose());
            output.WriteLine($"{name}: scrub refused ({refused.Message}); restore refuses it too ({e.Message})");
            return;
        }

        output.WriteLine($"{name}: {result.PagesScrubbed} pages replaced, {result.ZeroPagesKept} zero, {result.PageTablesKept} page tables, "
            + $"{result.StartInfoPagesKept} start_info, {result.P2mFramesKept} p2m frames kept");
        Assert.Equal(new FileInfo(input).Length, new FileInfo(scrubbed).Length);

        RestoreResult before;
        try
        {
            before = Restore(input, reader);
        }
        catch (Exception e) when (e is StreamFormatException or DomainException)
        {
            var again = Assert.ThrowsAny<Exception>(() => Restore(scrubbed, reader).Domain.Dispose());
            Assert.Equal(e.Message, again.Message);
            output.WriteLine($"{name}: does not restore, scrubbed or not: {e.Message}");
            return;
        }

        using GuestDomain expected = before.Domain;
        RestoreResult after = Restore(scrubbed, reader);
        using GuestDomain actual = after.Domain;
        Assert.Equal(before.CheckpointsApplied, after.CheckpointsApplied);
        Assert.Equal(before.DataPages, after.DataPages);

        var pattern = new byte[LibxcWire.PageSize];
        long replaced = 0, same = 0;
        using IEnumerator<CanonicalItem> a = CanonicalForm.Enumerate(expected).GetEnumerator();
        using IEnumerator<CanonicalItem> b = CanonicalForm.Enumerate(actual).GetEnumerator();
        while (true)
        {
            bool more = a.MoveNext();
            Assert.Equal(more, b.MoveNext());
            if (!more)
            {
                break;
            }
            CanonicalItem x = a.Current, y = b.Current;
            Assert.Equal((x.Section, x.Key, x.Tag), (y.Section, y.Key, y.Tag));
            if (x.Data.Span.SequenceEqual(y.Data.Span))
            {
                same++;
                continue;
            }
            // Only an ordinary page image may differ, and only by holding its pfn's pattern.
            Assert.True(x.Section == CanonicalSection.Page && (DomainPageType)(x.Tag & 0x07) == DomainPageType.Normal, $"{name}: {x.Describe()} differs after the scrub");
            StreamScrubber.FillPattern(pattern, x.Key, Seed);
            Assert.True(y.Data.Span.SequenceEqual(pattern), $"{name}: {y.Describe()} is neither the input's page nor its pattern");
            replaced++;
        }
        output.WriteLine($"{name}: restored; {replaced} pages hold their pattern, {same} items identical; digests {expected.ComputeDigest()} / {actual.ComputeDigest()}");
        Assert.True(replaced <= result.PagesScrubbed);
    }

    private static RestoreResult Restore(string path, XenStreamReaderOptions reader)
    {
        OuterFormat detected;
        using (ByteSource probe = ByteSource.Open(path))
        {
            detected = reader.Format != OuterFormat.Auto ? reader.Format : XenStreamReader.DetectFormat(probe);
        }
        // As RealStreamTests: an xl save carries its config; a bare libxl/libxc stream takes the lab's 128 MiB.
        return RestoreEngine.Restore(path, new RestoreOptions
        {
            Reader = reader,
            MemoryPages = detected == OuterFormat.Xl ? null : 128 * 256,
            OpenMemoryMap = detected == OuterFormat.Xl ? null : true,
        });
    }
}
