using System.Reflection;
using System.Runtime.Loader;
using StreamBench.Fuzzing;

namespace StreamBench.Fuzz.Tests;

/// <summary>Tests that touch the process-wide coverage map run one at a time.</summary>
[CollectionDefinition("Trace", DisableParallelization = true)]
public sealed class TraceCollection
{
}

/// <summary>Instrumented code, loaded and run, writes edges into <see cref="Trace"/>'s map.</summary>
[Collection("Trace")]
public sealed class CoverageTests : IClassFixture<InstrumentedSamples>
{
    private readonly InstrumentedSamples samples;

    public CoverageTests(InstrumentedSamples samples) => this.samples = samples;

    [Fact]
    public void InstrumentedCode_WritesEdgesIntoTheMap_DeterministicallyAndPerPath()
    {
        var context = new AssemblyLoadContext("instrumented-samples", isCollectible: true);
        try
        {
            // The copy's reference to StreamBench.Fuzz.Runtime falls back to the default context: the same Trace.
            var assembly = context.LoadFromAssemblyPath(samples.InstrumentedPath);
            var classify = assembly.GetType("StreamBench.Fuzz.Tests.Samples.Branchy")!.GetMethod("Classify")!;
            Assert.False(Trace.IsAttached);

            var first = Coverage(classify, [0, 1, 2, 3]);
            Assert.True(first.Count(b => b != 0) >= 8, "too few edges: " + first.Count(b => b != 0));
            Assert.Equal(first, Coverage(classify, [0, 1, 2, 3]));

            var other = Coverage(classify, [0xFF]);
            Assert.NotEqual(first, other);

            // Loop iterations are counted: more iterations, bigger hit counts on the loop edges.
            var longer = Coverage(classify, [.. Enumerable.Repeat((byte)0, 40)]);
            Assert.True(longer.Max() > first.Max());

            // The original (uninstrumented) method leaves the map alone.
            Trace.Reset();
            Samples.Branchy.Classify([0, 1, 2, 3]);
            Assert.Equal(0, Trace.CountEdges());
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void Hit_IsTheSameEdgeUpdateAsTheProbe()
    {
        Trace.Reset();
        Trace.Hit(0x1234);
        Trace.Hit(0x0F0F);
        Assert.Equal(1, Trace.Map[0x1234]);
        Assert.Equal(1, Trace.Map[0x0F0F ^ (0x1234 >> 1)]);
        Assert.Equal(0x0F0F >> 1, Trace.PrevLocation);
        Trace.Reset();
    }

    private static byte[] Coverage(MethodInfo method, byte[] input)
    {
        Trace.Reset();
        method.Invoke(null, [input]);
        return Trace.Map.ToArray();
    }
}
