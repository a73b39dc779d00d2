using StreamBench.Formats;
using StreamBench.Formats.Streams;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// Walks every item of a <see cref="XenStreamReader"/> and touches bodies in every way the API allows, rotating per
/// item: <see cref="XenStreamReader.BodyPrefix"/> then <see cref="XenStreamReader.FinishItem"/>;
/// <see cref="XenStreamReader.GetBody"/> twice; <see cref="XenStreamReader.ReadBody"/> in odd-sized pieces;
/// a partial read, a skip and the finish; nothing at all (the next <see cref="XenStreamReader.Read"/> skips).
/// Everything observed (item kinds, layers, offsets, types, lengths, the bytes read, the padding, the ending or the
/// error's offset) is folded into a 64-bit digest, so two walks over different sources can be compared.
/// </summary>
internal static class ReaderWalk
{
    private const int Modes = 5;

    /// <summary>When set (replay with FUZZ_WALK_TRACE=1), every item and its digest so far are written here.</summary>
    public static TextWriter? Trace { get; set; } =
        Environment.GetEnvironmentVariable("FUZZ_WALK_TRACE") == "1" ? Console.Error : null;

    // One buffer for ReadBody; targets are single-threaded.
    private static readonly byte[] Piece = new byte[1000];

    /// <summary>The result of one walk: the digest and the error that stopped it, if any.</summary>
    public readonly record struct Outcome(ulong Digest, long Items, StreamFormatException? Error);

    /// <summary>Walks <paramref name="reader"/> to its end. Lets every exception but <see cref="StreamFormatException"/> escape.</summary>
    public static Outcome Walk(XenStreamReader reader)
    {
        var h = new Digest();
        long items = 0;
        try
        {
            while (reader.Read())
            {
                items++;
                h.Add((long)reader.Kind);
                h.Add((long)reader.Layer);
                h.Add(reader.Offset);
                h.Add(reader.BodyLength);
                h.Add(reader.ItemLength);
                if (reader.Kind == StreamItemKind.Record)
                {
                    h.Add(reader.RecordType);
                    h.Add(reader.RecordIndex);
                    _ = reader.RecordTypeName;
                }
                else if (reader.Kind == StreamItemKind.ProtocolMessage)
                {
                    h.Add((long)reader.Message);
                }
                Touch(reader, (int)(items % Modes), ref h);
                h.Add(reader.CheckpointCount);
                h.Add(reader.InCheckpointTail ? 1 : 0);
                Trace?.WriteLine($"  item {items}: {reader.Kind} {reader.Layer} @{reader.Offset} type 0x{reader.RecordType:x} len {reader.BodyLength} -> {h.Value:x16}");
            }
            h.Add((long)reader.Ending);
            h.Add((long)reader.DetectedFormat);
            return new Outcome(h.Value, items, null);
        }
        catch (StreamFormatException e)
        {
            // Only the offset: the message (bytes left) and, past the buffering limit, the truncation flag legitimately
            // depend on the source's window.
            h.Add(e.Offset);
            return new Outcome(h.Value, items, e);
        }
    }

    private static void Touch(XenStreamReader reader, int mode, ref Digest h)
    {
        if (reader.Kind == StreamItemKind.ProtocolMessage && reader.Message == MigrateMessage.Report)
        {
            h.Add(reader.ReportResult);
            h.Add(reader.FinishItem());
            return;
        }
        switch (mode)
        {
            case 0:
                h.Add(reader.BodyPrefix(64));
                h.Add(reader.FinishItem());
                break;
            case 1:
                var body = reader.GetBody();
                h.Add(body);
                var again = reader.GetBody();
                if (again.Length != body.Length)
                {
                    throw new DifferentialMismatchException($"GetBody returned {body.Length} then {again.Length} bytes");
                }
                // Not BodyRemaining: a body handed out in place is not consumed, a buffered one is (by design).
                h.Add(reader.FinishItem());
                break;
            case 2:
                int n;
                while ((n = reader.ReadBody(Piece)) > 0)
                {
                    h.Add(Piece.AsSpan(0, n));
                }
                h.Add(reader.FinishItem());
                break;
            case 3:
                var got = reader.ReadBody(Piece.AsSpan(0, 8));
                h.Add(Piece.AsSpan(0, got));
                reader.SkipBody(reader.BodyRemaining / 2);
                h.Add(reader.BodyRemaining);
                h.Add(reader.FinishItem());
                h.Add(reader.FinishItem()); // a second finish is a no-op that returns the same padding
                break;
            default:
                break; // Read() finishes the item itself
        }
    }
}

/// <summary>FNV-1a over 64 bits; enough to compare two walks.</summary>
internal struct Digest
{
    private const ulong Prime = 0x100000001b3;

    public Digest()
    {
    }

    public ulong Value { get; private set; } = 0xcbf29ce484222325;

    public void Add(long value)
    {
        var v = Value;
        for (var i = 0; i < 8; i++)
        {
            v = (v ^ (byte)(value >> (8 * i))) * Prime;
        }
        Value = v;
    }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        Add(bytes.Length);
        var v = Value;
        foreach (var b in bytes)
        {
            v = (v ^ b) * Prime;
        }
        Value = v;
    }
}
