using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Capture.Format;

/// <summary>The item index of a byte stream, as far as it parses.</summary>
public sealed record StreamIndexResult(IReadOnlyList<CaptureIndexEntry> Entries, StreamEnding Ending, string? StopReason, long StopOffset);

/// <summary>Builds item indexes with <see cref="XenStreamReader"/>: one entry per header, record and protocol message.</summary>
public static class StreamIndexing
{
    /// <summary>The index entry for the reader's current item.</summary>
    public static CaptureIndexEntry EntryOf(XenStreamReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var type = reader.Kind switch
        {
            StreamItemKind.Record => reader.RecordType,
            StreamItemKind.ProtocolMessage => (uint)reader.Message,
            _ => 0u,
        };
        return new CaptureIndexEntry(reader.Offset, reader.ItemLength, type, reader.Kind, reader.Layer);
    }

    /// <summary>Indexes <paramref name="stream"/> until its end or its first malformed item.</summary>
    public static StreamIndexResult Build(Stream stream, XenStreamReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var entries = new List<CaptureIndexEntry>();
        using var reader = new XenStreamReader(ByteSource.FromStream(stream), options, ownsSource: true);
        try
        {
            while (reader.Read())
            {
                entries.Add(EntryOf(reader));
            }
            reader.FinishItem();
            return new StreamIndexResult(entries, reader.Ending, null, stream.CanSeek ? stream.Length : -1);
        }
        catch (StreamFormatException e)
        {
            // The last entry may describe an item the input does not complete: keep only whole ones.
            if (entries.Count > 0 && e.IsTruncation && (stream.CanSeek ? entries[^1].End > stream.Length : e.Offset <= entries[^1].Offset || e.Field == "padding"))
            {
                entries.RemoveAt(entries.Count - 1);
            }
            return new StreamIndexResult(entries, StreamEnding.None, e.Message, e.Offset);
        }
    }

    /// <summary>r2s bytes start with the <c>xl migrate</c> receiver banner (or a prefix of it), or are bare back-channel records.</summary>
    public static OuterFormat GuessBackFormat(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[16];
        var n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return GuessBackFormat(head[..n]);
    }

    /// <summary>See <see cref="GuessBackFormat(Stream)"/>.</summary>
    public static OuterFormat GuessBackFormat(ReadOnlySpan<byte> head)
    {
        var banner = XlMigrateProtocol.ReceiverBanner;
        return head.Length > 0 && banner.StartsWith(head[..Math.Min(head.Length, 16)]) ? OuterFormat.MigrateReceiver : OuterFormat.BackChannel;
    }
}
