using StreamBench.Fuzzing;

namespace StreamBench.Fuzz.Targets;

/// <summary>One fuzz target: an entry point, what counts as expected, and how to fuzz it.</summary>
/// <param name="Name">The name FUZZ_TARGET / --target selects.</param>
/// <param name="Description">One line for --list and the docs.</param>
/// <param name="Action">Runs the entry point over the whole input.</param>
/// <param name="Expected">Declares the expected exceptions (nothing declared: every exception is a crash).</param>
/// <param name="Instrument">Type-name prefixes to instrument (passed to StreamBench.Fuzz.Instrument --include).</param>
/// <param name="Assemblies">Assemblies (file names in the build output) to instrument.</param>
/// <param name="Seeds">The seed family (subfolder of the generated seeds) the campaign starts from.</param>
/// <param name="Dictionaries">Dictionaries (fuzz/dictionaries/NAME.dict) passed to afl-fuzz with -x.</param>
/// <param name="OutOfProcess">Whether the campaign runs it out of process (worth it only for code that may hang).</param>
public sealed record FuzzTarget(
    string Name,
    string Description,
    Action<ReadOnlyMemory<byte>> Action,
    Action<FuzzOptions> Expected,
    string[] Instrument,
    string[] Assemblies,
    string Seeds,
    string[] Dictionaries,
    bool OutOfProcess = false)
{
    /// <summary>The options the fork server classifies with.</summary>
    public FuzzOptions Options()
    {
        var options = new FuzzOptions();
        Expected(options);
        return options;
    }

    /// <summary>The action as the runtime takes it (the input without a copy).</summary>
    public Action<Stream> StreamAction => s => Action(s is FuzzInputStream f ? f.Data : ReadAll(s));

    private static byte[] ReadAll(Stream s)
    {
        using var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }
}
