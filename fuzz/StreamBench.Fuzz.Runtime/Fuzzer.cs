using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace StreamBench.Fuzzing;

/// <summary>A target that takes the input as a span (SharpFuzz's <c>ReadOnlySpanAction</c>).</summary>
public delegate void ReadOnlySpanAction(ReadOnlySpan<byte> data);

/// <summary>
/// The AFL++ fork server for .NET, in SharpFuzz's model (<c>SharpFuzz.Fuzzer.Run</c>). .NET cannot fork, so the
/// "fork server" runs every test case in this one process (persistent mode) — or, with
/// <see cref="OutOfProcess"/>, in one long-lived worker process that is replaced when it dies or hangs.
/// </summary>
/// <remarks>
/// <para>Modes, chosen from the environment:</para>
/// <list type="bullet">
/// <item><c>__AFL_SHM_ID</c> unset: standalone reproduction. Each command-line argument is an input file (a directory
/// means every file in it); without arguments the input is stdin. Each input runs once, the outcome is printed to
/// stderr, and <see cref="Environment.ExitCode"/> becomes 1 if any input failed.</item>
/// <item><c>__AFL_SHM_ID</c> set and fds 198/199 open: fork server. The input is read from stdin (afl-fuzz's default)
/// or, when a command-line argument is given (afl-fuzz's <c>@@</c>), from that path, for every execution.</item>
/// <item><c>__AFL_SHM_ID</c> set, no fork-server fds (<c>AFL_NO_FORKSRV=1</c>): one run, coverage into the map, a
/// failure ends the process with SIGABRT.</item>
/// </list>
/// <para><c>STREAMBENCH_FUZZ_OUT_OF_PROCESS=1</c> makes <see cref="Run(Action{Stream}, FuzzOptions?)"/> behave like
/// <see cref="OutOfProcess.Run(Action{Stream}, FuzzOptions?)"/>. <c>STREAMBENCH_FUZZ_LEGACY_HELLO=1</c> sends the
/// plain 4-zero-byte hello instead of announcing the map size.</para>
/// </remarks>
public static partial class Fuzzer
{
    /// <summary>afl-fuzz's control pipe (it writes 4 bytes per requested execution).</summary>
    public const int ControlFd = 198;

    /// <summary>afl-fuzz's status pipe (hello, then child pid and wait status per execution).</summary>
    public const int StatusFd = 199;

    internal const string ShmVariable = "__AFL_SHM_ID";
    internal const string OutOfProcessVariable = "STREAMBENCH_FUZZ_OUT_OF_PROCESS";
    internal const string LegacyHelloVariable = "STREAMBENCH_FUZZ_LEGACY_HELLO";

    // AFL++ forkserver option bits (include/types.h): "options enabled" + "map size follows".
    private const uint FsOptEnabled = 0x80000001;
    private const uint FsOptMapSize = 0x40000000;

    /// <summary>
    /// The 4-byte hello: by default <c>FS_OPT_ENABLED | FS_OPT_MAPSIZE | FS_OPT_SET_MAPSIZE(65536)</c>, which makes
    /// afl-fuzz use a 64 KiB map (or stop with a clear message when its map is smaller); 0 in legacy mode.
    /// </summary>
    internal static int HelloValue(bool legacy) =>
        legacy ? 0 : unchecked((int)(FsOptEnabled | FsOptMapSize | ((uint)(Trace.MapSize - 1) << 1)));

    /// <summary>
    /// Runs <paramref name="action"/> under afl-fuzz (or once, standalone). Any exception escaping it is a crash.
    /// Never returns under afl-fuzz.
    /// </summary>
    public static void Run(Action<Stream> action) => Run(action, null);

    /// <summary>
    /// Runs <paramref name="action"/> under afl-fuzz (or once per input, standalone), classifying each execution
    /// with <paramref name="options"/>: exceptions declared expected are fine, every other exception and every
    /// budget overrun is a crash. Never returns under afl-fuzz.
    /// </summary>
    public static void Run(Action<Stream> action, FuzzOptions? options)
    {
        ArgumentNullException.ThrowIfNull(action);
        Dispatch(action, options, IsSet(OutOfProcessVariable));
    }

    /// <summary>Span flavour of <see cref="Run(Action{Stream}, FuzzOptions?)"/>; the span is the whole input, not copied.</summary>
    public static void Run(ReadOnlySpanAction action, FuzzOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run(AsStreamAction(action), options);
    }

    /// <summary>Runs <paramref name="action"/> once on <paramref name="input"/> and classifies the result (no AFL involved).</summary>
    public static FuzzResult Execute(Action<Stream> action, ReadOnlySpan<byte> input, FuzzOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return new Executor(action, (options ?? new FuzzOptions()).WithEnvironmentOverrides()).Execute(input);
    }

    internal static Action<Stream> AsStreamAction(ReadOnlySpanAction action) =>
        s => action(((FuzzInputStream)s).Data.Span);

    private static void Dispatch(Action<Stream> action, FuzzOptions? options, bool outOfProcess)
    {
        var effective = (options ?? new FuzzOptions()).WithEnvironmentOverrides();
        var worker = Environment.GetEnvironmentVariable(OutOfProcess.WorkerVariable);
        if (!TryGetShmId(out var shmId))
        {
            RunStandalone(new Executor(action, effective));
            return;
        }
        if (worker is not null)
        {
            OutOfProcess.RunWorker(new Executor(action, effective), shmId, worker);
            return;
        }
        if (!Native.IsOpen(ControlFd) || !Native.IsOpen(StatusFd))
        {
            RunOnceWithoutForkServer(new Executor(action, effective), shmId);
            return;
        }
        if (outOfProcess)
        {
            OutOfProcess.Serve();
        }
        else
        {
            ServeInProcess(new Executor(action, effective), shmId);
        }
    }

    /// <summary>The in-process (persistent) fork server loop.</summary>
    private static unsafe void ServeInProcess(Executor executor, int shmId)
    {
        AttachSharedMemory(shmId);
        var input = InputPath();
        if (!Native.WriteInt32(StatusFd, HelloValue(IsSet(LegacyHelloVariable))))
        {
            return;
        }
        var pid = Environment.ProcessId;
        var first = executor.Options.WarmUp;
        var verbose = ChildOutputVisible();
        fixed (byte* path = input)
        {
            while (Native.ReadInt32(ControlFd, out _))
            {
                if (first)
                {
                    // Static constructors and first-call paths run once; keep them out of the reported trace.
                    first = false;
                    _ = RunOne(executor, path);
                    Trace.Map.Clear();
                }
                if (!Native.WriteInt32(StatusFd, pid))
                {
                    return;
                }
                var result = RunOne(executor, path);
                if (verbose && result.IsFailure)
                {
                    Report(result, "afl input");
                }
                if (!Native.WriteInt32(StatusFd, result.WaitStatus))
                {
                    return;
                }
            }
        }
    }

    internal static unsafe FuzzResult RunOne(Executor executor, byte* path) =>
        path is null ? executor.ExecuteFromFile(0) : executor.ExecuteFromPath(path);

    /// <summary>The NUL-terminated UTF-8 path of the input file when the target got one (afl-fuzz <c>@@</c>), else null (stdin).</summary>
    internal static byte[]? InputPath()
    {
        var args = Environment.GetCommandLineArgs();
        if (args.Length < 2 || string.IsNullOrEmpty(args[1]))
        {
            return null;
        }
        var bytes = Encoding.UTF8.GetBytes(Path.GetFullPath(args[1]));
        Array.Resize(ref bytes, bytes.Length + 1);
        return bytes;
    }

    internal static unsafe void AttachSharedMemory(int shmId)
    {
        var mapSize = Environment.GetEnvironmentVariable("AFL_MAP_SIZE");
        if (mapSize is not null && int.TryParse(mapSize, NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) && size < Trace.MapSize)
        {
            Console.Error.WriteLine($"[fuzz] AFL_MAP_SIZE={size} is smaller than the instrumentation's map ({Trace.MapSize}); unset it or set it to {Trace.MapSize}.");
            Environment.Exit(2);
        }
        var p = Native.shmat(shmId, 0, 0);
        if (p == -1)
        {
            Console.Error.WriteLine($"[fuzz] shmat({shmId}) failed: errno {Marshal.GetLastPInvokeError()}");
            Environment.Exit(2);
        }
        Trace.Attach((byte*)p);
    }

    private static unsafe void RunOnceWithoutForkServer(Executor executor, int shmId)
    {
        AttachSharedMemory(shmId);
        var input = InputPath();
        FuzzResult result;
        fixed (byte* path = input)
        {
            result = RunOne(executor, path);
        }
        if (result.IsFailure)
        {
            Report(result, "afl input");
            Console.Error.Flush();
            Native.abort();
        }
    }

    private static void RunStandalone(Executor executor)
    {
        var args = Environment.GetCommandLineArgs().Skip(1).Where(a => a.Length > 0).ToList();
        var failures = 0;
        var runs = 0;
        if (args.Count == 0)
        {
            using var stdin = Console.OpenStandardInput();
            using var copy = new MemoryStream();
            stdin.CopyTo(copy);
            failures += RunStandaloneInput(executor, "stdin", copy.ToArray()) ? 0 : 1;
            runs++;
        }
        else
        {
            foreach (var arg in args)
            {
                foreach (var file in ExpandInputs(arg))
                {
                    failures += RunStandaloneInput(executor, file, File.ReadAllBytes(file)) ? 0 : 1;
                    runs++;
                }
            }
        }
        if (runs > 1)
        {
            Console.Error.WriteLine($"[fuzz] {runs} inputs, {failures} failed");
        }
        if (failures > 0)
        {
            Environment.ExitCode = 1;
        }
    }

    private static IEnumerable<string> ExpandInputs(string arg)
    {
        if (!Directory.Exists(arg))
        {
            return [arg];
        }
        // afl-fuzz's crashes/ and hangs/ directories hold a README.txt next to the inputs.
        return Directory.EnumerateFiles(arg)
            .Where(f => !Path.GetFileName(f).StartsWith('.') && Path.GetFileName(f) != "README.txt")
            .Order(StringComparer.Ordinal);
    }

    private static bool RunStandaloneInput(Executor executor, string name, byte[] data)
    {
        Trace.Reset();
        var result = executor.Execute(data);
        var edges = Trace.CountEdges();
        var head = $"[fuzz] {name}: {result.InputLength} bytes, {result.AllocatedBytes} bytes allocated, {edges} edges: ";
        switch (result.Outcome)
        {
            case FuzzOutcome.Ok:
                Console.Error.WriteLine(head + "ok");
                break;
            case FuzzOutcome.ExpectedException:
                Console.Error.WriteLine(head + $"expected {result.Exception!.GetType().Name}: {result.Exception.Message}");
                break;
            default:
                Console.Error.WriteLine(head + "CRASH");
                Report(result, name);
                break;
        }
        return !result.IsFailure;
    }

    /// <summary>Describes a failure on stderr (afl-fuzz sends the target's stderr to /dev/null unless AFL_DEBUG_CHILD=1).</summary>
    internal static void Report(FuzzResult result, string name)
    {
        if (result.Outcome == FuzzOutcome.AllocationBudgetExceeded)
        {
            Console.Error.WriteLine($"[fuzz] CRASH {name}: allocation budget exceeded: {result.AllocatedBytes} bytes allocated for a {result.InputLength}-byte input");
            if (result.Exception is not null)
            {
                Console.Error.WriteLine("[fuzz] (it also threw " + result.Exception.GetType().FullName + ")");
            }
        }
        else
        {
            Console.Error.WriteLine($"[fuzz] CRASH {name}: unexpected exception: {result.Exception}");
        }
    }

    /// <summary>
    /// Whether anyone can read the target's stderr: afl-fuzz sends it to /dev/null unless AFL_DEBUG_CHILD is set,
    /// and formatting a stack trace per crashing execution is not free.
    /// </summary>
    internal static bool ChildOutputVisible() =>
        IsSet("AFL_DEBUG_CHILD") || IsSet("AFL_DEBUG_CHILD_OUTPUT") || IsSet("STREAMBENCH_FUZZ_VERBOSE");

    internal static bool TryGetShmId(out int shmId)
    {
        shmId = 0;
        var s = Environment.GetEnvironmentVariable(ShmVariable);
        return s is not null && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out shmId);
    }

    internal static bool IsSet(string variable)
    {
        var v = Environment.GetEnvironmentVariable(variable);
        return v is not null && v is not ("" or "0" or "false" or "False");
    }
}
