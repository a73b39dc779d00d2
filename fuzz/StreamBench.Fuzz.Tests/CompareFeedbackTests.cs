using System.Reflection;
using System.Runtime.Loader;
using StreamBench.Fuzzing;
using StreamBench.Fuzzing.Instrument;

namespace StreamBench.Fuzz.Tests;

/// <summary>Comparison feedback (instrumenter --cmp) and the comparison-constant dictionary (--dict).</summary>
[Collection("Trace")]
public sealed class CompareFeedbackTests : IDisposable
{
    private readonly string directory = TestFiles.NewTempDirectory("cmp");

    public void Dispose() => TestFiles.TryDelete(directory);

    [Fact]
    public void EveryEqualByteOfAMultiByteConstantIsNewCoverage_AndTheResultIsUnchanged()
    {
        var (result, constants, path) = Instrument();
        Assert.Equal(2, result.Compares);
        Assert.Contains("\"\\x86\\x12\\x38\\x54\"", constants);   // 0x54381286, little-endian
        Assert.Contains("\"\\x54\\x38\\x12\\x86\"", constants);   // and big-endian
        Assert.Contains("\"\\x88\\x77\\x66\\x55\\x44\\x33\\x22\\x11\"", constants);
        // The single bytes of a nested one-byte comparison are tokens too; constants under 0x10 are not.
        Assert.Contains("\"\\x5a\"", constants);
        Assert.Contains("\"\\x7e\"", constants);
        Assert.DoesNotContain("\"\\x03\"", constants);

        var context = new AssemblyLoadContext("cmp-samples", isCollectible: true);
        try
        {
            var type = context.LoadFromAssemblyPath(path).GetType("StreamBench.Fuzz.Tests.CmpSamples.Magic")!;
            var check4 = type.GetMethod("Check4")!;
            byte[] magic = [0x86, 0x12, 0x38, 0x54];
            var maps = new List<byte[]>();
            for (var right = 0; right <= 4; right++)
            {
                var input = new byte[4];
                magic.AsSpan(0, right).CopyTo(input);
                for (var i = right; i < 4; i++)
                {
                    input[i] = (byte)~magic[i];
                }
                var (value, map) = Run(check4, input);
                Assert.Equal(right == 4 ? 1 : 0, value);
                maps.Add(map);
            }
            // 0, 1, 2, 3 right bytes: four different maps (plain edge coverage gives the same map for all four).
            Assert.Equal(4, maps.Take(4).Select(Convert.ToHexString).Distinct().Count());
            Assert.NotEqual(maps[3], maps[4]);

            var check8 = type.GetMethod("Check8")!;
            var (v0, m0) = Run(check8, new byte[8]);
            var (v5, m5) = Run(check8, [0x88, 0x77, 0x66, 0x55, 0x44, 0, 0, 0]);
            var (v8, _) = Run(check8, [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
            Assert.Equal([false, false, true], new[] { (bool)v0!, (bool)v5!, (bool)v8! });
            Assert.NotEqual(m0, m5);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void WithoutCompareFeedback_NoHintIsInserted_ButTheConstantsAreStillCollected()
    {
        var (result, constants, _) = Instrument(compareFeedback: false);
        Assert.Equal(0, result.Compares);
        Assert.Contains("\"\\x86\\x12\\x38\\x54\"", constants);
    }

    private (InstrumentResult Result, ISet<string> Constants, string Path) Instrument(bool compareFeedback = true)
    {
        var original = Path.Combine(directory, "original");
        Directory.CreateDirectory(original);
        var source = TestFiles.CopyBuilt("StreamBench.Fuzz.Tests.dll", original);
        var output = Path.Combine(directory, compareFeedback ? "cmp" : "plain");
        Directory.CreateDirectory(output);
        var options = new InstrumentOptions
        {
            OutputPath = Path.Combine(output, "StreamBench.Fuzz.Tests.dll"),
            CompareFeedback = compareFeedback,
            CompareConstants = new SortedSet<string>(StringComparer.Ordinal),
        };
        options.Include.Add("StreamBench.Fuzz.Tests.CmpSamples.");
        var result = AssemblyInstrumenter.Instrument(source, options);
        return (result, options.CompareConstants, options.OutputPath);
    }

    private static (object? Value, byte[] Map) Run(MethodInfo method, byte[] input)
    {
        Trace.Reset();
        var value = method.Invoke(null, [input]);
        return (value, Trace.Map.ToArray());
    }
}
