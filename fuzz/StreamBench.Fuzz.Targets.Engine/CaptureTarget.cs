using System.Buffers.Binary;
using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Capture.Tools;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;

namespace StreamBench.Fuzz.Targets.Engine;

/// <summary>
/// The <c>capture</c> target: <see cref="CaptureFile.Open"/> (the checking pass over every chunk: metadata, data
/// extents, index entries, events, footer) and then each direction's item index (<see cref="CaptureFile.IndexFor"/>,
/// which re-reads the direction's bytes when the recorded index does not cover them). A fuzzer cannot guess a CRC32C,
/// so the harness first rewrites every chunk's CRC to match its bytes (the usual fix-up for checksummed formats); the
/// reader's CRC check itself is covered by the unit tests. Expected: <see cref="CaptureFormatException"/> (a bad file
/// header) and <see cref="StreamBench.Formats.StreamFormatException"/> (from the summary and the input seam, which
/// read the directions as a user's command does); the checking pass never throws on a damaged chunk, it stops there.
/// </summary>
internal static class CaptureTarget
{
    // One scratch file per process (targets are single-threaded): CaptureFile reads from a path.
    private static readonly string ScratchPath = Path.Combine(
        Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"streambench-fuzz-capture-{Environment.ProcessId}.cap");

    [ThreadStatic]
    private static byte[]? scratch;

    public static void Run(ReadOnlyMemory<byte> data)
    {
        if (scratch is null || scratch.Length < data.Length)
        {
            scratch = new byte[Math.Max(data.Length, 64 << 10)];
        }
        var bytes = scratch.AsSpan(0, data.Length);
        data.Span.CopyTo(bytes);
        FixCrcs(bytes);
        using (var fs = new FileStream(ScratchPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1))
        {
            fs.Write(bytes);
        }
        using (var file = CaptureFile.Open(ScratchPath))
        {
            _ = file.Metadata.Pairs.Count;
            _ = CaptureSummary.Describe(file);
            _ = CaptureSummary.IncompleteReasons(file);
            foreach (var direction in (ReadOnlySpan<CaptureDirection>)[CaptureDirection.SenderToReceiver, CaptureDirection.ReceiverToSender])
            {
                if (file.Has(direction))
                {
                    _ = CaptureSummary.Items(file.IndexFor(direction));
                    using var s = file.OpenDirection(direction);
                    s.CopyTo(Stream.Null);
                }
            }
        }

        // What every reading command does with a capture: the input seam gives its sender->receiver stream.
        using var input = StreamInputs.Open(ScratchPath);
        using var reader = new XenStreamReader(input.Source, new XenStreamReaderOptions { Format = input.Format }, ownsSource: false);
        while (reader.Read())
        {
        }
    }

    /// <summary>Walks the chunks as the reader frames them and sets each CRC32C to the value its bytes give.</summary>
    internal static void FixCrcs(Span<byte> file)
    {
        var at = CaptureWire.FileHeaderSize;
        while (at + CaptureWire.ChunkHeaderSize <= file.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(file[(at + CaptureWire.ChunkLengthOffset)..]);
            if (length < 0 || length > file.Length - at - CaptureWire.ChunkOverhead)
            {
                return;
            }
            var crcAt = at + CaptureWire.ChunkHeaderSize + length;
            var crc = Crc32C.Append(Crc32C.Compute(file.Slice(at, CaptureWire.ChunkHeaderSize)), file.Slice(at + CaptureWire.ChunkHeaderSize, length));
            BinaryPrimitives.WriteUInt32LittleEndian(file[crcAt..], crc);
            at = crcAt + CaptureWire.ChunkCrcSize;
        }
    }

    /// <summary>The "capture" seed family: small captures of synthetic streams, with metadata, index chunks, events and a footer.</summary>
    public static IEnumerable<(string Family, string Name, byte[] Bytes)> Seeds()
    {
        var small = new SyntheticStreamOptions { Pages = 2, BatchSize = 2, ZeroPageEvery = 2, Seed = 7 };
        foreach (var (name, options, complete) in ((string, SyntheticStreamOptions, bool)[])[
            ("libxc-hvm", small with { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm }, true),
            ("xl-pv-remus", small with { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pv, Checkpoints = 1, DirtyPagesPerCheckpoint = 1 }, true),
            ("libxl-pvh-unfinished", small with { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Pvh }, false)])
        {
            var stream = Targets.Seeds.Compact(SyntheticStreams.Generate(options), options.Dialect, keepPages: 0);
            using var ms = new MemoryStream();
            using (var w = CaptureWriter.ToStream(ms, new CaptureClock(DateTimeOffset.UnixEpoch), leaveOpen: true))
            {
                var meta = new CaptureMetadata { [CaptureMetadata.Source] = "fuzz-seed", [CaptureMetadata.StreamFormat] = name };
                w.WriteMetadata(meta, 0);
                var half = stream.Length / 2;
                w.WriteData(CaptureDirection.SenderToReceiver, stream.AsMemory(0, half), 1);
                w.WriteData(CaptureDirection.SenderToReceiver, stream.AsMemory(half), 2);
                using (var s = new MemoryStream(stream, writable: false))
                {
                    var index = StreamIndexing.Build(s).Entries.ToArray();
                    w.WriteIndex(CaptureDirection.SenderToReceiver, index.AsSpan(0, index.Length / 2), 3);
                    w.WriteIndex(CaptureDirection.SenderToReceiver, index.AsSpan(index.Length / 2), 4);
                }
                w.WriteData(CaptureDirection.ReceiverToSender, SyntheticStreams.MigrateReceiverSide(), 5);
                w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.SenderToReceiver, stream.Length, "eof");
                if (complete)
                {
                    w.Complete();
                }
            }
            yield return ("capture", $"capture-{name}", ms.ToArray());
        }
    }
}
