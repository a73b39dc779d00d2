using System.Diagnostics.CodeAnalysis;
using Kaitai;

namespace StreamBench.Formats.KaitaiView;

/// <summary>One public property of a generated Kaitai parser: its name and how to read it from an instance.</summary>
/// <param name="Name">The property's name.</param>
/// <param name="Get">Reads the property (a lazy instance may throw).</param>
public readonly record struct KaitaiField(string Name, Func<KaitaiStruct, object?> Get);

/// <summary>
/// The public properties of every generated Kaitai parser type, in declaration order, without <c>M_</c> internals: an
/// explicit list instead of reflection, so that the tree printer works in the NativeAOT CLI. KaitaiFields.g.cs is
/// generated from the compiled parsers by the test <c>KaitaiFieldListTests</c>, which fails when the list is stale;
/// run it with <c>STREAMBENCH_ACCEPT=1</c> after tools/codegen/generate.sh changes src/StreamBench.Presentation/Generated.
/// </summary>
public static partial class KaitaiFields
{
    /// <summary>The fields of <paramref name="type"/>, or false if the type is not a generated parser.</summary>
    public static bool TryGet(Type type, [NotNullWhen(true)] out IReadOnlyList<KaitaiField>? fields)
    {
        if (ByType.TryGetValue(type, out var list))
        {
            fields = list;
            return true;
        }
        fields = null;
        return false;
    }

    /// <summary>Every type the list covers.</summary>
    public static IEnumerable<Type> Types => ByType.Keys;
}
