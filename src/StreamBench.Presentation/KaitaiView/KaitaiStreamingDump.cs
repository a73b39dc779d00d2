using System.Buffers.Binary;
using System.Globalization;
using Kaitai;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.KaitaiView;

/// <summary>
/// The streaming form of <c>dump --kaitai</c> for the upstream xl, libxl and libxc layers: the same text as
/// <see cref="KaitaiTreePrinter"/> prints for the tree <see cref="KaitaiParsers.Parse"/> builds, without building it.
/// </summary>
/// <remarks>
/// The generated parsers are eager: a top-level type reads its whole repeat-until record list in its constructor, so
/// the tree of a 1 GiB stream is 1 GiB of objects. Here the container types (XlSaveFile, LibxlStream, LibxlEntry,
/// LibxcSegment, LibxcStream) are walked by hand, in the order of their .ksy <c>seq</c>, and every record is parsed
/// on its own with the generated record type (<c>new LibxcStream.LibxcRecord(io, ...)</c>, which reads the header,
/// the body through a substream and the padding, and checks what the .ksy checks), printed with the tree printer,
/// and dropped. The input is a <see cref="KaitaiStream.Windowed"/> stream, so what is in memory at once is one
/// record, the window, and the text printed so far. Every record is parsed, also those past <c>--max-items</c>
/// (which are only counted), so a stream the eager parser rejects is rejected here too.
/// The text is held until the end because a list prints its length before its items (<c>Records: [42]</c>) and
/// LibxcSegment's EndsWithCheckpoint, printed first, depends on its last record; it is bounded by
/// <c>--max-items</c>, not by the input. Errors name the byte offset, the layer, the record and the field.
/// The post-copy RFC dialect and legacy images are not walked here (their containers have more shapes): they go
/// through the eager parser, in memory.
/// </remarks>
public static class KaitaiStreamingDump
{
    /// <summary>Whether this walker covers <paramref name="format"/> in <paramref name="dialect"/>.</summary>
    public static bool CanStream(OuterFormat format, StreamDialect dialect) =>
        dialect != StreamDialect.PostcopyRfc && format is OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc;

    /// <summary>
    /// Prints the tree of the <paramref name="format"/> stream read from <paramref name="io"/> (usually
    /// <see cref="KaitaiStream.Windowed"/>) to <paramref name="output"/>. Throws <see cref="StreamFormatException"/>
    /// for input the generated parsers reject, before anything is written.
    /// </summary>
    public static void Print(KaitaiStream io, OuterFormat format, TextWriter output, int maxItems = KaitaiTreePrinter.DefaultMaxItems, int bytesShown = 16)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(output);
        if (!CanStream(format, StreamDialect.Upstream))
        {
            throw new ArgumentException($"the streaming Kaitai dump does not cover a {format} input", nameof(format));
        }
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var walker = new Walker(io, Math.Max(1, maxItems), bytesShown);
        using var pooled = KaitaiStream.UsePool(walker.Pool);
        switch (format)
        {
            case OuterFormat.Xl:
                walker.Xl(text);
                break;
            case OuterFormat.Libxl:
                text.WriteLine(nameof(LibxlStream));
                walker.Libxl(text, 1);
                break;
            default:
                text.WriteLine(nameof(LibxcStream));
                walker.Libxc(text, 1);
                break;
        }
        output.Write(text.ToString());
    }

    /// <summary>The tree as a string (tests).</summary>
    public static string ToText(KaitaiStream io, OuterFormat format, int maxItems = KaitaiTreePrinter.DefaultMaxItems)
    {
        using var sw = new StringWriter(CultureInfo.InvariantCulture);
        Print(io, format, sw, maxItems);
        return sw.ToString();
    }

    private sealed class Walker(KaitaiStream io, int maxItems, int bytesShown)
    {
        /// <summary>
        /// Record bytes read between two collections. Each record is garbage once printed, but a page batch is 8 MiB
        /// of it (the body's copy in the large-object heap, then its 1024 pages), and the GC's gen0 and large-object
        /// budgets let tens of MiB of that pile up before it looks (measured: peak 97 MiB with a collection every
        /// 16 MiB, JIT CLI). A full collection of a heap that is nearly all garbage is cheap, so one after every
        /// 4 MiB of records (about one per 1024-page batch) keeps the peak at the runtime's own plus two batches.
        /// </summary>
        private const long CollectEvery = 4 << 20;

        /// <summary>The managed heap size above which that collection runs.</summary>
        private const long CollectAbove = 24 << 20;

        private long _records; // records read so far, all layers: the record # of an error

        /// <summary>
        /// The arrays of a libxc record (its body's copy, a PAGE_DATA batch's pages) go back here once it is printed
        /// (after that only its Type is read: the list's stop test and LibxcSegment's EndsWithCheckpoint), and the next
        /// record's reads reuse them: without it a stream's every byte was allocated twice and faulted in fresh
        /// (16,700 page faults for the 134 MB real save; docs/BENCHMARKS.md).
        /// </summary>
        public KaitaiArrayPool Pool { get; } = new();
        private long _sinceCollect;

        public void Xl(TextWriter o)
        {
            var head = Read(ErrorLayer.Xl, "header", () => new XlSaveFile(StreamingHead.Only, io));
            o.WriteLine(nameof(XlSaveFile));
            Fields(head, o, 1, custom: null); // Libxl, LegacyPayload and Trailer are null here, so not printed
            if (head.IsStreamV2)
            {
                KaitaiTreePrinter.Line(o, 1, "Libxl", nameof(LibxlStream));
                Libxl(o, 2);
                KaitaiTreePrinter.Line(o, 1, "Trailer", RestOfInput());
            }
            else
            {
                KaitaiTreePrinter.Line(o, 1, "LegacyPayload", RestOfInput());
            }
        }

        public void Libxl(TextWriter o, int depth)
        {
            var header = Read(ErrorLayer.Libxl, "header", () => new LibxlStream.LibxlHeader(io, null, null));
            Value("Header", header, o, depth);
            List(o, depth, "Entries", (i, item) =>
            {
                var record = Record(ErrorLayer.Libxl, () => new LibxlStream.LibxlRecord(io, null, null), RecordDictionary.LibxlUpstream.Name);
                var entryDepth = depth + 2;
                if (item is not null)
                {
                    KaitaiTreePrinter.Line(item, depth + 1, string.Create(CultureInfo.InvariantCulture, $"[{i}]"), nameof(LibxlStream.LibxlEntry));
                    Value("Record", record, item, entryDepth);
                }
                if (record.Type == LibxlStream.LibxlRecordType.LibxcContext)
                {
                    Segment(item, entryDepth, "Libxc", withHeaders: true);
                }
                if (record.Type == LibxlStream.LibxlRecordType.CheckpointEnd && !io.IsEof)
                {
                    Segment(item, entryDepth, "LibxcCheckpoint", withHeaders: false);
                }
                return !(record.Type == LibxlStream.LibxlRecordType.End || io.IsEof);
            });
        }

        public void Libxc(TextWriter o, int depth)
        {
            var ihdr = Read(ErrorLayer.Libxc, "image header", () => new LibxcStream.Ihdr(io, null, null));
            Value("ImageHeader", ihdr, o, depth);
            var dhdr = Read(ErrorLayer.Libxc, "domain header", () => new LibxcStream.Dhdr(io, null, null));
            Value("DomainHeader", dhdr, o, depth);
            LibxcRecords(o, depth, stopAtCheckpoint: false);
        }

        /// <summary>LibxlEntry's Libxc / LibxcCheckpoint: a LibxcSegment, its records read one at a time.</summary>
        private void Segment(TextWriter? o, int depth, string name, bool withHeaders)
        {
            var segment = Read(ErrorLayer.Libxc, withHeaders ? "image and domain headers" : "segment", () => new LibxcStream.LibxcSegment(StreamingHead.Only, withHeaders, io));
            using var records = new StringWriter(CultureInfo.InvariantCulture);
            var last = LibxcRecords(o is null ? null : records, depth + 1, stopAtCheckpoint: true);
            segment.SetLastRecord(last);
            if (o is null)
            {
                return;
            }
            KaitaiTreePrinter.Line(o, depth, name, nameof(LibxcStream.LibxcSegment));
            Fields(segment, o, depth + 1, field =>
            {
                if (field != "Records")
                {
                    return false;
                }
                o.Write(records.ToString());
                return true;
            });
        }

        private LibxcStream.LibxcRecord LibxcRecords(TextWriter? o, int depth, bool stopAtCheckpoint)
        {
            LibxcStream.LibxcRecord? last = null;
            List(o, depth, "Records", (i, item) =>
            {
                last = Record(ErrorLayer.Libxc, () => new LibxcStream.LibxcRecord(io, null, null), RecordDictionary.LibxcUpstream.Name);
                if (item is not null)
                {
                    Value(string.Create(CultureInfo.InvariantCulture, $"[{i}]"), last, item, depth + 1);
                }
                // Printed: only its Type is read from now on (the loop's test, LibxcSegment's EndsWithCheckpoint).
                Recycle(last);
                return !(last.Type == LibxcStream.LibxcRecordType.End
                    || (stopAtCheckpoint && last.Type == LibxcStream.LibxcRecordType.Checkpoint)
                    || io.IsEof);
            });
            return last!;
        }

        /// <summary>Hands a printed record's arrays back to <see cref="Pool"/>; nothing may read its body afterwards.</summary>
        private void Recycle(LibxcStream.LibxcRecord? record)
        {
            if (record is null)
            {
                return;
            }
            if (record.Body is LibxcStream.PageData batch)
            {
                foreach (var page in batch.Pages)
                {
                    Pool.Return(page);
                }
            }
            Pool.Return(record.M_RawBody);
        }

        /// <summary>
        /// A repeat-until list: items are read until <paramref name="item"/> says stop (at least one, as the generated
        /// do-while does); the first <c>maxItems</c> print into a buffer (the rest get a null writer: read, not shown),
        /// then the length line, the buffer and the "... N more" line go to <paramref name="o"/> (if any).
        /// </summary>
        private void List(TextWriter? o, int depth, string name, Func<int, TextWriter?, bool> item)
        {
            using var items = new StringWriter(CultureInfo.InvariantCulture);
            var count = 0;
            bool more;
            do
            {
                more = item(count, o is not null && count < maxItems ? items : null);
                count++;
            }
            while (more);
            if (o is null)
            {
                return;
            }
            KaitaiTreePrinter.Line(o, depth, name, string.Create(CultureInfo.InvariantCulture, $"[{count}]"));
            o.Write(items.ToString());
            if (count > maxItems)
            {
                KaitaiTreePrinter.Line(o, depth + 1, "...", string.Create(CultureInfo.InvariantCulture, $"{count - maxItems} more"));
            }
        }

        private void Value(string name, KaitaiStruct value, TextWriter o, int depth) =>
            KaitaiTreePrinter.PrintValue(name, value, o, depth, maxItems, bytesShown, new HashSet<object>(ReferenceEqualityComparer.Instance));

        private void Fields(KaitaiStruct node, TextWriter o, int depth, Func<string, bool>? custom) =>
            KaitaiTreePrinter.PrintFields(node, o, depth, maxItems, bytesShown, new HashSet<object>(ReferenceEqualityComparer.Instance) { node }, custom);

        /// <summary>What ReadBytesFull would return, as the tree shows it, without holding it: its length and first bytes.</summary>
        private string RestOfInput()
        {
            var head = io.Peek(bytesShown).ToArray();
            long length = 0;
            while (true)
            {
                var chunk = io.Peek(io.PeekLimit).Length;
                if (chunk == 0)
                {
                    break;
                }
                io.Seek(io.Pos + chunk);
                length += chunk;
            }
            return KaitaiTreePrinter.Bytes(length, head, bytesShown);
        }

        /// <summary>A head (header, optional data) read with the generated code; a rejection becomes a <see cref="StreamFormatException"/>.</summary>
        private T Read<T>(ErrorLayer layer, string field, Func<T> read)
        {
            var start = io.Pos;
            try
            {
                return read();
            }
            catch (Exception e) when (IsRejection(e))
            {
                throw new StreamFormatException(Problem(e), start, layer, field: field, truncated: e is EndOfStreamException, inner: e);
            }
        }

        /// <summary>
        /// One record (u32 type, u32 length, body, padding to 8) read with the generated record type. When the
        /// generated code rejects it, the header (peeked before) and the input's size say which field failed.
        /// <paramref name="typeName"/> names the record as the spec (and plain <c>dump</c>) does, PAGE_DATA, not PageData.
        /// </summary>
        private T Record<T>(ErrorLayer layer, Func<T> read, Func<uint, string> typeName)
        {
            var start = io.Pos;
            var index = _records++;
            var head = io.Peek(8);
            var got = head.Length;
            var type = got >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(head) : 0;
            var length = got >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(head[4..]) : 0;
            try
            {
                var record = read();
                _sinceCollect += io.Pos - start;
                if (_sinceCollect >= CollectEvery)
                {
                    _sinceCollect = 0;
                    // With the pool most records allocate little; collect only when garbage did pile up.
                    if (GC.GetTotalMemory(forceFullCollection: false) > CollectAbove)
                    {
                        GC.Collect();
                    }
                }
                return record;
            }
            catch (Exception e) when (IsRejection(e))
            {
                if (got < 8)
                {
                    throw new StreamFormatException($"the record header needs 8 bytes, only {got} remain", start + got, layer, index,
                        got >= 4 ? typeName(type) : null, got >= 4 ? "length" : "type", truncated: true, inner: e);
                }
                var name = typeName(type);
                var padding = (8 - (length % 8)) % 8;
                var left = Remaining(start + 8);
                if (left >= 0 && left < length)
                {
                    throw new StreamFormatException($"the body needs {length} bytes, only {left} remain", start + 8 + left, layer, index, name, "body", truncated: true, inner: e);
                }
                if (left >= 0 && left < length + padding)
                {
                    throw new StreamFormatException($"the padding needs {padding} bytes, only {left - length} remain", start + 8 + left, layer, index, name, "padding", truncated: true, inner: e);
                }
                throw new StreamFormatException($"the {length}-byte body does not parse as {name}: {Problem(e)} (positions inside the body)", start + 8, layer, index, name, "body", inner: e);
            }
        }

        /// <summary>Bytes of the input after <paramref name="from"/>, or -1 when not known (a pipe that has not ended).</summary>
        private long Remaining(long from)
        {
            try
            {
                return Math.Max(0, io.Size - from);
            }
            catch (NotSupportedException)
            {
                return -1;
            }
        }

        private static bool IsRejection(Exception e) =>
            e is EndOfStreamException or KaitaiStructError or ArgumentOutOfRangeException or InvalidDataException or System.Text.DecoderFallbackException;

        private static string Problem(Exception e) => e switch
        {
            EndOfStreamException => "the input ends early: " + e.Message,
            _ => e.Message,
        };
    }
}
