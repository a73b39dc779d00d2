using System.Globalization;
using System.Text;

namespace Kaitai;

public partial class KaitaiStream
{
    /// <summary>The .ksy <c>%</c> operator: a modulo whose result is never negative. <paramref name="b"/> must be positive.</summary>
    public static int Mod(int a, int b)
    {
        if (b <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "the divisor of a mod operation must be greater than zero");
        }

        var r = a % b;
        return r < 0 ? r + b : r;
    }

    /// <summary>The .ksy <c>%</c> operator: a modulo whose result is never negative. <paramref name="b"/> must be positive.</summary>
    public static long Mod(long a, long b)
    {
        if (b <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "the divisor of a mod operation must be greater than zero");
        }

        var r = a % b;
        return r < 0 ? r + b : r;
    }

    /// <summary>Compares two byte arrays in lexicographical (unsigned) order: negative, zero or positive.</summary>
    public static int ByteArrayCompare(byte[] a, byte[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.AsSpan().SequenceCompareTo(b);
    }

    /// <summary>Reverses a string by text elements (grapheme clusters), for the .ksy <c>.reverse</c> method.</summary>
    public static string StringReverse(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var elements = new List<string>();
        var enumerator = StringInfo.GetTextElementEnumerator(s);
        while (enumerator.MoveNext())
        {
            elements.Add(enumerator.GetTextElement());
        }

        var sb = new StringBuilder(s.Length);
        for (var i = elements.Count - 1; i >= 0; i--)
        {
            sb.Append(elements[i]);
        }

        return sb.ToString();
    }
}
