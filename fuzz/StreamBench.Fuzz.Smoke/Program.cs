using StreamBench.Fuzz.Smoke.Toy;
using StreamBench.Fuzzing;

// The smoke fuzz target. Only StreamBench.Fuzz.Smoke.Toy is instrumented (see fuzz/run-smoke.sh).
var options = new FuzzOptions().Expect<ToyFormatException>();

if (Environment.GetEnvironmentVariable("STREAMBENCH_SMOKE_TEST_HOOKS") == "1")
{
    // Test-only inputs for the fork-server tests: HANG (never returns), DIE! (uncatchable), ALOC (blows the budget).
    Fuzzer.Run(s =>
    {
        TestHooks.Apply(s);
        ToyParser.Parse(s);
    }, options);
}
else
{
    Fuzzer.Run(s => ToyParser.Parse(s), options);
}

internal static class TestHooks
{
    private static byte[]? keep;

    public static void Apply(Stream s)
    {
        Span<byte> head = stackalloc byte[4];
        var n = s.Read(head);
        s.Position = 0;
        if (n < 4)
        {
            return;
        }
        if (head.SequenceEqual("HANG"u8))
        {
            Thread.Sleep(Timeout.Infinite);
        }
        else if (head.SequenceEqual("DIE!"u8))
        {
            Environment.FailFast("test hook: DIE!");
        }
        else if (head.SequenceEqual("ALOC"u8))
        {
            keep = new byte[80 << 20];
            keep = null;
        }
    }
}
