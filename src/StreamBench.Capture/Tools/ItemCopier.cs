using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Tools;

/// <summary>Copies the reader's current item to a writer byte for byte (its padding included), as StreamCopier does for a whole stream.</summary>
internal static class ItemCopier
{
    public static void CopyCurrent(XenStreamReader reader, XenStreamWriter writer, byte[] chunk)
    {
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
