using System.Buffers.Binary;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// Writes the seed corpora (<c>--make-seeds OUTDIR [--corpus DIR]</c>): small synthetic streams of every layer,
/// dialect and guest shape (without page contents but in one seed per layer), plus every stream of corpus/ made small
/// (only the first data page keeps its page,
/// the other data pfns become XTAB; PAGE_DATA records after the first few are dropped), one folder per seed family.
/// AFL++ is fastest with seeds of a few KiB: most of a real stream is page contents nobody parses.
/// </summary>
public static class Seeds
{
    /// <summary>The families and which sources feed them.</summary>
    private static readonly Dictionary<string, string[]> Families = new()
    {
        ["xl"] = ["xl"],
        ["libxl"] = ["libxl"],
        ["libxc"] = ["libxc"],
        ["backchannel"] = ["backchannel"],
        ["postcopy"] = ["postcopy"],
        ["legacy"] = ["legacy"],
        ["all"] = ["xl", "libxl", "libxc", "migrate", "legacy-small"],
        ["differential"] = ["xl", "libxl", "libxc", "migrate"],
    };

    /// <summary>Largest seed kept (bytes).</summary>
    private const int MaxSeed = 24 << 10;

    public static int Make(string outDir, IReadOnlyList<string> corpusDirs, IEnumerable<(string Family, string Name, byte[] Bytes)>? extra = null)
    {
        var sources = new Dictionary<string, List<(string Name, byte[] Bytes)>>();
        void Add(string source, string name, byte[] bytes, int limit = MaxSeed)
        {
            if (bytes.Length == 0 || bytes.Length > limit)
            {
                return;
            }
            if (!sources.TryGetValue(source, out var list))
            {
                sources[source] = list = [];
            }
            if (!list.Any(s => s.Bytes.AsSpan().SequenceEqual(bytes)))
            {
                list.Add((name, bytes));
            }
        }

        foreach (var (name, options) in Synthetic())
        {
            // Minimal page data: one data page in one seed of each layer (the page-content paths), none in the others,
            // so that a mutation lands on a header or a record field, not on page contents nobody parses.
            var bytes = Compact(SyntheticStreams.Generate(options), options.Dialect, keepPages: name.EndsWith("-hvm-v3", StringComparison.Ordinal) ? 1 : 0);
            var source = options.Dialect == StreamDialect.PostcopyRfc ? "postcopy" : options.Layer switch
            {
                SyntheticLayer.Libxc => "libxc",
                SyntheticLayer.Libxl => "libxl",
                _ => "xl",
            };
            Add(source, name, bytes);
        }
        Add("migrate", "migrate-receiver", SyntheticStreams.MigrateReceiverSide());
        Add("migrate", "migrate-receiver-banner-only", SyntheticStreams.MigrateReceiverSide(withReadyAndReport: false));
        Add("backchannel", "colo-back-channel", SyntheticStreams.ColoBackChannel(2, 2));
        Add("postcopy", "postcopy-back-channel", SyntheticStreams.PostcopyBackChannel(2));
        foreach (var (name, options) in Legacy())
        {
            var bytes = LegacySyntheticImage.Generate(options);
            Add("legacy", name, bytes);
            if (bytes.Length <= 8 << 10)
            {
                Add("legacy-small", name, bytes);
            }
        }

        foreach (var corpusDir in corpusDirs.Where(Directory.Exists))
        {
            foreach (var path in Directory.EnumerateFiles(corpusDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var file = Path.GetFileName(path);
                if (file.EndsWith(".tsv", StringComparison.Ordinal) || file.EndsWith(".md", StringComparison.Ordinal)
                    || file.EndsWith(".zst", StringComparison.Ordinal) || file.EndsWith(".src", StringComparison.Ordinal) || file.StartsWith('.'))
                {
                    continue;
                }
                if (new FileInfo(path).Length > 256L << 20)
                {
                    continue;
                }
                var bytes = File.ReadAllBytes(path);
                var name = "corpus-" + Path.GetFileName(Path.GetDirectoryName(path)) + "-" + file;
                var rfc = file.Contains("postcopy", StringComparison.Ordinal);
                var format = XenStreamReader.DetectFormat(ByteSource.FromMemory(bytes));
                if (file.Contains("back-channel", StringComparison.Ordinal))
                {
                    Add(rfc ? "postcopy" : "backchannel", name, bytes);
                    continue;
                }
                if (format == OuterFormat.Legacy)
                {
                    Add("legacy", name, bytes);
                    continue;
                }
                var small = Compact(bytes, rfc ? StreamDialect.PostcopyRfc : StreamDialect.Upstream);
                var source = rfc ? "postcopy" : format switch
                {
                    OuterFormat.Xl => "xl",
                    OuterFormat.Libxl => "libxl",
                    OuterFormat.Libxc => "libxc",
                    _ => "migrate",
                };
                Add(source, name, small);
            }
        }

        var families = new Dictionary<string, string[]>(Families);
        foreach (var (family, name, bytes) in extra ?? [])
        {
            Add("extra-" + family, name, bytes, 4 * MaxSeed);
            // An extra family joins a family of the same name (the engine's post-copy streams join the synthetic
            // post-copy seeds of reader-postcopy and verifier-postcopy); it never empties it.
            var feeds = families.GetValueOrDefault(family) ?? [];
            if (!feeds.Contains("extra-" + family))
            {
                families[family] = [.. feeds, "extra-" + family];
            }
        }

        var total = 0;
        foreach (var (family, feeds) in families)
        {
            var dir = Path.Combine(outDir, family);
            Directory.CreateDirectory(dir);
            foreach (var old in Directory.EnumerateFiles(dir))
            {
                File.Delete(old);
            }
            var n = 0;
            foreach (var feed in feeds)
            {
                foreach (var (name, bytes) in sources.GetValueOrDefault(feed) ?? [])
                {
                    File.WriteAllBytes(Path.Combine(dir, name + ".bin"), bytes);
                    n++;
                }
            }
            Console.Error.WriteLine($"seeds: {family}: {n} files");
            total += n;
        }
        return total;
    }

    private static IEnumerable<(string Name, SyntheticStreamOptions Options)> Synthetic()
    {
        var small = new SyntheticStreamOptions { Pages = 2, BatchSize = 2, ZeroPageEvery = 2, Seed = 7 };
        foreach (var layer in new[] { SyntheticLayer.Libxc, SyntheticLayer.Libxl, SyntheticLayer.Xl, SyntheticLayer.XlMigrateSender })
        {
            var l = layer.ToString().ToLowerInvariant();
            foreach (var guest in new[] { SyntheticGuest.Hvm, SyntheticGuest.Pvh, SyntheticGuest.Pv, SyntheticGuest.Pv32 })
            {
                var g = guest.ToString().ToLowerInvariant();
                yield return ($"{l}-{g}-v3", small with { Layer = layer, Guest = guest });
            }
            yield return ($"{l}-hvm-v2", small with { Layer = layer, Version = 2 });
            yield return ($"{l}-hvm-xtab", small with { Layer = layer, Pages = 4, BatchSize = 3, XtabEvery = 2 });
            yield return ($"{l}-hvm-remus-failover", small with { Layer = layer, Checkpoints = 2, DirtyPagesPerCheckpoint = 1 });
            yield return ($"{l}-hvm-remus-partial", small with { Layer = layer, Checkpoints = 1, DirtyPagesPerCheckpoint = 1, PartialCheckpointAtFailover = true });
            yield return ($"{l}-pvh-remus-end", small with { Layer = layer, Guest = SyntheticGuest.Pvh, Checkpoints = 1, DirtyPagesPerCheckpoint = 1, EndAtFailover = false });
            yield return ($"{l}-hvm-colo", small with { Layer = layer, Checkpoints = 1, DirtyPagesPerCheckpoint = 1, Colo = true });
            yield return ($"{l}-pvh-debug-verify", small with { Layer = layer, Guest = SyntheticGuest.Pvh, Pages = 1, DebugVerify = true });
            if (layer != SyntheticLayer.Libxc)
            {
                yield return ($"{l}-hvm-xenstore", small with { Layer = layer, XenstoreData = true });
            }
            yield return ($"{l}-hvm-postcopy", small with { Layer = layer, Dialect = StreamDialect.PostcopyRfc, Version = 2, Pages = 4, BatchSize = 2 });
        }
    }

    private static IEnumerable<(string Name, LegacySyntheticOptions Options)> Legacy()
    {
        // One page (4 KiB, the least a legacy image has) except in the first seed of each width.
        var small = new LegacySyntheticOptions { Pages = 1, BatchSize = 1, Seed = 5, HvmContextSize = 64, QemuSize = 64, PhysmapEntries = 1 };
        foreach (var width in new[] { LegacyWidth.Bits64, LegacyWidth.Bits32 })
        {
            var w = width == LegacyWidth.Bits64 ? "64" : "32";
            yield return ($"legacy-hvm{w}", small with { Width = width, Pages = 2 });
            yield return ($"legacy-hvm{w}-toolstack", small with { Width = width, Toolstack = true, VerifyMode = true });
            yield return ($"legacy-hvm{w}-qemu-eof", small with { Width = width, QemuSignature = LegacyQemuSignature.QemuDeviceModelRecord });
            yield return ($"legacy-pv{w}-guest64", small with { Width = width, Guest = LegacyGuestType.Pv, GuestWidth = 8, XsaveSize = 16 });
            yield return ($"legacy-pv{w}-guest32", small with { Width = width, Guest = LegacyGuestType.Pv, GuestWidth = 4, UnmappedPfns = 2, OddPages = true });
            yield return ($"legacy-pv{w}-remus", small with { Width = width, Guest = LegacyGuestType.Pv, Checkpoints = 2, DirtyPagesPerCheckpoint = 1 });
            yield return ($"legacy-pv{w}-remus-compressed", small with { Width = width, Guest = LegacyGuestType.Pv, Checkpoints = 1, DirtyPagesPerCheckpoint = 2, Compression = true });
            yield return ($"legacy-hvm{w}-remus", small with { Width = width, Checkpoints = 1, DirtyPagesPerCheckpoint = 1, QemuSignature = LegacyQemuSignature.RemusDeviceModelState });
        }
    }

    /// <summary>
    /// Makes a saved stream small while keeping it restorable: data pages of type NOTAB become XALLOC (populated, no
    /// contents), page-table pages keep their contents (PV restore localises them), XTAB pfns are dropped and PAGE_DATA
    /// records left without pfns disappear. In the post-copy dialect only the pre-copy PAGE_DATA shrink: the pages of
    /// POSTCOPY_PAGE_DATA keep their contents (the destination refuses a post-copied page without data).
    /// </summary>
    public static byte[] ShrinkRestorable(byte[] stream, StreamDialect dialect = StreamDialect.Upstream)
    {
        using var output = new MemoryStream();
        using var reader = XenStreamReader.FromMemory(stream, new XenStreamReaderOptions { Dialect = dialect });
        long copiedTo = 0;
        while (reader.Read())
        {
            if (!(reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxc && reader.RecordType == (uint)LibxcRecordType.PageData))
            {
                continue;
            }
            output.Write(stream.AsSpan((int)copiedTo, (int)(reader.Offset - copiedTo)));
            copiedTo = reader.Offset + reader.ItemLength;
            var body = reader.GetBody();
            var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(body);
            var words = new List<ulong>();
            var pages = new MemoryStream();
            var at = 8 + (8 * count);
            for (var i = 0; i < count; i++)
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(body[(8 + (8 * i))..]);
                var type = PageWord.TypeOf(word);
                if (PageWord.HasData(type))
                {
                    if (type == PageType.NoTab)
                    {
                        word = PageWord.Make(PageWord.PfnOf(word), PageType.XAlloc);
                    }
                    else
                    {
                        pages.Write(body.Slice(at, LibxcWire.PageSize));
                    }
                    at += LibxcWire.PageSize;
                }
                if (type != PageType.XTab)
                {
                    words.Add(word);
                }
            }
            if (words.Count > 0)
            {
                using var w = new XenStreamWriter(output, leaveOpen: true);
                w.WritePageData(words.ToArray(), pages.ToArray());
            }
        }
        output.Write(stream.AsSpan((int)copiedTo));
        return output.ToArray();
    }

    /// <summary>
    /// Makes a stream small without changing its structure: in PAGE_DATA, data pfns after the first
    /// <paramref name="keepPages"/> of the stream become XTAB (their pages dropped, the length rewritten), a record keeps
    /// its first <paramref name="keepPfns"/> pfns, and PAGE_DATA records after the first <paramref name="keepRecords"/>
    /// are dropped. Everything else is copied byte for byte.
    /// A stream the reader cannot read to the end is returned as it is.
    /// </summary>
    public static byte[] Compact(byte[] stream, StreamDialect dialect, int keepPages = 1, int keepRecords = 3, int keepPfns = 64)
    {
        try
        {
            using var output = new MemoryStream();
            using var reader = XenStreamReader.FromMemory(stream, new XenStreamReaderOptions { Dialect = dialect });
            var pagesKept = 0;
            var recordsKept = 0;
            long copiedTo = 0;
            while (reader.Read())
            {
                var isPageData = reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxc
                    && reader.RecordType == (uint)LibxcRecordType.PageData;
                if (!isPageData)
                {
                    continue;
                }
                output.Write(stream.AsSpan((int)copiedTo, (int)(reader.Offset - copiedTo)));
                copiedTo = reader.Offset + reader.ItemLength;
                if (++recordsKept > keepRecords)
                {
                    continue;
                }
                var body = reader.GetBody();
                var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(body);
                var words = new ulong[Math.Min(count, keepPfns)];
                var pages = new MemoryStream();
                var at = 8 + (8 * count);
                for (var i = 0; i < words.Length; i++)
                {
                    var word = BinaryPrimitives.ReadUInt64LittleEndian(body[(8 + (8 * i))..]);
                    if (PageWord.HasData(PageWord.TypeOf(word)))
                    {
                        if (pagesKept < keepPages)
                        {
                            pages.Write(body.Slice(at, LibxcWire.PageSize));
                            pagesKept++;
                        }
                        else
                        {
                            word = PageWord.Make(PageWord.PfnOf(word), PageType.XTab);
                        }
                        at += LibxcWire.PageSize;
                    }
                    words[i] = word;
                }
                using var w = new XenStreamWriter(output, leaveOpen: true);
                w.WritePageData(words, pages.ToArray());
            }
            output.Write(stream.AsSpan((int)copiedTo));
            return output.ToArray();
        }
        catch (StreamFormatException)
        {
            return stream;
        }
    }
}
