using StreamBench.Fuzz.Targets;
using StreamBench.Fuzz.Targets.Engine;

// Every target of the engine host (EngineCatalog: formats, engine, COLO, post-copy, capture) on SharpFuzz's runtime
// (instrument the copy with `dotnet sharpfuzz DLL PREFIX...`, the prefixes the engine host's --list prints). What
// SharpFuzz lacks stays ours: FuzzOptions.Guard applies the target's expected-exception rule (expected exceptions are
// swallowed, anything else escapes and is a crash) and the allocation budget (an overrun throws
// AllocationBudgetExceededException).
// SharpFuzz's probes write through SharpFuzz.Common.Trace.SharedMem, which is null until Fuzzer.*.Run attaches AFL's map;
// the catalog's static initialiser already runs instrumented code (reader and verifier options), so give the probes a
// private map first (Run replaces it).
unsafe
{
    SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
}
var name = Environment.GetEnvironmentVariable("FUZZ_TARGET");
if (Catalog.Find(EngineCatalog.All, name ?? "") is not { } target)
{
    Console.Error.WriteLine($"FUZZ_TARGET must name a target: {string.Join(", ", EngineCatalog.All.Select(t => t.Name))}");
    return 2;
}
var action = target.Options().Guard(target.StreamAction);
if (Environment.GetEnvironmentVariable("FUZZ_LIBFUZZER") == "1")
{
    SharpFuzz.Fuzzer.LibFuzzer.Run(span =>
    {
        using var stream = new MemoryStream(span.ToArray(), writable: false);
        action(stream);
    });
}
else if (args.Length > 0 && Environment.GetEnvironmentVariable("__AFL_SHM_ID") is null)
{
    // Outside afl-fuzz with files named: run each once (how ClusterFuzzLite reproduces a crash); an exception that is
    // not the target's expected kind escapes and ends the process with a non-zero exit.
    foreach (var file in args)
    {
        using var stream = new MemoryStream(File.ReadAllBytes(file), writable: false);
        action(stream);
    }
}
else
{
    SharpFuzz.Fuzzer.OutOfProcess.Run(action);
}
return 0;
