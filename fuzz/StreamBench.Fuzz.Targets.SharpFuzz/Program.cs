using StreamBench.Fuzz.Targets;

// The formats targets on SharpFuzz's runtime (instrument the copy with `dotnet sharpfuzz DLL PREFIX...`, the prefixes
// the formats host's --list prints). What SharpFuzz lacks stays ours: FuzzOptions.Guard applies the target's
// expected-exception rule (expected exceptions are swallowed, anything else escapes and is a crash) and the
// allocation budget (an overrun throws AllocationBudgetExceededException).
// SharpFuzz's probes write through SharpFuzz.Common.Trace.SharedMem, which is null until Fuzzer.*.Run attaches AFL's map;
// the catalog's static initialiser already runs instrumented code (reader and verifier options), so give the probes a
// private map first (Run replaces it).
unsafe
{
    SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
}
var name = Environment.GetEnvironmentVariable("FUZZ_TARGET");
if (Catalog.Find(Catalog.All, name ?? "") is not { } target)
{
    Console.Error.WriteLine($"FUZZ_TARGET must name a target: {string.Join(", ", Catalog.All.Select(t => t.Name))}");
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
else
{
    SharpFuzz.Fuzzer.OutOfProcess.Run(action);
}
return 0;
