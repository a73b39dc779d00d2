using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamBench.Capture.Input;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench dump</c>: one line per item (offset, layer, type, length, decoded fields), as text or JSON lines.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var io = new StreamOptions();
        var json = new Option<bool>("--json") { Description = "one JSON object per line, for scripts" };
        var kaitai = new Option<bool>("--kaitai") { Description = "print the generated Kaitai parser's full tree instead" };
        var items = new Option<int>("--max-items") { Description = "list elements shown per record (pfns, params, leaves)", DefaultValueFactory = _ => RecordDescriber.DefaultMaxItems };
        var command = new Command("dump", "One line per record: offset, layer, type, length and decoded fields.");
        io.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(kaitai);
        command.Options.Add(items);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(io.Input)!;
            var options = io.ReaderOptions(parse);
            if (parse.GetValue(kaitai))
            {
                return KaitaiDump.Run(path, options, Console.Out, parse.GetValue(items));
            }
            using var input = io.Open(parse);
            try
            {
                using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
                if (input.IsLegacy)
                {
                    using var legacy = new LegacyStreamReader(input.Source, io.LegacyOptions(parse), ownsSource: false);
                    if (parse.GetValue(json))
                    {
                        WriteLegacyJson(legacy, stdout, parse.GetValue(items));
                    }
                    else
                    {
                        WriteLegacyText(legacy, stdout, parse.GetValue(items));
                    }
                    return ExitCodes.Ok;
                }
                using var reader = new XenStreamReader(input.Source, options with { Format = input.Format }, ownsSource: false);
                if (parse.GetValue(json))
                {
                    WriteJson(reader, stdout, parse.GetValue(items));
                }
                else
                {
                    WriteText(reader, stdout, parse.GetValue(items));
                }
                return ExitCodes.Ok;
            }
            catch (Formats.StreamFormatException e)
            {
                throw input.Explain(e);
            }
        });
        return command;
    }

    /// <summary>The text form: <c>@offset layer TYPE len=N field=value ...</c>; a closing line says how the stream ended.</summary>
    public static void WriteText(XenStreamReader reader, TextWriter output, int maxItems = RecordDescriber.DefaultMaxItems)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        while (reader.Read())
        {
            sb.Clear();
            sb.Append(ci, $"@{reader.Offset,-10} {XenStreamReader.LayerName(reader.Layer),-12} ");
            sb.Append(reader.Kind == StreamItemKind.Record
                ? string.Create(ci, $"#{reader.RecordIndex,-6} {reader.RecordTypeName}")
                : reader.RecordTypeName);
            sb.Append(ci, $" len={reader.BodyLength}");
            foreach (var field in RecordDescriber.Describe(reader, maxItems))
            {
                sb.Append(' ').Append(field.Name).Append('=').Append(field.Value);
            }
            var padding = reader.FinishItem();
            foreach (var b in padding)
            {
                if (b != 0)
                {
                    sb.Append(" padding=").Append(Convert.ToHexStringLower(padding));
                    break;
                }
            }
            output.WriteLine(sb.ToString());
        }
        output.WriteLine(string.Create(ci, $"@{reader.Source.Position,-10} end          {reader.Ending} ({reader.RecordIndex + 1} records, {reader.CheckpointCount} checkpoints)"));
    }

    /// <summary>The text form for a legacy image: one line per item of the legacy reader.</summary>
    public static void WriteLegacyText(LegacyStreamReader reader, TextWriter output, int maxItems = RecordDescriber.DefaultMaxItems)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        while (reader.Read())
        {
            sb.Clear();
            sb.Append(ci, $"@{reader.Offset,-10} legacy       #{reader.ItemIndex,-6} {reader.ItemName} len={reader.BodyLength}");
            foreach (var field in LegacyDescriber.Describe(reader, maxItems))
            {
                sb.Append(' ').Append(field.Name).Append('=').Append(field.Value);
            }
            output.WriteLine(sb.ToString());
        }
        output.WriteLine(string.Create(ci,
            $"end{"",-8} {"",-12} {reader.Ending} ({reader.ItemIndex + 1} items, {reader.CompleteImages} complete images, {reader.DiscardedBytes} bytes discarded)"));
    }

    /// <summary>The JSON-lines form for a legacy image: one object per item of the legacy reader.</summary>
    public static void WriteLegacyJson(LegacyStreamReader reader, TextWriter output, int maxItems = RecordDescriber.DefaultMaxItems)
    {
        using var buffer = new MemoryStream();
        while (reader.Read())
        {
            buffer.SetLength(0);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteNumber("offset", reader.Offset);
                w.WriteString("layer", "legacy");
                w.WriteNumber("index", reader.ItemIndex);
                w.WriteString("type", reader.ItemName);
                w.WriteNumber("length", reader.BodyLength);
                w.WriteStartObject("fields");
                foreach (var field in LegacyDescriber.Describe(reader, maxItems))
                {
                    w.WriteString(field.Name, field.Value);
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"kind\":\"End\",\"ending\":\"{reader.Ending}\",\"items\":{reader.ItemIndex + 1},\"completeImages\":{reader.CompleteImages},\"discardedBytes\":{reader.DiscardedBytes}}}"));
    }

    /// <summary>The JSON-lines form.</summary>
    public static void WriteJson(XenStreamReader reader, TextWriter output, int maxItems = RecordDescriber.DefaultMaxItems)
    {
        using var buffer = new MemoryStream();
        while (reader.Read())
        {
            buffer.SetLength(0);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteNumber("offset", reader.Offset);
                w.WriteString("layer", XenStreamReader.LayerName(reader.Layer));
                w.WriteString("kind", reader.Kind.ToString());
                w.WriteString("type", reader.RecordTypeName);
                if (reader.Kind == StreamItemKind.Record)
                {
                    w.WriteNumber("index", reader.RecordIndex);
                    w.WriteNumber("typeCode", reader.RecordType);
                    w.WriteNumber("checkpoint", reader.CheckpointCount);
                }
                w.WriteNumber("length", reader.BodyLength);
                w.WriteStartObject("fields");
                foreach (var field in RecordDescriber.Describe(reader, maxItems))
                {
                    w.WriteString(field.Name, field.Value);
                }
                w.WriteEndObject();
                var padding = reader.FinishItem();
                if (padding.IndexOfAnyExcept((byte)0) >= 0)
                {
                    w.WriteString("padding", Convert.ToHexStringLower(padding));
                }
                w.WriteEndObject();
            }
            output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"offset\":{reader.Source.Position},\"kind\":\"End\",\"ending\":\"{reader.Ending}\",\"records\":{reader.RecordIndex + 1},\"checkpoints\":{reader.CheckpointCount}}}"));
    }
}
