using System.Buffers.Binary;
using StreamBench.Domain.Determinism;

namespace StreamBench.Domain.Builders;

/// <summary>
/// Deterministic page contents: each page's bytes depend only on (seed, pfn), so filling is
/// order-independent. A mix of zero pages and patterned pages (random, repeated words, text,
/// sparse structures) so compressors and diffing see realistic variety.
/// </summary>
public static class PageFiller
{
    private const ulong PageTag = 0x5041_4745; // "PAGE"
    private static readonly string[] Words =
        ["xen", "domain", "page", "frame", "kernel", "migrate", "buffer", "ring", "event", "channel", "vcpu", "grant", "block", "net", "store", "console"];

    /// <summary>
    /// Fills <paramref name="page"/> for <paramref name="pfn"/>. Returns false (leaving the page
    /// untouched) when this page is one of the zero pages.
    /// </summary>
    public static bool Fill(Span<byte> page, ulong seed, ulong pfn, double zeroFraction)
    {
        var rng = new Xoshiro256StarStar(SplitMix64.Derive(seed, PageTag, pfn));
        if (rng.NextDouble() < zeroFraction)
        {
            return false;
        }

        switch (rng.NextInt(5))
        {
            case 0:
                rng.NextBytes(page);
                break;
            case 1:
                ulong word = rng.NextUInt64();
                for (int i = 0; i < page.Length; i += 8)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(page[i..], word);
                }

                break;
            case 2:
                FillText(page, rng);
                break;
            case 3:
                page.Clear();
                int n = 1 + rng.NextInt(32);
                for (int i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(page[(rng.NextInt(page.Length / 8) * 8)..], rng.NextUInt64() | 1);
                }

                break;
            default:
                // Pointer-like array: kernel virtual addresses with a common prefix.
                ulong base64 = 0xFFFF_8880_0000_0000ul + (rng.NextUInt64() & 0x3FFF_F000ul);
                for (int i = 0; i < page.Length; i += 8)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(page[i..], base64 + (rng.NextUInt64() & 0xFFF8));
                }

                break;
        }

        return true;
    }

    // A fixed 64 KiB text corpus built once; a text page is a window of it (cheap and deterministic).
    private static readonly byte[] TextCorpus = BuildCorpus();

    private static void FillText(Span<byte> page, Xoshiro256StarStar rng)
    {
        int start = rng.NextInt(TextCorpus.Length - page.Length);
        TextCorpus.AsSpan(start, page.Length).CopyTo(page);
    }

    private static byte[] BuildCorpus()
    {
        var corpus = new byte[64 * 1024];
        var rng = new Xoshiro256StarStar(0x5445_5854); // "TEXT"
        int at = 0;
        while (at < corpus.Length)
        {
            string w = Words[rng.NextInt(Words.Length)];
            for (int i = 0; i < w.Length && at < corpus.Length; i++)
            {
                corpus[at++] = (byte)w[i];
            }

            if (at < corpus.Length)
            {
                corpus[at++] = rng.NextInt(8) == 0 ? (byte)'\n' : (byte)' ';
            }
        }

        return corpus;
    }
}
