using System.Globalization;

namespace StreamBench.Tests.Kaitai;

/// <summary>One value of a .ksy enum.</summary>
internal readonly record struct KsyEnumValue(long Value, string Id);

/// <summary>
/// Reads the top-level <c>enums:</c> section of a .ksy file: just enough YAML for the two forms Kaitai allows
/// there (<c>0x01: page_data</c> and <c>0x01:</c> followed by an indented <c>id: page_data</c>, with doc,
/// -orig-id and block scalars ignored). No YAML package is available to the tests, and the enum section is
/// regular enough that a strict little reader is safer than a general one: anything it does not understand
/// throws instead of being skipped.
/// </summary>
internal static class KsyEnumReader
{
    /// <summary>Locates the repository's ksy/ directory from the test binaries.</summary>
    public static string KsyDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "ksy");
            if (File.Exists(Path.Combine(candidate, "libxc_stream.ksy")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"no ksy/ directory above {AppContext.BaseDirectory}");
    }

    /// <summary>The enums of <paramref name="ksyFile"/> (a name in ksy/), by enum name, in file order.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<KsyEnumValue>> ReadFile(string ksyFile) =>
        Read(File.ReadAllText(Path.Combine(KsyDirectory(), ksyFile)), ksyFile);

    /// <summary>The enums in <paramref name="ksyText"/>.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<KsyEnumValue>> Read(string ksyText, string source = "ksy")
    {
        var lines = ksyText.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var result = new Dictionary<string, IReadOnlyList<KsyEnumValue>>(StringComparer.Ordinal);
        var start = Array.FindIndex(lines, l => l.TrimEnd() == "enums:");
        if (start < 0)
        {
            return result;
        }

        List<KsyEnumValue>? current = null;
        string? currentName = null;
        int enumIndent = -1, valueIndent = -1, childIndent = -1;
        string? pendingKey = null;
        var pendingLine = 0;

        void Finish(int lineNo)
        {
            if (pendingKey is not null)
            {
                throw new FormatException($"{source}:{pendingLine}: enum {currentName} value {pendingKey} has no id (before line {lineNo})");
            }
        }

        for (var i = start + 1; i < lines.Length; i++)
        {
            var raw = StripComment(lines[i]);
            if (raw.Trim().Length == 0)
            {
                continue;
            }

            var indent = raw.Length - raw.TrimStart(' ').Length;
            var text = raw.Trim();
            if (indent == 0)
            {
                break; // the next top-level key
            }

            if (enumIndent < 0)
            {
                enumIndent = indent;
            }

            if (indent == enumIndent)
            {
                Finish(i + 1);
                (currentName, var after) = KeyOf(text, source, i + 1);
                if (after.Length != 0)
                {
                    throw new FormatException($"{source}:{i + 1}: expected '{currentName}:' alone on its line");
                }

                current = [];
                if (!result.TryAdd(currentName, current))
                {
                    throw new FormatException($"{source}:{i + 1}: enum {currentName} declared twice");
                }

                valueIndent = -1;
                continue;
            }

            if (current is null || indent < enumIndent)
            {
                throw new FormatException($"{source}:{i + 1}: unexpected indentation");
            }

            if (valueIndent < 0)
            {
                valueIndent = indent;
            }

            if (indent == valueIndent)
            {
                Finish(i + 1);
                var (key, rest) = KeyOf(text, source, i + 1);
                if (rest.Length > 0)
                {
                    Add(current, ParseKey(key, source, i + 1), Unquote(rest), currentName!, source, i + 1);
                }
                else
                {
                    pendingKey = key;
                    pendingLine = i + 1;
                    childIndent = -1;
                }

                continue;
            }

            if (indent < valueIndent)
            {
                throw new FormatException($"{source}:{i + 1}: unexpected indentation");
            }

            // A line inside a verbose value: only "id:" at the first child level matters.
            if (childIndent < 0)
            {
                childIndent = indent;
            }

            if (indent == childIndent && pendingKey is not null && text.StartsWith("id:", StringComparison.Ordinal))
            {
                Add(current, ParseKey(pendingKey, source, pendingLine), Unquote(text[3..].Trim()), currentName!, source, i + 1);
                pendingKey = null;
            }
        }

        Finish(lines.Length);
        return result;
    }

    /// <summary>ksy snake_case to the C# name: each '_'-separated part capitalised (x86_pv_info → X86PvInfo).</summary>
    public static string PascalCase(string snake) =>
        string.Concat(snake.Split('_').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));

    private static void Add(List<KsyEnumValue> values, long value, string id, string enumName, string source, int line)
    {
        if (values.Any(v => v.Value == value))
        {
            throw new FormatException($"{source}:{line}: enum {enumName} repeats value {value}");
        }

        if (id.Length == 0 || !id.All(c => c == '_' || char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            throw new FormatException($"{source}:{line}: enum {enumName} id '{id}' is not snake_case");
        }

        values.Add(new KsyEnumValue(value, id));
    }

    /// <summary>Splits "key: rest" into the (unquoted) key and the trimmed rest.</summary>
    private static (string Key, string After) KeyOf(string text, string source, int line)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new FormatException($"{source}:{line}: expected 'key:' in '{text}'");
        }

        return (Unquote(text[..colon].Trim()), text[(colon + 1)..].Trim());
    }

    private static long ParseKey(string key, string source, int line)
    {
        var negative = key.StartsWith('-');
        var digits = negative ? key[1..] : key;
        long value;
        var ok = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(digits[2..].Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : long.TryParse(digits.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok)
        {
            throw new FormatException($"{source}:{line}: enum key '{key}' is not an integer");
        }

        return negative ? -value : value;
    }

    private static string Unquote(string s) =>
        s.Length >= 2 && ((s[0] == '\'' && s[^1] == '\'') || (s[0] == '"' && s[^1] == '"')) ? s[1..^1] : s;

    private static string StripComment(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '\'' or '"' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == ':'))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || line[i - 1] == ' '))
            {
                return line[..i];
            }
        }

        return line;
    }
}
