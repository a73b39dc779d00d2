using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace StreamBench.Fuzzing;

/// <summary>
/// The AFL edge-coverage state that instrumented code writes into (the counterpart of SharpFuzz's
/// <c>SharpFuzz.Common.Trace</c>). StreamBench.Fuzz.Instrument inlines, at the start of every basic block,
/// <c>SharedMem[cur ^ PrevLocation]++; PrevLocation = cur &gt;&gt; 1;</c> with <c>cur</c> a compile-time id in
/// [0, <see cref="MapSize"/>), loading these two fields directly. Their names and types are part of the
/// instrumentation contract: do not rename them.
/// </summary>
/// <remarks>
/// Until the fuzzer attaches AFL's shared memory, <see cref="SharedMem"/> points at a private zeroed buffer of
/// <see cref="MapSize"/> bytes, so instrumented code can always run (tests, reproduction, plain use).
/// </remarks>
[SuppressMessage("Usage", "CA2211:Non-constant fields should not be visible", Justification = "Instrumented IL loads these fields directly (ldsfld/stsfld); a property would cost a call per basic block.")]
public static unsafe class Trace
{
    /// <summary>Size of the coverage map in bytes (AFL's classic <c>MAP_SIZE</c>, 2^16). Block ids are below this.</summary>
    public const int MapSize = 1 << 16;

    /// <summary>The coverage map: AFL's shared memory once attached, a private buffer before.</summary>
    public static byte* SharedMem = (byte*)NativeMemory.AllocZeroed(MapSize);

    /// <summary>The previous block's id shifted right by one (AFL's <c>__afl_prev_loc</c>).</summary>
    public static int PrevLocation;

    private static readonly byte* PrivateMap = SharedMem;

    /// <summary>The current coverage map as a span (for tests and tools; instrumented code does not use it).</summary>
    public static Span<byte> Map => new(SharedMem, MapSize);

    /// <summary>Whether <see cref="SharedMem"/> is AFL's shared memory rather than the private buffer.</summary>
    public static bool IsAttached => SharedMem != PrivateMap;

    /// <summary>Zeroes the map and the previous location (what afl-fuzz does before each execution).</summary>
    public static void Reset()
    {
        Map.Clear();
        PrevLocation = 0;
    }

    /// <summary>Counts the non-zero bytes of the map (the number of distinct edges hit, modulo collisions).</summary>
    public static int CountEdges()
    {
        var map = Map;
        var n = 0;
        foreach (var b in map)
        {
            if (b != 0)
            {
                n++;
            }
        }
        return n;
    }

    /// <summary>The same edge update as the inlined snippet, as a call (for hand-written probes and tests).</summary>
    public static void Hit(int location)
    {
        SharedMem[(location ^ PrevLocation) & (MapSize - 1)]++;
        PrevLocation = (location & (MapSize - 1)) >> 1;
    }

    /// <summary>
    /// Comparison feedback (instrumenter <c>--cmp</c>): called before <c>a == b</c> with a 4-byte constant b; marks slot
    /// <paramref name="id"/> + k for k equal bytes (1-3), so each byte that becomes right is new coverage.
    /// </summary>
    public static void Cmp4(int a, int b, int id)
    {
        var x = (uint)(a ^ b);
        if (x == 0)
        {
            return; // equal: the branch's own edge says so
        }
        var k = ((x & 0xFF) == 0 ? 1 : 0) + ((x & 0xFF00) == 0 ? 1 : 0) + ((x & 0xFF0000) == 0 ? 1 : 0) + ((x & 0xFF000000) == 0 ? 1 : 0);
        if (k != 0)
        {
            SharedMem[(id + k) & (MapSize - 1)]++;
        }
    }

    /// <summary>The 8-byte <see cref="Cmp4"/>: slot <paramref name="id"/> + k for k equal bytes (1-7).</summary>
    public static void Cmp8(long a, long b, int id)
    {
        var x = (ulong)(a ^ b);
        if (x == 0)
        {
            return;
        }
        var k = 0;
        for (var i = 0; i < 8; i++, x >>= 8)
        {
            k += (x & 0xFF) == 0 ? 1 : 0;
        }
        if (k != 0)
        {
            SharedMem[(id + k) & (MapSize - 1)]++;
        }
    }

    internal static void Attach(byte* map)
    {
        SharedMem = map;
        PrevLocation = 0;
    }
}
