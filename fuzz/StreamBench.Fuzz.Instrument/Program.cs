using StreamBench.Fuzzing.Instrument;

const string Usage = """
    usage: StreamBench.Fuzz.Instrument [options] <assembly.dll>...

    Inserts AFL edge-coverage probes (StreamBench.Fuzzing.Trace) at every basic block of the matching types.
    Rewrites each assembly in place unless --output is given. Already instrumented assemblies are skipped.

      -i, --include PREFIX   instrument only types whose full name starts with PREFIX (repeatable; default all)
      -e, --exclude PREFIX   never instrument types whose full name starts with PREFIX (repeatable; wins)
      -o, --output PATH      write the result to PATH (one input assembly only)
          --cmp              comparison feedback: a map slot per equal byte of every multi-byte constant comparison
          --dict FILE        write the constants the instrumented code compares against (one-byte ones from 0x10, multi-byte ones
                             both byte orders) as an AFL dictionary
          --no-symbols       neither read nor write the PDB
          --allow-empty      do not fail when no method matched the filters
      -v, --verbose          list the instrumented types
      -h, --help             this text
    """;

var options = new InstrumentOptions();
var inputs = new List<string>();
var verbose = false;
var allowEmpty = false;
string? dictPath = null;
for (var i = 0; i < args.Length; i++)
{
    var a = args[i];
    string Value()
    {
        if (i + 1 >= args.Length)
        {
            Console.Error.WriteLine($"error: {a} needs a value");
            Environment.Exit(2);
        }
        return args[++i];
    }
    switch (a)
    {
        case "-i" or "--include":
            options.Include.Add(Value());
            break;
        case "-e" or "--exclude":
            options.Exclude.Add(Value());
            break;
        case "-o" or "--output":
            options.OutputPath = Value();
            break;
        case "--cmp":
            options.CompareFeedback = true;
            break;
        case "--dict":
            dictPath = Value();
            options.CompareConstants = new SortedSet<string>(StringComparer.Ordinal);
            break;
        case "--no-symbols":
            options.Symbols = false;
            break;
        case "--allow-empty":
            allowEmpty = true;
            break;
        case "-v" or "--verbose":
            verbose = true;
            break;
        case "-h" or "--help":
            Console.WriteLine(Usage);
            return 0;
        default:
            if (a.StartsWith('-'))
            {
                Console.Error.WriteLine($"error: unknown option {a}\n{Usage}");
                return 2;
            }
            inputs.Add(a);
            break;
    }
}
if (inputs.Count == 0 || (options.OutputPath is not null && inputs.Count > 1))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var failed = false;
foreach (var input in inputs)
{
    try
    {
        var result = AssemblyInstrumenter.Instrument(input, options);
        if (result.AlreadyInstrumented)
        {
            Console.WriteLine($"{input}: already instrumented, left as is");
            continue;
        }
        Console.WriteLine($"{input}: {result.Blocks} blocks{(options.CompareFeedback ? $", {result.Compares} comparisons" : "")} in {result.Methods} methods of {result.Types.Count} types -> {result.OutputPath}{(result.SymbolsWritten ? " (+pdb)" : "")}");
        if (verbose)
        {
            foreach (var t in result.Types)
            {
                Console.WriteLine("  " + t);
            }
        }
        if (result.Methods == 0 && !allowEmpty)
        {
            Console.Error.WriteLine($"error: {input}: no method matched the include/exclude filters (use --allow-empty if that is intended)");
            failed = true;
        }
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException)
    {
        Console.Error.WriteLine($"error: {input}: {ex.Message}");
        failed = true;
    }
}
if (dictPath is not null && options.CompareConstants is { } constants)
{
    // AFL dictionary: one name="bytes" line per token (afl-fuzz -x).
    File.WriteAllLines(dictPath, constants.Select((t, i) => $"cmp_{i}={t}"));
    Console.WriteLine($"{dictPath}: {constants.Count} comparison constants");
}
return failed ? 1 : 0;
