using System.Diagnostics;
using Mono.Cecil;
using Mono.Cecil.Cil;
using StreamBench.Fuzzing;
using StreamBench.Fuzzing.Instrument;
using Trace = StreamBench.Fuzzing.Trace;

namespace StreamBench.Fuzz.Tests;

/// <summary>An instrumented copy of this test assembly: only StreamBench.Fuzz.Tests.Samples (minus Excluded) gets probes.</summary>
public sealed class InstrumentedSamples : IDisposable
{
    public const string SamplesPrefix = "StreamBench.Fuzz.Tests.Samples.";

    public InstrumentedSamples()
    {
        Directory = TestFiles.NewTempDirectory("samples");
        var originalDir = Path.Combine(Directory, "original");
        System.IO.Directory.CreateDirectory(originalDir);
        OriginalPath = TestFiles.CopyBuilt("StreamBench.Fuzz.Tests.dll", originalDir);
        InstrumentedPath = Path.Combine(Directory, "StreamBench.Fuzz.Tests.dll");
        Result = AssemblyInstrumenter.Instrument(OriginalPath, NewOptions(InstrumentedPath));
    }

    public string Directory { get; }

    public string OriginalPath { get; }

    public string InstrumentedPath { get; }

    public InstrumentResult Result { get; }

    public static InstrumentOptions NewOptions(string? output)
    {
        var options = new InstrumentOptions { OutputPath = output };
        options.Include.Add(SamplesPrefix);
        options.Exclude.Add(SamplesPrefix + "Excluded");
        return options;
    }

    public void Dispose() => TestFiles.TryDelete(Directory);
}

public sealed class InstrumenterTests : IClassFixture<InstrumentedSamples>
{
    private readonly InstrumentedSamples samples;

    public InstrumenterTests(InstrumentedSamples samples) => this.samples = samples;

    [Fact]
    public void EveryBasicBlockOfTheSampleMethod_StartsWithAProbe()
    {
        using var original = ModuleDefinition.ReadModule(samples.OriginalPath);
        using var instrumented = ModuleDefinition.ReadModule(samples.InstrumentedPath);
        var before = Method(original, "Branchy", "Classify");
        var after = Method(instrumented, "Branchy", "Classify");

        var blockStarts = AssemblyInstrumenter.FindBlockStarts(before.Body);
        Assert.True(blockStarts.Count >= 12, $"the sample has only {blockStarts.Count} blocks");
        Assert.NotEmpty(before.Body.ExceptionHandlers);

        var probes = Probes(after.Body);
        Assert.Equal(blockStarts.Count, probes.Count);

        // Every block of the rewritten method (entry, branch/switch targets, fall-throughs, handler starts) is a probe.
        var probeStarts = probes.Select(p => p.Start).ToHashSet();
        var newBlockStarts = AssemblyInstrumenter.FindBlockStarts(after.Body);
        Assert.Equal(probeStarts.Count, newBlockStarts.Count);
        Assert.All(newBlockStarts, s => Assert.Contains(s, probeStarts));
        Assert.All(after.Body.ExceptionHandlers, h =>
        {
            Assert.Contains(h.TryStart, probeStarts);
            Assert.Contains(h.HandlerStart, probeStarts);
        });

        // Ids are deterministic: hash of assembly name, method token and the block's original IL offset.
        var seed = AssemblyInstrumenter.Fnv1a("StreamBench.Fuzz.Tests");
        var expected = blockStarts.Select(s => AssemblyInstrumenter.BlockId(seed, before.MetadataToken.ToInt32(), s.Offset)).ToList();
        Assert.Equal(expected, probes.Select(p => p.Id).ToList());
        Assert.All(probes, p => Assert.InRange(p.Id, 0, Trace.MapSize - 1));
    }

    [Fact]
    public void OnlyMatchingTypesAreInstrumented()
    {
        using var instrumented = ModuleDefinition.ReadModule(samples.InstrumentedPath);
        Assert.Single(Probes(Method(instrumented, "Branchy", "Straight").Body));
        Assert.Empty(Probes(Method(instrumented, "Excluded", "Pick").Body));
        var self = instrumented.GetType(typeof(InstrumenterTests).FullName);
        Assert.All(self.Methods.Where(m => m.HasBody), m => Assert.Empty(Probes(m.Body)));
        Assert.Contains("StreamBench.Fuzz.Tests.Samples.Branchy", samples.Result.Types);
        Assert.DoesNotContain("StreamBench.Fuzz.Tests.Samples.Excluded", samples.Result.Types);
        Assert.True(AssemblyInstrumenter.IsInstrumented(instrumented));
        Assert.True(samples.Result.SymbolsWritten);
        Assert.True(File.Exists(Path.ChangeExtension(samples.InstrumentedPath, ".pdb")));
    }

    [Fact]
    public void InstrumentingTwice_GivesIdenticalBytes_AndAMarkedAssemblyIsSkipped()
    {
        // Same output path (the PDB path is embedded in the PE), instrumented twice from the original.
        var dir = Path.Combine(samples.Directory, "twice");
        Directory.CreateDirectory(dir);
        var output = Path.Combine(dir, "StreamBench.Fuzz.Tests.dll");
        AssemblyInstrumenter.Instrument(samples.OriginalPath, InstrumentedSamples.NewOptions(output));
        var first = File.ReadAllBytes(output);
        var firstPdb = File.ReadAllBytes(Path.ChangeExtension(output, ".pdb"));
        AssemblyInstrumenter.Instrument(samples.OriginalPath, InstrumentedSamples.NewOptions(output));
        Assert.Equal(first, File.ReadAllBytes(output));
        Assert.Equal(firstPdb, File.ReadAllBytes(Path.ChangeExtension(output, ".pdb")));

        var again = AssemblyInstrumenter.Instrument(output, InstrumentedSamples.NewOptions(null));
        Assert.True(again.AlreadyInstrumented);
        Assert.Equal(first, File.ReadAllBytes(output));
    }

    [Fact]
    public void NoMatch_LeavesTheAssemblyUnmarked_AndTheRuntimeIsRefused()
    {
        var options = new InstrumentOptions { OutputPath = Path.Combine(samples.Directory, "nomatch.dll") };
        options.Include.Add("No.Such.Namespace");
        var result = AssemblyInstrumenter.Instrument(samples.OriginalPath, options);
        Assert.Equal(0, result.Methods);
        using (var copy = ModuleDefinition.ReadModule(options.OutputPath))
        {
            Assert.False(AssemblyInstrumenter.IsInstrumented(copy));
        }

        var runtime = TestFiles.CopyBuilt("StreamBench.Fuzz.Runtime.dll", samples.Directory);
        Assert.Throws<InvalidOperationException>(() => AssemblyInstrumenter.Instrument(runtime, new InstrumentOptions()));
    }

    [Fact]
    public void CommandLine_InstrumentsInPlace_AndIsIdempotent()
    {
        var dir = Path.Combine(samples.Directory, "cli");
        Directory.CreateDirectory(dir);
        var dll = TestFiles.CopyBuilt("StreamBench.Fuzz.Tests.dll", dir);
        var tool = Path.Combine(AppContext.BaseDirectory, "StreamBench.Fuzz.Instrument.dll");

        var (code, output) = Run(tool, "--include", InstrumentedSamples.SamplesPrefix, "-e", InstrumentedSamples.SamplesPrefix + "Excluded", dll);
        Assert.True(code == 0, output);
        Assert.Matches(@"\d+ blocks in \d+ methods of \d+ types", output);
        using (var viaCli = ModuleDefinition.ReadModule(dll))
        using (var viaApi = ModuleDefinition.ReadModule(samples.InstrumentedPath))
        {
            Assert.Equal(
                Probes(Method(viaApi, "Branchy", "Classify").Body).Select(p => p.Id),
                Probes(Method(viaCli, "Branchy", "Classify").Body).Select(p => p.Id));
        }

        (code, output) = Run(tool, "-i", InstrumentedSamples.SamplesPrefix, dll);
        Assert.Equal(0, code);
        Assert.Contains("already instrumented", output, StringComparison.Ordinal);

        (code, _) = Run(tool, "--bogus", dll);
        Assert.Equal(2, code);
    }

    internal readonly record struct Probe(Instruction Start, int Id);

    /// <summary>Finds the inlined probes: ldsfld SharedMem; ldc id; ldsfld PrevLocation; xor; conv.u; add; dup; ldind.u1; ldc.i4.1; add; stind.i1; ldc id&gt;&gt;1; stsfld PrevLocation.</summary>
    internal static List<Probe> Probes(Mono.Cecil.Cil.MethodBody body)
    {
        var ins = body.Instructions;
        var found = new List<Probe>();
        for (var i = 0; i + AssemblyInstrumenter.ProbeLength <= ins.Count; i++)
        {
            if (!IsTraceField(ins[i], OpCodes.Ldsfld, nameof(Trace.SharedMem)))
            {
                continue;
            }
            var id = LdcValue(ins[i + 1]);
            Assert.NotNull(id);
            Assert.True(IsTraceField(ins[i + 2], OpCodes.Ldsfld, nameof(Trace.PrevLocation)));
            Assert.Equal(
                new[] { OpCodes.Xor, OpCodes.Conv_U, OpCodes.Add, OpCodes.Dup, OpCodes.Ldind_U1, OpCodes.Ldc_I4_1, OpCodes.Add, OpCodes.Stind_I1 },
                ins.Skip(i + 3).Take(8).Select(x => x.OpCode).ToArray());
            Assert.Equal(id >> 1, LdcValue(ins[i + 11]));
            Assert.True(IsTraceField(ins[i + 12], OpCodes.Stsfld, nameof(Trace.PrevLocation)));
            found.Add(new Probe(ins[i], id!.Value));
        }
        return found;
    }

    private static bool IsTraceField(Instruction ins, OpCode op, string name) =>
        ins.OpCode == op && ins.Operand is FieldReference f && f.Name == name && f.DeclaringType.FullName == typeof(Trace).FullName;

    private static int? LdcValue(Instruction ins)
    {
        var code = ins.OpCode.Code;
        return code switch
        {
            Code.Ldc_I4 => (int)ins.Operand,
            Code.Ldc_I4_S => (sbyte)ins.Operand,
            >= Code.Ldc_I4_0 and <= Code.Ldc_I4_8 => code - Code.Ldc_I4_0,
            Code.Ldc_I4_M1 => -1,
            _ => null,
        };
    }

    private static MethodDefinition Method(ModuleDefinition module, string type, string name) =>
        module.GetType("StreamBench.Fuzz.Tests.Samples." + type).Methods.Single(m => m.Name == name);

    private static (int Code, string Output) Run(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        return (p.ExitCode, output + err.Result);
    }
}
