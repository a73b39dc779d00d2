using System.Collections;
using System.Globalization;
using System.Text;
using Kaitai;

namespace StreamBench.Formats.KaitaiView;

/// <summary>
/// Prints a parsed Kaitai object tree (what <c>streambench dump --kaitai</c> shows): every public property the
/// generated parser exposes, nested, in declaration order, with integers in decimal and hex, enums by name and
/// byte arrays as their length and first bytes. The properties come from <see cref="KaitaiFields"/>, an explicit
/// accessor list (no reflection, so the native CLI needs no metadata), which a test regenerates and checks against
/// the generated parsers.
/// </summary>
public static class KaitaiTreePrinter
{
    /// <summary>The most list elements printed per list; the rest are counted.</summary>
    public const int DefaultMaxItems = 64;

    /// <summary>Writes the tree of <paramref name="root"/> to <paramref name="output"/>.</summary>
    public static void Print(KaitaiStruct root, TextWriter output, int maxItems = DefaultMaxItems, int bytesShown = 16)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(root.GetType().Name);
        PrintStruct(root, output, 1, maxItems, bytesShown, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    /// <summary>The tree as a string.</summary>
    public static string ToText(KaitaiStruct root, int maxItems = DefaultMaxItems)
    {
        using var sw = new StringWriter(CultureInfo.InvariantCulture);
        Print(root, sw, maxItems);
        return sw.ToString();
    }

    private static void PrintStruct(KaitaiStruct node, TextWriter output, int depth, int maxItems, int bytesShown, HashSet<object> seen)
    {
        if (!seen.Add(node))
        {
            return;
        }
        PrintFields(node, output, depth, maxItems, bytesShown, seen, custom: null);
    }

    /// <summary>
    /// The fields of <paramref name="node"/> at <paramref name="depth"/>, in <see cref="KaitaiFields"/> order; a field
    /// for which <paramref name="custom"/> returns true is left to it (the streaming dump prints its record lists so).
    /// </summary>
    internal static void PrintFields(KaitaiStruct node, TextWriter output, int depth, int maxItems, int bytesShown, HashSet<object> seen, Func<string, bool>? custom)
    {
        if (!KaitaiFields.TryGet(node.GetType(), out var fields))
        {
            Line(output, depth, "<fields>", "<" + node.GetType().FullName + " has no entry in KaitaiFields.g.cs: regenerate it (STREAMBENCH_ACCEPT=1, KaitaiFieldListTests)>");
            return;
        }
        foreach (var field in fields)
        {
            if (custom is not null && custom(field.Name))
            {
                continue;
            }
            object? value;
            try
            {
                value = field.Get(node);
            }
            catch (Exception e)
            {
                // A lazy instance that cannot be computed on this input: show why instead of failing the dump.
                Line(output, depth, field.Name, "<" + e.GetType().Name + ": " + e.Message + ">");
                continue;
            }
            PrintValue(field.Name, value, output, depth, maxItems, bytesShown, seen);
        }
    }

    internal static void PrintValue(string name, object? value, TextWriter output, int depth, int maxItems, int bytesShown, HashSet<object> seen)
    {
        switch (value)
        {
            case null:
                return;
            case KaitaiStruct child:
                Line(output, depth, name, child.GetType().Name);
                PrintStruct(child, output, depth + 1, maxItems, bytesShown, seen);
                return;
            case byte[] bytes:
                Line(output, depth, name, Bytes(bytes, bytesShown));
                return;
            case string text:
                Line(output, depth, name, Quote(text));
                return;
            case IList list:
                Line(output, depth, name, string.Create(CultureInfo.InvariantCulture, $"[{list.Count}]"));
                for (var i = 0; i < list.Count && i < maxItems; i++)
                {
                    PrintValue(string.Create(CultureInfo.InvariantCulture, $"[{i}]"), list[i], output, depth + 1, maxItems, bytesShown, seen);
                }
                if (list.Count > maxItems)
                {
                    Line(output, depth + 1, "...", string.Create(CultureInfo.InvariantCulture, $"{list.Count - maxItems} more"));
                }
                return;
            default:
                Line(output, depth, name, Scalar(value));
                return;
        }
    }

    /// <summary>A scalar the way the tree shows it: integers as "decimal (0xhex)", enums by name.</summary>
    public static string Scalar(object value) => value switch
    {
        Enum e => Enum.IsDefined(e.GetType(), e) ? e.ToString() : string.Create(CultureInfo.InvariantCulture, $"{Convert.ToUInt64(e, CultureInfo.InvariantCulture)} (unknown)"),
        bool b => b ? "true" : "false",
        byte or sbyte or short or ushort or int or uint or long or ulong => Integer(value),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Integer(object value)
    {
        var asLong = Convert.ToInt64(value is ulong u ? unchecked((long)u) : value, CultureInfo.InvariantCulture);
        if (value is ulong ul)
        {
            return ul < 10 ? ul.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{ul} (0x{ul:x})");
        }
        return asLong is >= 0 and < 10 ? asLong.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{asLong} (0x{asLong:x})");
    }

    private static string Bytes(byte[] bytes, int shown) => Bytes(bytes.Length, bytes, shown);

    /// <summary>A byte array of <paramref name="length"/> bytes that starts with <paramref name="head"/> (at least <paramref name="shown"/> bytes of it, or all), as the tree shows it.</summary>
    internal static string Bytes(long length, ReadOnlySpan<byte> head, int shown)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{length} bytes");
        if (length > 0)
        {
            sb.Append(": ").Append(Convert.ToHexStringLower(head[..(int)Math.Min(shown, Math.Min(length, head.Length))]));
            if (length > shown)
            {
                sb.Append("...");
            }
        }
        return sb.ToString();
    }

    private static string Quote(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text.Length > 200 ? text[..200] : text)
        {
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\0' => "\\0",
                '"' => "\\\"",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => c.ToString(),
            });
        }
        return sb.Append(text.Length > 200 ? "\"..." : "\"").ToString();
    }

    internal static void Line(TextWriter output, int depth, string name, string value)
    {
        output.Write(new string(' ', depth * 2));
        output.Write(name);
        output.Write(": ");
        output.WriteLine(value);
    }
}
