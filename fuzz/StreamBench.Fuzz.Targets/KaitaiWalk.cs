using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Kaitai;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// Evaluates every public property of a parsed Kaitai tree (the generated parsers compute <c>instances:</c> lazily,
/// so parsing alone leaves them untested), recursing into child structures and lists. An exception thrown by a
/// property is rethrown as itself, so the target's expected-exception rules apply to it.
/// </summary>
internal static class KaitaiWalk
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    /// <summary>Walks <paramref name="root"/>; returns the number of values visited.</summary>
    public static long Walk(KaitaiStruct root)
    {
        long visited = 0;
        Visit(root, ref visited, 0);
        return visited;
    }

    private static PropertyInfo[] Of(Type type) => Properties.GetOrAdd(type, static t => t
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetIndexParameters().Length == 0 && !p.Name.StartsWith("M_", StringComparison.Ordinal)
            && p.PropertyType != typeof(KaitaiStream))
        .OrderBy(p => p.MetadataToken)
        .ToArray());

    private static void Visit(KaitaiStruct node, ref long visited, int depth)
    {
        if (depth > 64)
        {
            throw new InvalidOperationException("Kaitai tree deeper than 64 levels");
        }
        foreach (var property in Of(node.GetType()))
        {
            object? value;
            try
            {
                value = property.GetValue(node);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
            visited++;
            switch (value)
            {
                case KaitaiStruct child:
                    Visit(child, ref visited, depth + 1);
                    break;
                case byte[] or string or null:
                    break;
                case IEnumerable list:
                    foreach (var item in list)
                    {
                        visited++;
                        if (item is KaitaiStruct s)
                        {
                            Visit(s, ref visited, depth + 1);
                        }
                    }
                    break;
            }
        }
    }
}
