using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using StreamBench.Fuzzing;

namespace StreamBench.Fuzz.Targets;

/// <summary>Every fuzz target of this host (another host can add its own, see <see cref="Host"/>).</summary>
public static class Catalog
{
    private const string Formats = "StreamBench.Formats.dll";
    private const string IO = "StreamBench.IO.dll";
    private const string Legacy = "StreamBench.Legacy.dll";
    private const string Presentation = "StreamBench.Presentation.dll";
    private const string KaitaiRuntime = "StreamBench.Kaitai.dll";

    private static readonly string[] ReaderCode = ["StreamBench.Formats.Streams.", "StreamBench.Formats.Wire."];
    private static readonly string[] ReaderDicts = ["xen"];

    /// <summary>The targets, in the order --list prints them.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        Reader("detect", "XenStreamReader with auto-detection (xl, libxl, libxc, legacy, migrate receiver) over memory and over a pipe",
            OuterFormat.Auto, StreamDialect.Upstream, "all"),
        Reader("reader-xl", "XenStreamReader, format xl (xl header, libxl, libxc, checkpoints, migrate text)", OuterFormat.Xl, StreamDialect.Upstream, "xl"),
        Reader("reader-libxl", "XenStreamReader, format libxl (libxl records, embedded libxc, checkpoint tails)", OuterFormat.Libxl, StreamDialect.Upstream, "libxl"),
        Reader("reader-libxc", "XenStreamReader, format libxc (bare libxc stream, Remus checkpoints)", OuterFormat.Libxc, StreamDialect.Upstream, "libxc"),
        Reader("reader-backchannel", "XenStreamReader, bare back-channel records (COLO)", OuterFormat.BackChannel, StreamDialect.Upstream, "backchannel"),
        Reader("reader-postcopy", "XenStreamReader, auto-detection with the post-copy RFC dictionary", OuterFormat.Auto, StreamDialect.PostcopyRfc, "postcopy"),
        new("reader-legacy", "LegacyStreamReader (pre-4.6 images, 32/64-bit, PV/HVM, Remus, TMEM) over memory and a pipe, both semantics",
            ReaderLegacy, o => o.Expect<StreamFormatException>(),
            ["StreamBench.Formats.Legacy.", .. ReaderCode], [Formats, IO, Legacy], "legacy", ["legacy"]),
        new("records", "Record body decoders (RecordDescriber and the TryParse decoders) on every record, both dictionaries",
            Records, o => o.Expect<StreamFormatException>(),
            ["StreamBench.Formats.Records.", .. ReaderCode], [Formats, IO, Presentation], "all", ReaderDicts),
        Verifier("verifier-xen", VerificationProfile.Xen, StreamDialect.Upstream),
        Verifier("verifier-restore", VerificationProfile.Restore, StreamDialect.Upstream),
        Verifier("verifier-strict", VerificationProfile.Strict, StreamDialect.Upstream),
        Verifier("verifier-postcopy", VerificationProfile.Strict, StreamDialect.PostcopyRfc),
        new("kaitai", "Every generated Kaitai parser (xl, libxl, libxc, post-copy RFC, legacy, per-record) with every lazy instance",
            KaitaiTarget.Run, o => o.IsExpectedException = KaitaiTarget.IsInputError,
            ["Kaitai.", "StreamBench.Formats.KaitaiView."], [Presentation, KaitaiRuntime], "all", ["xen", "legacy"]),
        new("differential", "Reader vs Kaitai vs verifier (xen profile): same records, same accept/reject (docs/FUZZING.md)",
            DifferentialTarget.Run, _ => { },
            ["StreamBench.Formats.Streams.", "StreamBench.Formats.Verification.", "Kaitai.LibxlStream", "Kaitai.LibxcStream", "Kaitai.XlSaveFile"],
            [Formats, IO, Presentation], "differential", ReaderDicts),
        new("legacy-converter", "LegacyConverter (libxc and libxl output, Remus checkpoints); its output must read cleanly",
            LegacyConverterTarget.Run, o => o.Expect<StreamFormatException>(),
            ["StreamBench.Formats.Legacy.", "StreamBench.Formats.Streams."], [Formats, IO, Legacy], "legacy", ["legacy", "xen"]),
    ];

    /// <summary>The target called <paramref name="name"/>, or null.</summary>
    public static FuzzTarget? Find(IEnumerable<FuzzTarget> targets, string name) =>
        targets.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    private static FuzzTarget Reader(string name, string description, OuterFormat format, StreamDialect dialect, string seeds) =>
        new(name, description, data => ReaderBothWays(data, format, dialect), o => o.Expect<StreamFormatException>(),
            ReaderCode, [Formats, IO], seeds, ReaderDicts);

    private static FuzzTarget Verifier(string name, VerificationProfile profile, StreamDialect dialect)
    {
        var options = VerifierOptions.Create(profile, dialect: dialect);
        // The verifier turns every stream error into a finding: nothing may escape it, not even StreamFormatException.
        return new(name, $"Verifier, profile {profile.Name()}, {(dialect == StreamDialect.PostcopyRfc ? "post-copy RFC" : "upstream")} dictionary (must never throw)",
            data => StreamBench.Formats.Verification.Verifier.Verify(data, options), _ => { },
            ["StreamBench.Formats.Verification.", "StreamBench.Formats.Records.", .. ReaderCode], [Formats, IO],
            dialect == StreamDialect.PostcopyRfc ? "postcopy" : "all", ReaderDicts);
    }

    // Reused across executions: the pipe and a reader option set per format (targets are single-threaded).
    [ThreadStatic]
    private static PipeLikeStream? pipe;

    /// <summary>
    /// Reads the input twice, from memory and through a pipe-like stream with a 4 KiB window (the live-migration path),
    /// with the same body-touching rotation, and requires the same items, bytes and outcome.
    /// </summary>
    private static void ReaderBothWays(ReadOnlyMemory<byte> data, OuterFormat format, StreamDialect dialect)
    {
        // One chunk size for both sources, so legacy and trailing chunks split the same way.
        var options = new XenStreamReaderOptions { Format = format, Dialect = dialect, ChunkSize = 4096 };
        ReaderWalk.Outcome fromMemory;
        using (var reader = XenStreamReader.FromMemory(data, options))
        {
            fromMemory = ReaderWalk.Walk(reader);
        }
        pipe ??= new PipeLikeStream(default);
        pipe.Reset(data);
        ReaderWalk.Outcome fromPipe;
        using (var reader = new XenStreamReader(new BufferedByteSource(pipe, bufferSize: 4096), options, ownsSource: true))
        {
            fromPipe = ReaderWalk.Walk(reader);
        }
        if (fromMemory.Digest != fromPipe.Digest)
        {
            throw new DifferentialMismatchException(
                $"memory and pipe readers disagree: {fromMemory.Items} items ({fromMemory.Error?.Message ?? "clean end"}) vs {fromPipe.Items} items ({fromPipe.Error?.Message ?? "clean end"})");
        }
        if (fromMemory.Error is { } e)
        {
            throw e;
        }
    }

    private static void ReaderLegacy(ReadOnlyMemory<byte> data)
    {
        var xen = new LegacyStreamReaderOptions();
        ReaderWalk.Outcome fromMemory;
        using (var reader = LegacyStreamReader.FromMemory(data, xen))
        {
            fromMemory = LegacyWalk.Walk(reader);
        }
        pipe ??= new PipeLikeStream(default);
        pipe.Reset(data);
        ReaderWalk.Outcome fromPipe;
        using (var reader = new LegacyStreamReader(new BufferedByteSource(pipe, bufferSize: 4096), xen, ownsSource: true))
        {
            fromPipe = LegacyWalk.Walk(reader);
        }
        if (fromMemory.Digest != fromPipe.Digest)
        {
            throw new DifferentialMismatchException(
                $"memory and pipe legacy readers disagree: {fromMemory.Items} items ({fromMemory.Error?.Message ?? "clean end"}) vs {fromPipe.Items} items ({fromPipe.Error?.Message ?? "clean end"})");
        }
        // The libxc restore's reading of the ambiguous corners.
        using (var reader = LegacyStreamReader.FromMemory(data, xen with { Semantics = LegacySemantics.LibxcRestore }))
        {
            LegacyWalk.Walk(reader);
        }
        if (fromMemory.Error is { } e)
        {
            throw e;
        }
    }

    private static void Records(ReadOnlyMemory<byte> data)
    {
        using var reader = XenStreamReader.FromMemory(data);
        while (reader.Read())
        {
            _ = RecordDescriber.Describe(reader, maxItems: 1000);
            if (reader.Kind != StreamItemKind.Record || reader.BodyLength > data.Length)
            {
                continue;
            }
            var body = reader.GetBody();
            foreach (var dialect in (ReadOnlySpan<StreamDialect>)[StreamDialect.Upstream, StreamDialect.PostcopyRfc])
            {
                _ = RecordDescriber.Describe(reader.Layer, reader.RecordType, dialect, body, reader.BodyLength, maxItems: 0);
                _ = RecordDescriber.Describe(reader.Layer, reader.RecordType, dialect, body, reader.BodyLength);
                // A prefix cut at an odd place (a truncated body as dump sees it).
                var cut = body[..(body.Length * 2 / 3)];
                _ = RecordDescriber.Describe(reader.Layer, reader.RecordType, dialect, cut, reader.BodyLength, maxItems: 3);
                _ = RecordDescriber.PrefixLength(reader.Layer, reader.RecordType, dialect, reader.BodyLength, body[..Math.Min(8, body.Length)]);
            }
        }
    }
}
