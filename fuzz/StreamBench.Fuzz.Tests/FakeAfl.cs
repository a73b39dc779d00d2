using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StreamBench.Fuzz.Tests;

/// <summary>One execution as the fake afl-fuzz saw it.</summary>
internal readonly record struct AflRun(int Pid, int Status, bool TimedOut, int Edges)
{
    public bool Signaled => (Status & 0x7f) != 0 && (Status & 0x7f) != 0x7f;

    public int Signal => Status & 0x7f;
}

/// <summary>
/// A stand-in for afl-fuzz's fork-server client (afl-forkserver.c): it creates the SysV shared-memory map and
/// passes its id in __AFL_SHM_ID, starts the target with the control FIFO on fd 198 and the status FIFO on fd 199
/// (through a bash wrapper: <c>exec 198&lt;ctl 199&gt;st</c>) and stdin on the test-case file, then for each
/// execution rewrites the file, clears the map, writes the "previous run timed out" word, reads the child pid and
/// the wait status, and on a timeout kills the reported pid with SIGKILL, exactly like afl-fuzz.
/// </summary>
internal sealed unsafe class FakeAfl : IDisposable
{
    private const int MapSize = 1 << 16;
    private readonly int shmId;
    private readonly byte* map;
    private readonly string dir;
    private readonly string inputPath;
    private int ctl = -1;
    private int st = -1;
    private bool lastTimedOut;

    /// <param name="targetDll">The target to run with <c>dotnet</c>.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="fileArgument">Pass the test-case path as an argument (afl-fuzz's <c>@@</c>) instead of as stdin.</param>
    public FakeAfl(string targetDll, IDictionary<string, string>? environment = null, bool fileArgument = false)
    {
        shmId = Libc.shmget(Libc.IPC_PRIVATE, MapSize, Libc.IPC_CREAT | 0x180);
        if (shmId < 0)
        {
            throw new IOException($"shmget failed: {Marshal.GetLastPInvokeError()}");
        }
        map = (byte*)Libc.shmat(shmId, 0, 0);

        dir = TestFiles.NewTempDirectory("afl");
        var ctlPath = Path.Combine(dir, "ctl");
        var stPath = Path.Combine(dir, "st");
        inputPath = Path.Combine(dir, ".cur_input");
        File.WriteAllBytes(inputPath, []);
        if (Libc.mkfifo(ctlPath, 0x180) != 0 || Libc.mkfifo(stPath, 0x180) != 0)
        {
            throw new IOException($"mkfifo failed: {Marshal.GetLastPInvokeError()}");
        }

        var info = new ProcessStartInfo("bash")
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(fileArgument
            ? "exec 198<\"$1\" 199>\"$2\" </dev/null; exec dotnet \"$4\" \"$3\""
            : "exec 198<\"$1\" 199>\"$2\" <\"$3\"; exec dotnet \"$4\"");
        info.ArgumentList.Add("fake-afl");
        info.ArgumentList.Add(ctlPath);
        info.ArgumentList.Add(stPath);
        info.ArgumentList.Add(inputPath);
        info.ArgumentList.Add(targetDll);
        info.Environment["__AFL_SHM_ID"] = shmId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }
        Process = Process.Start(info)!;
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (StdErr) { StdErr.Add(e.Data); } } };
        Process.OutputDataReceived += (_, e) => { };
        Process.BeginErrorReadLine();
        Process.BeginOutputReadLine();

        // bash opens 198 (read end of ctl) first, then 199 (write end of st): open ours in the same order.
        ctl = OpenWithTimeout(ctlPath, Libc.O_WRONLY);
        st = OpenWithTimeout(stPath, Libc.O_RDONLY);
    }

    public Process Process { get; }

    public List<string> StdErr { get; } = [];

    /// <summary>Reads the fork server's 4-byte hello.</summary>
    public int ReadHello() => ReadInt(st, 20_000) ?? throw new TimeoutException("no hello from the fork server");

    /// <summary>One execution, like afl_fsrv_run_target(). <paramref name="timeoutMs"/> plays afl-fuzz's -t.</summary>
    public AflRun Run(byte[] input, int timeoutMs = 10_000)
    {
        File.WriteAllBytes(inputPath, input);
        new Span<byte>(map, MapSize).Clear();
        WriteInt(ctl, lastTimedOut ? 1 : 0);
        var pid = ReadInt(st, 20_000) ?? throw new TimeoutException("no child pid from the fork server");
        Assert.True(pid > 0, "fork server reported pid " + pid);
        var status = ReadInt(st, timeoutMs);
        lastTimedOut = status is null;
        if (status is null)
        {
            _ = Libc.kill(pid, Libc.SIGKILL);
            status = ReadInt(st, 20_000) ?? throw new TimeoutException("no status after killing the child");
        }
        var edges = 0;
        for (var i = 0; i < MapSize; i++)
        {
            if (map[i] != 0)
            {
                edges++;
            }
        }
        return new AflRun(pid, status.Value, lastTimedOut, edges);
    }

    /// <summary>Closes the control pipe (afl-fuzz going away) and waits for the target to exit.</summary>
    public bool Stop(int timeoutMs = 10_000)
    {
        CloseFd(ref ctl);
        CloseFd(ref st);
        return Process.WaitForExit(timeoutMs);
    }

    public void Dispose()
    {
        CloseFd(ref ctl);
        CloseFd(ref st);
        if (!Process.WaitForExit(5_000))
        {
            Process.Kill(entireProcessTree: true);
        }
        Process.Dispose();
        _ = Libc.shmdt((nint)map);
        _ = Libc.shmctl(shmId, Libc.IPC_RMID, 0);
        TestFiles.TryDelete(dir);
    }

    private static void CloseFd(ref int fd)
    {
        if (fd >= 0)
        {
            _ = Libc.close(fd);
            fd = -1;
        }
    }

    private int OpenWithTimeout(string path, int flags)
    {
        // open() on a FIFO blocks until the other end opens it; do it off-thread so a dead target fails the test.
        var task = Task.Run(() => Libc.open(path, flags | Libc.O_CLOEXEC));
        if (!task.Wait(20_000) || task.Result < 0)
        {
            throw new IOException($"could not open {Path.GetFileName(path)}; target stderr: {string.Join('\n', StdErr)}");
        }
        return task.Result;
    }

    private static int? ReadInt(int fd, int timeoutMs)
    {
        var value = 0;
        var p = (byte*)&value;
        var done = 0;
        var deadline = Environment.TickCount64 + timeoutMs;
        while (done < 4)
        {
            var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            var left = (int)Math.Max(0, deadline - Environment.TickCount64);
            var r = Libc.poll(&pfd, 1, left);
            if (r == 0)
            {
                return null;
            }
            if (r < 0)
            {
                continue;
            }
            var n = Libc.read(fd, p + done, 4 - done);
            if (n <= 0)
            {
                throw new EndOfStreamException("the fork server closed its status pipe");
            }
            done += (int)n;
        }
        return value;
    }

    private static void WriteInt(int fd, int value)
    {
        if (Libc.write(fd, (byte*)&value, 4) != 4)
        {
            throw new IOException("the fork server closed its control pipe");
        }
    }
}
