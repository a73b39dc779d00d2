using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using StreamBench.Fuzzing.Instrument;

namespace StreamBench.Fuzz.Tests;

/// <summary>
/// The rewritten IL must be valid everywhere, not just in small samples: instrument a large real-world assembly
/// (Mono.Cecil: switches, try/filter/finally, generics, iterators, unsafe code) completely, then JIT every method.
/// </summary>
[Collection("Trace")]
public sealed class JitValidityTests
{
    [Theory]
    [InlineData("Mono.Cecil.dll")]
    [InlineData("Mono.Cecil.Rocks.dll")]
    public void FullyInstrumentedAssembly_JitsEveryMethod(string fileName)
    {
        var dir = TestFiles.NewTempDirectory("jit");
        try
        {
            var dll = TestFiles.CopyBuilt(fileName, dir);
            var result = AssemblyInstrumenter.Instrument(dll, new InstrumentOptions());
            Assert.True(result.Blocks > 100, $"only {result.Blocks} blocks");

            var context = new AssemblyLoadContext("jit-" + fileName, isCollectible: true);
            try
            {
                var assembly = context.LoadFromAssemblyPath(dll);
                var failures = new List<string>();
                var jitted = 0;
                foreach (var type in assembly.GetTypes())
                {
                    const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
                    var methods = type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
                    foreach (var method in methods)
                    {
                        if (method.IsAbstract || method.ContainsGenericParameters || method.GetMethodBody() is null)
                        {
                            continue;
                        }
                        try
                        {
                            RuntimeHelpers.PrepareMethod(method.MethodHandle);
                            jitted++;
                        }
                        catch (InvalidProgramException ex)
                        {
                            failures.Add($"{type.FullName}::{method.Name}: {ex.Message}");
                        }
                    }
                }
                Assert.Empty(failures);
                Assert.True(jitted > 50, $"only {jitted} methods jitted");
            }
            finally
            {
                context.Unload();
            }
        }
        finally
        {
            TestFiles.TryDelete(dir);
        }
    }
}
