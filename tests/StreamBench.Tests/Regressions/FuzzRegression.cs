using System.Buffers.Binary;
using System.Collections;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Kaitai;
using StreamBench.Engine.Restore;
using StreamBench.Formats;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Regressions;

/// <summary>
/// Runs the entry point behind a fuzz target (fuzz/StreamBench.Fuzz.Targets, docs/FUZZING.md) on one input, the way
/// the target does, and asserts the fuzzer's rules: it returns or throws only the target's expected exceptions
/// (<see cref="StreamFormatException"/>; Kaitai's own input errors for <c>kaitai</c>; nothing for the verifier), within
/// the 64 MiB allocation budget and a time limit, and the views the differential targets compare agree.
/// Generated tests (tools/fuzz/triage.sh) call <see cref="AssertHandled"/>; keep this in step with the targets.
/// </summary>
public static class FuzzRegression
{
    /// <summary>The fuzzer's allocation budget per input (FuzzOptions.DefaultAllocationBudgetBytes).</summary>
    public const long AllocationBudget = 64L << 20;

    /// <summary>How long one input may take here (afl-fuzz's -t is 5 s; tests run on loaded machines).</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(30);

    /// <summary>Loads an input kept under tests/StreamBench.Tests/Regressions/inputs/.</summary>
    public static byte[] Input(string name) =>
        File.ReadAllBytes(Path.Combine(Corpus.Root, "tests", "StreamBench.Tests", "Regressions", "inputs", name));

    /// <summary>Asserts that the entry point behind <paramref name="target"/> handles <paramref name="input"/>.</summary>
    public static void AssertHandled(string target, byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Action<byte[]> run = target switch
        {
            "detect" => b => Reader(b, OuterFormat.Auto, StreamDialect.Upstream),
            "reader-xl" => b => Reader(b, OuterFormat.Xl, StreamDialect.Upstream),
            "reader-libxl" => b => Reader(b, OuterFormat.Libxl, StreamDialect.Upstream),
            "reader-libxc" => b => Reader(b, OuterFormat.Libxc, StreamDialect.Upstream),
            "reader-backchannel" => b => Reader(b, OuterFormat.BackChannel, StreamDialect.Upstream),
            "reader-postcopy" => b => Reader(b, OuterFormat.Auto, StreamDialect.PostcopyRfc),
            "reader-legacy" => LegacyReader,
            "records" => Records,
            "verifier-xen" => b => Verifier.Verify(b, VerifierOptions.Create(VerificationProfile.Xen)),
            "verifier-restore" => b => Verifier.Verify(b, VerifierOptions.Create(VerificationProfile.Restore)),
            "verifier-strict" => b => Verifier.Verify(b, VerifierOptions.Create(VerificationProfile.Strict)),
            "verifier-postcopy" => b => Verifier.Verify(b, VerifierOptions.Create(VerificationProfile.Strict, dialect: StreamDialect.PostcopyRfc)),
            "kaitai" => Kaitai,
            "differential" => Differential,
            "legacy-converter" => Converter,
            "restore-engine" => b => RestoreEngine.Restore(ByteSource.FromMemory(b), new RestoreOptions { MemoryPages = 2048, Vcpus = 2 }),
            _ => throw new ArgumentException($"unknown fuzz target '{target}'", nameof(target)),
        };
        Func<Exception, bool> expected = target switch
        {
            "kaitai" => IsKaitaiInputError,
            _ when target.StartsWith("verifier-", StringComparison.Ordinal) || target == "differential" => _ => false,
            _ => e => e is StreamFormatException,
        };

        Exception? failure = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                run(input);
            }
            catch (Exception e) when (expected(e))
            {
            }
            catch (Exception e)
            {
                failure = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20)
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeLimit), $"{target}: no answer within {TimeLimit.TotalSeconds} s (hang)");
        if (failure is not null)
        {
            Assert.Fail($"{target}: unexpected {failure.GetType().FullName}: {failure}");
        }
        Assert.True(allocated <= AllocationBudget, $"{target}: {allocated} bytes allocated for a {input.Length}-byte input (budget {AllocationBudget})");
    }

    // ---- readers --------------------------------------------------------------------------------------------------

    private static void Reader(byte[] input, OuterFormat format, StreamDialect dialect)
    {
        var options = new XenStreamReaderOptions { Format = format, Dialect = dialect, ChunkSize = 4096 };
        var (memoryItems, memoryError) = Walk(XenStreamReader.FromMemory(input, options));
        var pipe = new BufferedByteSource(new TrickleStream(input, 1448), bufferSize: 4096);
        var (pipeItems, pipeError) = Walk(new XenStreamReader(pipe, options, ownsSource: true));
        Assert.Equal(memoryItems, pipeItems);
        Assert.Equal(memoryError?.Offset, pipeError?.Offset);
        if (memoryError is not null)
        {
            ExceptionDispatchInfo.Capture(memoryError).Throw();
        }
    }

    private static (List<string> Items, StreamFormatException? Error) Walk(XenStreamReader reader)
    {
        var items = new List<string>();
        var piece = new byte[1000];
        using (reader)
        {
            try
            {
                var n = 0;
                while (reader.Read())
                {
                    items.Add($"{reader.Kind} {reader.Layer} {reader.Offset} {reader.RecordType:x} {reader.BodyLength}");
                    switch (n++ % 4)
                    {
                        case 0:
                            _ = reader.BodyPrefix(64);
                            break;
                        case 1:
                            items.Add(Convert.ToHexString(reader.GetBody()));
                            break;
                        case 2:
                            while (reader.ReadBody(piece) > 0)
                            {
                            }
                            break;
                    }
                    items.Add(Convert.ToHexString(reader.FinishItem()));
                }
                items.Add(reader.Ending.ToString());
                return (items, null);
            }
            catch (StreamFormatException e)
            {
                return (items, e);
            }
        }
    }

    private static void LegacyReader(byte[] input)
    {
        foreach (var semantics in new[] { LegacySemantics.XenConverter, LegacySemantics.LibxcRestore })
        {
            var options = new LegacyStreamReaderOptions { Semantics = semantics };
            foreach (var source in new[] { ByteSource.FromMemory(input), new BufferedByteSource(new TrickleStream(input, 1448), bufferSize: 4096) })
            {
                using var reader = new LegacyStreamReader(source, options, ownsSource: true);
                var n = 0;
                while (reader.Read())
                {
                    if (n++ % 2 == 0)
                    {
                        _ = reader.GetBody();
                    }
                    reader.FinishItem();
                }
            }
        }
    }

    private static void Records(byte[] input)
    {
        using var reader = XenStreamReader.FromMemory(input);
        while (reader.Read())
        {
            _ = RecordDescriber.Describe(reader, maxItems: 1000);
            if (reader.Kind != StreamItemKind.Record || reader.BodyLength > input.Length)
            {
                continue;
            }
            var body = reader.GetBody();
            foreach (var dialect in new[] { StreamDialect.Upstream, StreamDialect.PostcopyRfc })
            {
                _ = RecordDescriber.Describe(reader.Layer, reader.RecordType, dialect, body, reader.BodyLength);
                _ = RecordDescriber.Describe(reader.Layer, reader.RecordType, dialect, body[..(body.Length * 2 / 3)], reader.BodyLength, maxItems: 3);
            }
        }
    }

    private static void Converter(byte[] input)
    {
        var xl = input.AsSpan().StartsWith(XlWire.Magic);
        foreach (var options in new[] { new LegacyConverterOptions(), new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl, Checkpoints = true } })
        {
            using var output = new MemoryStream();
            LegacyConversionResult result;
            try
            {
                result = LegacyConverter.Convert(ByteSource.FromMemory(input), output, xl ? options with { XlHeader = true } : options);
            }
            catch (StreamFormatException)
            {
                continue;
            }
            if (xl && input.Length >= XlWire.HeaderSize
                && BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(XlWire.ByteOrderOffset)) == BinaryPrimitives.ReverseEndianness(XlWire.ByteOrderMarker))
            {
                continue; // a big-endian xl header is rewritten as little-endian, like convert-legacy-stream does
            }
            using var reader = XenStreamReader.FromMemory(output.ToArray());
            try
            {
                while (reader.Read())
                {
                    reader.FinishItem();
                }
            }
            catch (StreamFormatException e) when (result.Failover && e.IsTruncation)
            {
            }
        }
    }

    // ---- Kaitai -------------------------------------------------------------------------------------------------------

    /// <summary>How the Kaitai runtime reports bad input (the kaitai target's expected set).</summary>
    public static bool IsKaitaiInputError(Exception e) => e is EndOfStreamException or KaitaiStructError or UndecidedEndiannessError
        || (e is ArgumentOutOfRangeException { ParamName: "count" } a && a.TargetSite?.DeclaringType?.Namespace == "Kaitai");

    private static void Kaitai(byte[] input)
    {
        var format = XenStreamReader.DetectFormat(ByteSource.FromMemory(input));
        var dialects = format is OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc
            ? new[] { StreamDialect.Upstream, StreamDialect.PostcopyRfc }
            : format == OuterFormat.Legacy ? new[] { StreamDialect.Upstream } : [];
        foreach (var dialect in dialects)
        {
            try
            {
                WalkTree(KaitaiParsers.Parse(input, format, dialect), 0);
            }
            catch (Exception e) when (IsKaitaiInputError(e))
            {
            }
        }
    }

    private static void WalkTree(KaitaiStruct node, int depth)
    {
        Assert.True(depth < 64, "Kaitai tree deeper than 64 levels");
        foreach (var p in node.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && !p.Name.StartsWith("M_", StringComparison.Ordinal) && p.PropertyType != typeof(KaitaiStream)))
        {
            object? value;
            try
            {
                value = p.GetValue(node);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
            if (value is KaitaiStruct child)
            {
                WalkTree(child, depth + 1);
            }
            else if (value is IEnumerable list and not byte[] and not string)
            {
                foreach (var item in list)
                {
                    if (item is KaitaiStruct s)
                    {
                        WalkTree(s, depth + 1);
                    }
                }
            }
        }
    }

    // ---- the differential relation (fuzz/StreamBench.Fuzz.Targets/DifferentialTarget.cs, docs/FUZZING.md) ------------

    private readonly record struct Rec(long Offset, StreamLayer Owner, uint Type, long Length, long ItemLength);

    private static void Differential(byte[] input)
    {
        if (XenStreamReader.DescribeContainer(input.AsSpan(0, Math.Min(input.Length, StreamBench.Formats.Wire.ContainerWire.DetectionBytes))) is not null)
        {
            return; // a container (zstd, capture) or a prefix of its magic: refused by the reader by design, as in the target
        }
        var records = new List<Rec>();
        StreamFormatException? readerError = null;
        XlHeaderFields? xl = null;
        long xlOptionalAt = 0;
        var headersValid = true;
        var lastWasHeader = false;
        OuterFormat format;
        StreamEnding ending;
        using (var reader = XenStreamReader.FromMemory(input))
        {
            try
            {
                while (reader.Read())
                {
                    lastWasHeader = reader.Kind is StreamItemKind.LibxlHeader or StreamItemKind.LibxcDomainHeader;
                    switch (reader.Kind)
                    {
                        case StreamItemKind.Record:
                            var owner = reader.Layer == StreamLayer.BackChannel ? XenStreamReader.BackChannelOwner(reader.RecordType, reader.Dialect) : reader.Layer;
                            records.Add(new Rec(reader.Offset, owner, reader.RecordType, reader.BodyLength, reader.ItemLength));
                            break;
                        case StreamItemKind.XlHeader:
                            xl = reader.XlHeader;
                            xlOptionalAt = reader.BodyOffset;
                            break;
                        case StreamItemKind.LibxlHeader:
                            headersValid &= reader.LibxlHeader!.Value.Ident == LibxlWire.Ident;
                            break;
                        case StreamItemKind.LibxcImageHeader:
                            headersValid &= reader.ImageHeader!.Value.Marker == LibxcWire.Marker && reader.ImageHeader!.Value.Id == LibxcWire.Id;
                            break;
                    }
                }
            }
            catch (StreamFormatException e)
            {
                Assert.True(e.IsTruncation, "the reader over memory threw a non-truncation error: " + e.Message);
                readerError = e;
            }
            format = reader.DetectedFormat;
            ending = reader.Ending;
        }

        // R1: framing, record by record.
        var failedInBody = new List<Rec>();
        foreach (var r in records)
        {
            var complete = r.Offset + r.ItemLength <= input.Length;
            var io = new KaitaiStream(input);
            io.Seek(r.Offset);
            try
            {
                uint type;
                uint length;
                if (r.Owner == StreamLayer.Libxl)
                {
                    var k = new LibxlStream.LibxlRecord(io);
                    (type, length) = ((uint)k.Type, k.Length);
                }
                else
                {
                    var k = new LibxcStream.LibxcRecord(io);
                    (type, length) = ((uint)k.Type, k.Length);
                }
                Assert.True(complete, $"the reader finds the record at {r.Offset} cut short, Kaitai parses it");
                Assert.True(type == r.Type && length == r.Length && io.Pos == r.Offset + r.ItemLength, $"record at {r.Offset}: framing differs");
            }
            catch (Exception e) when (IsKaitaiInputError(e))
            {
                if (complete)
                {
                    Assert.True(io.Pos == r.Offset + Framing.RecordHeaderSize + r.Length, $"Kaitai fails framing the complete record at {r.Offset}: {e.Message}");
                    failedInBody.Add(r);
                }
            }
        }

        // V1, V2: the verifier's xen profile.
        var verdict = Verifier.Verify(input, VerifierOptions.Create(VerificationProfile.Xen));
        Assert.False(readerError is not null && verdict.IsValid, "the reader found a truncation, the xen profile accepts the stream");
        var stopped = verdict.Findings.Any(f => VerificationChecks.Find(f.CheckId)?.Fatal == true) || verdict.FindingsDropped > 0;
        if (!stopped)
        {
            Assert.Equal(readerError is not null, verdict.Summary.Truncated);
            if (readerError is null)
            {
                Assert.Equal(records.Count, verdict.Summary.Records);
            }
        }
        if (format is not (OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc))
        {
            return;
        }
        KaitaiStruct? tree = null;
        Exception? kaitaiError = null;
        try
        {
            tree = KaitaiParsers.Parse(input, format, StreamDialect.Upstream);
        }
        catch (Exception e) when (IsKaitaiInputError(e))
        {
            kaitaiError = e;
        }
        if (verdict.IsValid)
        {
            var sameGrammar = !(xl is { } h0 && ((h0.MandatoryFlags & XlMandatoryFlags.StreamV2) == 0 || h0.BigEndian))
                && !lastWasHeader && LayersAgree(records, input.Length, format);
            Assert.False(kaitaiError is ValidationFailedError && sameGrammar, "the xen profile accepts a stream whose header Kaitai rejects");
            foreach (var r in failedInBody)
            {
                var unchecked_ = r.Owner == StreamLayer.Libxc
                    ? r.Type is (uint)LibxcRecordType.HvmContext or (uint)LibxcRecordType.X86PvVcpuMsrs
                    : r.Type == (uint)LibxlRecordType.CheckpointState && r.Length < 4;
                Assert.True(unchecked_, $"the xen profile accepts the record at {r.Offset} whose body does not fit its Kaitai layout");
            }
        }

        // R3, R4 where the grammars agree.
        var xlLibxc = xl is { } h && (h.MandatoryFlags & XlMandatoryFlags.StreamV2) == 0;
        if (xlLibxc || lastWasHeader || !headersValid || xl is { BigEndian: true } || !LayersAgree(records, input.Length, format))
        {
            return;
        }
        if (xl is { } x && x.OptionalDataLength >= 4 && xlOptionalAt + 4 <= input.Length
            && !XlOptionalData.ConfigFitsIn(BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan((int)xlOptionalAt)), x.OptionalDataLength))
        {
            return;
        }
        if (readerError is not null)
        {
            Assert.True(tree is null, $"the reader found a truncation at {readerError.Offset}, Kaitai accepts the stream");
            return;
        }
        if (ending is StreamEnding.Complete or StreamEnding.Failover or StreamEnding.MissingEnd)
        {
            Assert.True(failedInBody.Count > 0 || tree is not null, $"the reader ends cleanly ({ending}), Kaitai rejects: {kaitaiError?.Message}");
            Assert.True(failedInBody.Count == 0 || tree is null, "Kaitai accepts the whole stream but not one of its records on its own");
        }
    }

    private static bool LayersAgree(List<Rec> records, long inputLength, OuterFormat format)
    {
        var inLibxc = format == OuterFormat.Libxc;
        foreach (var r in records)
        {
            if ((inLibxc ? StreamLayer.Libxc : StreamLayer.Libxl) != r.Owner)
            {
                return false;
            }
            if (inLibxc)
            {
                if (r.Type == (uint)LibxcRecordType.End || (format != OuterFormat.Libxc && r.Type == (uint)LibxcRecordType.Checkpoint))
                {
                    if (format == OuterFormat.Libxc)
                    {
                        return true;
                    }
                    inLibxc = false;
                }
            }
            else if (r.Type == (uint)LibxlRecordType.End)
            {
                return true;
            }
            else if (r.Type == (uint)LibxlRecordType.LibxcContext || (r.Type == (uint)LibxlRecordType.CheckpointEnd && r.Offset + r.ItemLength < inputLength))
            {
                inLibxc = true;
            }
        }
        return true;
    }
}
