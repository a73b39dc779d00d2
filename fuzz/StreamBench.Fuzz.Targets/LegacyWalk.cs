using StreamBench.Formats;
using StreamBench.Formats.Legacy;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// Walks every item of a <see cref="LegacyStreamReader"/>, touching the decoded fields and the bodies in a rotation
/// (<see cref="LegacyStreamReader.GetBody"/>, <see cref="LegacyStreamReader.ReadBody"/>,
/// <see cref="LegacyStreamReader.ReadBodySpan"/>, a partial read then <see cref="LegacyStreamReader.SkipBody"/>, nothing),
/// folding what it sees into a digest like <see cref="ReaderWalk"/>.
/// </summary>
internal static class LegacyWalk
{
    private static readonly byte[] Piece = new byte[1000];

    public static ReaderWalk.Outcome Walk(LegacyStreamReader reader)
    {
        var h = new Digest();
        long items = 0;
        try
        {
            while (reader.Read())
            {
                items++;
                h.Add((long)reader.Kind);
                h.Add(reader.Offset);
                h.Add(reader.BodyOffset);
                // A QEMU record that runs to the end of the input has a known length only when the input's length is known.
                h.Add(reader.QemuSignature == LegacyQemuSignature.QemuDeviceModelRecord ? -2 : reader.BodyLength);
                h.Add(reader.RawChunkId);
                h.Add(reader.CheckpointIndex);
                h.Add(reader.PfnWords.Length);
                foreach (var w in reader.PfnWords)
                {
                    h.Add((long)w);
                }
                h.Add(reader.DataPageCount);
                h.Add(reader.VcpuId);
                h.Add((long)reader.P2mSize);
                h.Add(reader.GuestWidth);
                h.Add(reader.OnlineVcpus.Length);
                _ = reader.ItemName;
                _ = reader.BlockName;
                Touch(reader, (int)(items % 5), ref h);
                ReaderWalk.Trace?.WriteLine($"  item {items}: {reader.Kind} {reader.ItemName} @{reader.Offset} body {reader.BodyOffset}+{reader.BodyLength} -> {h.Value:x16}");
            }
            h.Add((long)reader.Ending);
            h.Add((long)reader.Width);
            h.Add((long)reader.GuestType);
            h.Add(reader.CompleteImages);
            h.Add(reader.DiscardedBytes);
            h.Add(reader.HasTrailingData ? 1 : 0);
            return new ReaderWalk.Outcome(h.Value, items, null);
        }
        catch (StreamFormatException e)
        {
            h.Add(e.Offset);
            return new ReaderWalk.Outcome(h.Value, items, e);
        }
    }

    private static void Touch(LegacyStreamReader reader, int mode, ref Digest h)
    {
        switch (mode)
        {
            case 0:
                h.Add(reader.GetBody());
                h.Add(reader.GetBody().Length);
                break;
            case 1:
                int n;
                while ((n = reader.ReadBody(Piece)) > 0)
                {
                    h.Add(Piece.AsSpan(0, n));
                }
                break;
            case 2:
                ReadOnlySpan<byte> span;
                while (!(span = reader.ReadBodySpan(777)).IsEmpty)
                {
                    h.Add(span);
                }
                break;
            case 3:
                var got = reader.ReadBody(Piece.AsSpan(0, 8));
                h.Add(Piece.AsSpan(0, got));
                var left = reader.BodyRemaining;
                reader.SkipBody(left == long.MaxValue ? 4096 : left / 2);
                reader.FinishItem();
                reader.FinishItem();
                break;
            default:
                break;
        }
    }
}
