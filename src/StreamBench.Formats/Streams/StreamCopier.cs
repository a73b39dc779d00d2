namespace StreamBench.Formats.Streams;

/// <summary>Copies a stream item by item through the reader and writer: the output equals the input byte for byte.</summary>
public static class StreamCopier
{
    /// <summary>Copies everything <paramref name="reader"/> yields to <paramref name="writer"/>; returns the item count.</summary>
    public static long Copy(XenStreamReader reader, XenStreamWriter writer)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        var chunk = new byte[1 << 16];
        long items = 0;
        while (reader.Read())
        {
            items++;
            CopyCurrent(reader, writer, chunk);
        }
        writer.Flush();
        return items;
    }

    /// <summary>
    /// Copies the reader's current item to <paramref name="writer"/> byte for byte (its padding included); a record's
    /// body goes through <paramref name="chunk"/>, never whole.
    /// </summary>
    public static void CopyCurrent(XenStreamReader reader, XenStreamWriter writer, byte[] chunk)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        switch (reader.Kind)
        {
            case StreamItemKind.XlHeader:
                writer.WriteXlHeader(reader.XlHeader!.Value, reader.GetBody());
                break;
            case StreamItemKind.LibxlHeader:
                writer.WriteLibxlHeader(reader.LibxlHeader!.Value);
                break;
            case StreamItemKind.LibxcImageHeader:
                writer.WriteImageHeader(reader.ImageHeader!.Value);
                break;
            case StreamItemKind.LibxcDomainHeader:
                writer.WriteDomainHeader(reader.DomainHeader!.Value);
                break;
            case StreamItemKind.Record:
                writer.BeginRecord(reader.RecordType, (uint)reader.BodyLength);
                int n;
                while ((n = reader.ReadBody(chunk)) > 0)
                {
                    writer.WriteBody(chunk.AsSpan(0, n));
                }
                writer.EndRecord(reader.FinishItem());
                break;
            default:
                writer.WriteRaw(reader.GetBody());
                break;
        }
    }
}
