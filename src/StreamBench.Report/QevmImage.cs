using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace StreamBench.Report;

/// <summary>
/// Lists the sections of a QEMU savevm image ("QEVM", as <c>xen-save-devices-state</c> writes it into libxl's
/// EMULATOR_CONTEXT). QEMU's format does not give a section's length: the device's VMState description does. A
/// section's end is found by its footer (byte 0x7E and the section id, big-endian, which QEMU writes after every
/// section since machine types 2.4), followed by the next section's type byte. Without footers, names are listed and
/// sizes are unknown.
/// </summary>
public static class QevmImage
{
    private const uint Magic = 0x5145_564Du; // "QEVM"
    private const byte Eof = 0x00, SectionStart = 0x01, SectionPart = 0x02, SectionEnd = 0x03, SectionFull = 0x04,
        VmDescription = 0x06, Configuration = 0x07, Command = 0x08, Footer = 0x7E;

    /// <summary>What the walk found.</summary>
    public sealed record Result(IReadOnlyList<QevmSection> Sections, uint Version, string? Note);

    /// <summary>Walks <paramref name="image"/>; <paramref name="baseOffset"/> is its offset in the stream.</summary>
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "One walk over a QEMU migration image, one branch per section kind (EOF, CONFIGURATION, VMDESCRIPTION, COMMAND, SECTION_*), as QEMU's loader reads them.")]
    public static Result Walk(ReadOnlySpan<byte> image, long baseOffset, long recordIndex, int maxSections)
    {
        var list = new List<QevmSection>();
        if (image.Length < 8 || BinaryPrimitives.ReadUInt32BigEndian(image) != Magic)
        {
            return new Result(list, 0, "EMULATOR_CONTEXT does not hold a QEMU savevm (QEVM) image");
        }
        var version = BinaryPrimitives.ReadUInt32BigEndian(image[4..]);
        var at = 8;
        var noFooter = false;
        string? How() => noFooter ? "no section footers (Xen's device model writes none): each size runs to the next section header found by its shape" : null;
        while (at < image.Length && list.Count < maxSections)
        {
            var start = at;
            var type = image[at++];
            switch (type)
            {
                case Eof:
                    return new Result(list, version, at == image.Length ? How()
                        : string.Create(CultureInfo.InvariantCulture, $"{image.Length - at} bytes after QEMU_VM_EOF"));
                case Configuration:
                case VmDescription:
                {
                    if (at + 4 > image.Length)
                    {
                        return Cut(list, version, start);
                    }
                    var len = BinaryPrimitives.ReadUInt32BigEndian(image[at..]);
                    if (len > image.Length - at - 4)
                    {
                        return Cut(list, version, start);
                    }
                    var name = type == Configuration ? Text(image.Slice(at + 4, (int)len)) : "vmdescription";
                    at += 4 + (int)len;
                    list.Add(new QevmSection(recordIndex, baseOffset + start, type == Configuration ? "CONFIGURATION" : "VMDESCRIPTION", 0, name, 0, 0, at - start));
                    continue;
                }
                case Command:
                {
                    if (at + 4 > image.Length)
                    {
                        return Cut(list, version, start);
                    }
                    var len = BinaryPrimitives.ReadUInt16BigEndian(image[(at + 2)..]);
                    at += 4 + len;
                    list.Add(new QevmSection(recordIndex, baseOffset + start, "COMMAND", 0, "command", 0, 0, at - start));
                    continue;
                }
                case SectionStart or SectionFull or SectionPart or SectionEnd:
                {
                    if (at + 4 > image.Length)
                    {
                        return Cut(list, version, start);
                    }
                    var id = BinaryPrimitives.ReadUInt32BigEndian(image[at..]);
                    at += 4;
                    string name = "";
                    uint instance = 0, ver = 0;
                    if (type is SectionStart or SectionFull)
                    {
                        if (at >= image.Length || at + 1 + image[at] + 8 > image.Length)
                        {
                            return Cut(list, version, start);
                        }
                        var len = image[at];
                        name = Text(image.Slice(at + 1, len));
                        at += 1 + len;
                        instance = BinaryPrimitives.ReadUInt32BigEndian(image[at..]);
                        ver = BinaryPrimitives.ReadUInt32BigEndian(image[(at + 4)..]);
                        at += 8;
                    }
                    var end = FindFooter(image, at, id);
                    var typeName = type switch { SectionStart => "SECTION_START", SectionPart => "SECTION_PART", SectionEnd => "SECTION_END", _ => "SECTION_FULL" };
                    if (end < 0)
                    {
                        // No footer (Xen's device model writes none): the section runs to the next plausible section
                        // header, or to the final QEMU_VM_EOF byte.
                        end = FindNextHeader(image, at, id);
                        if (end < 0 && image[^1] == Eof)
                        {
                            end = image.Length - 1;
                        }
                        noFooter = true;
                    }
                    if (end < 0)
                    {
                        list.Add(new QevmSection(recordIndex, baseOffset + start, typeName, id, name, instance, ver, -1));
                        return new Result(list, version, string.Create(CultureInfo.InvariantCulture,
                            $"section {id} ('{name}') at image byte {start}: its end was not found, so its size and the sections after it are unknown"));
                    }
                    list.Add(new QevmSection(recordIndex, baseOffset + start, typeName, id, name, instance, ver, end - start));
                    at = end;
                    continue;
                }
                default:
                    return new Result(list, version, string.Create(CultureInfo.InvariantCulture, $"unknown section type 0x{type:x2} at image byte {start}"));
            }
        }
        return new Result(list, version, list.Count >= maxSections ? "more sections than listed" : "image ends without QEMU_VM_EOF");
    }

    private static Result Cut(List<QevmSection> list, uint version, int at) =>
        new(list, version, string.Create(CultureInfo.InvariantCulture, $"image cut inside a section header at byte {at}"));

    /// <summary>The offset just after section <paramref name="id"/>'s footer, when the next byte starts a section (or the image ends).</summary>
    private static int FindFooter(ReadOnlySpan<byte> image, int from, uint id)
    {
        Span<byte> pattern = stackalloc byte[5];
        pattern[0] = Footer;
        BinaryPrimitives.WriteUInt32BigEndian(pattern[1..], id);
        var at = from;
        while (at < image.Length)
        {
            var i = image[at..].IndexOf(pattern);
            if (i < 0)
            {
                return -1;
            }
            var end = at + i + 5;
            if (end == image.Length || image[end] is Eof or SectionStart or SectionPart or SectionEnd or SectionFull or Command)
            {
                return end;
            }
            at += i + 1;
        }
        return -1;
    }

    /// <summary>
    /// The next section header after <paramref name="from"/>: type FULL or START, a section id above
    /// <paramref name="id"/> (QEMU numbers sections in order) by at most 1024, a printable id string, and instance and
    /// version ids below 65536.
    /// </summary>
    private static int FindNextHeader(ReadOnlySpan<byte> image, int from, uint id)
    {
        for (var at = from; at + 14 <= image.Length; at++)
        {
            if (image[at] is not (SectionFull or SectionStart))
            {
                continue;
            }
            var next = BinaryPrimitives.ReadUInt32BigEndian(image[(at + 1)..]);
            if (next <= id || next > id + 1024)
            {
                continue;
            }
            int len = image[at + 5];
            if (len == 0 || at + 6 + len + 8 > image.Length)
            {
                continue;
            }
            var printable = true;
            foreach (var b in image.Slice(at + 6, len))
            {
                if (b is < 0x20 or > 0x7E)
                {
                    printable = false;
                    break;
                }
            }
            if (printable && BinaryPrimitives.ReadUInt32BigEndian(image[(at + 6 + len)..]) < 0x10000
                && BinaryPrimitives.ReadUInt32BigEndian(image[(at + 10 + len)..]) < 0x10000)
            {
                return at;
            }
        }
        return -1;
    }

    private static string Text(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        }
        return sb.ToString();
    }
}
