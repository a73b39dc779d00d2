using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace StreamBench.Fuzzing;

public static partial class Fuzzer
{
    /// <summary>
    /// The out-of-process fork server (SharpFuzz's <c>Fuzzer.OutOfProcess</c>): this process only speaks the AFL
    /// protocol; the target runs persistently in a worker process (the same program, restarted with
    /// <c>STREAMBENCH_FUZZ_WORKER</c> set). The worker's pid is the one reported to afl-fuzz, so afl-fuzz's
    /// <c>-t</c> timeout kills the worker, not the fork server: hangs are recorded as hangs and fuzzing goes on. A
    /// worker that dies by itself (stack overflow, <c>Environment.FailFast</c>) is reported as crashing with the
    /// signal that killed it. Starting a worker costs a .NET process start, so this mode pays off only for targets
    /// that can hang or die; each execution also costs one extra pipe round trip.
    /// </summary>
    public static class OutOfProcess
    {
        internal const string WorkerVariable = "STREAMBENCH_FUZZ_WORKER";

        /// <summary>The worker's first word on its status pipe: "RDY!".</summary>
        private const int ReadyWord = 0x21594452;

        /// <summary>Like <see cref="Fuzzer.Run(Action{Stream}, FuzzOptions?)"/>, but runs the target in a worker process.</summary>
        public static void Run(Action<Stream> action, FuzzOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(action);
            Dispatch(action, options, outOfProcess: true);
        }

        /// <summary>Span flavour of <see cref="Run(Action{Stream}, FuzzOptions?)"/>.</summary>
        public static void Run(ReadOnlySpanAction action, FuzzOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(action);
            Run(AsStreamAction(action), options);
        }

        /// <summary>The fork-server side: relays afl-fuzz's requests to the worker and the worker's statuses back.</summary>
        internal static void Serve()
        {
            // The worker must not hold afl-fuzz's pipes: when this process dies afl-fuzz has to see it.
            Native.SetCloseOnExec(ControlFd, true);
            Native.SetCloseOnExec(StatusFd, true);
            var command = OwnCommandLine();
            // The first worker's start-up counts against afl-fuzz's (generous) fork-server start-up timeout.
            Worker? worker = Worker.Start(command, initial: true);
            if (!Native.WriteInt32(StatusFd, HelloValue(IsSet(LegacyHelloVariable))))
            {
                worker.Kill();
                worker.Dispose();
                return;
            }
            var deathReported = false;
            try
            {
                while (Native.ReadInt32(ControlFd, out var previousTimedOut))
                {
                    if (previousTimedOut != 0 && !deathReported && worker is not null)
                    {
                        // afl-fuzz killed the worker after it had already answered: collect it, start afresh.
                        worker.Reap(TimeSpan.FromSeconds(5));
                        worker.Dispose();
                        worker = null;
                    }
                    worker ??= Worker.Start(command, initial: false);
                    if (!Native.WriteInt32(StatusFd, worker.Pid))
                    {
                        return;
                    }
                    if (worker.Execute(out var status))
                    {
                        deathReported = false;
                        if (!Native.WriteInt32(StatusFd, status))
                        {
                            return;
                        }
                        continue;
                    }
                    // The worker is gone: afl-fuzz's timeout kill (SIGKILL) or a death of its own.
                    status = worker.Reap(Timeout.InfiniteTimeSpan);
                    worker.Dispose();
                    worker = null;
                    deathReported = true;
                    if (!Native.WriteInt32(StatusFd, status))
                    {
                        return;
                    }
                    // Start the next worker now, while afl-fuzz looks at this result; afl-fuzz's clock for the
                    // next execution only starts once it has the new pid, so start-up is never timed.
                    worker = Worker.Start(command, initial: false);
                }
            }
            finally
            {
                worker?.Kill();
                worker?.Dispose();
            }
        }

        /// <summary>The worker side: a persistent loop on the pipes the fork server handed down.</summary>
        internal static unsafe void RunWorker(Executor executor, int shmId, string spec)
        {
            var parts = spec.Split(',');
            var ctl = int.Parse(parts[0], CultureInfo.InvariantCulture);
            var st = int.Parse(parts[1], CultureInfo.InvariantCulture);
            var warmUp = parts[2] == "1" && executor.Options.WarmUp;
            var parent = int.Parse(parts[3], CultureInfo.InvariantCulture);

            // Die with the fork server even while stuck in the target.
            _ = Native.prctl(Native.PR_SET_PDEATHSIG, Native.SIGKILL, 0, 0, 0);
            if (Native.getppid() != parent)
            {
                return;
            }
            Native.SetCloseOnExec(ctl, true);
            Native.SetCloseOnExec(st, true);
            AttachSharedMemory(shmId);
            var input = InputPath();
            var verbose = ChildOutputVisible();
            // Tell the fork server we are up, so that process start-up is never timed as part of an execution.
            if (!Native.WriteInt32(st, ReadyWord))
            {
                return;
            }
            fixed (byte* path = input)
            {
                while (Native.ReadInt32(ctl, out _))
                {
                    if (warmUp)
                    {
                        warmUp = false;
                        _ = RunOne(executor, path);
                        Trace.Map.Clear();
                    }
                    var result = RunOne(executor, path);
                    if (verbose && result.IsFailure)
                    {
                        Report(result, "afl input");
                    }
                    if (!Native.WriteInt32(st, result.WaitStatus))
                    {
                        return;
                    }
                }
            }
        }

        /// <summary>This process's own argv (from /proc/self/cmdline), to start the worker the same way.</summary>
        private static (string File, string[] Arguments) OwnCommandLine()
        {
            var raw = File.ReadAllBytes("/proc/self/cmdline");
            var argv = Encoding.UTF8.GetString(raw).TrimEnd('\0').Split('\0');
            var file = Environment.ProcessPath ?? argv[0];
            return (file, argv.Skip(1).ToArray());
        }

        private sealed unsafe class Worker : IDisposable
        {
            private readonly Process process;
            private readonly int ctl;
            private readonly int st;
            private bool disposed;

            private Worker(Process process, int ctl, int st)
            {
                this.process = process;
                this.ctl = ctl;
                this.st = st;
                Pid = process.Id;
            }

            internal int Pid { get; }

            internal static Worker Start((string File, string[] Arguments) command, bool initial)
            {
                int* toWorker = stackalloc int[2];
                int* fromWorker = stackalloc int[2];
                if (Native.pipe(toWorker) != 0 || Native.pipe(fromWorker) != 0)
                {
                    throw new IOException("pipe() failed");
                }
                // Our ends must not leak into the worker; the worker's ends must (no O_CLOEXEC).
                Native.SetCloseOnExec(toWorker[1], true);
                Native.SetCloseOnExec(fromWorker[0], true);
                var info = new ProcessStartInfo(command.File) { UseShellExecute = false };
                foreach (var a in command.Arguments)
                {
                    info.ArgumentList.Add(a);
                }
                info.Environment[WorkerVariable] = string.Create(CultureInfo.InvariantCulture,
                    $"{toWorker[0]},{fromWorker[1]},{(initial ? 1 : 0)},{Environment.ProcessId}");
                Process process;
                try
                {
                    process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null");
                }
                finally
                {
                    _ = Native.close(toWorker[0]);
                    _ = Native.close(fromWorker[1]);
                }
                var worker = new Worker(process, toWorker[1], fromWorker[0]);
                // Wait until the worker's runtime is up and the map attached (it runs no target code before that).
                if (!Native.ReadInt32(worker.st, out var ready) || ready != ReadyWord)
                {
                    var code = worker.Reap(TimeSpan.FromSeconds(5));
                    worker.Dispose();
                    throw new IOException($"the fuzzing worker did not start (wait status {code}); run the target without afl-fuzz to see why");
                }
                return worker;
            }

            /// <summary>Runs one input in the worker. False when the worker is gone (killed or crashed).</summary>
            internal bool Execute(out int status)
            {
                status = 0;
                return Native.WriteInt32(ctl, 0) && Native.ReadInt32(st, out status);
            }

            /// <summary>Waits for the worker to end and turns its end into a wait status for afl-fuzz.</summary>
            internal int Reap(TimeSpan timeout)
            {
                if (!process.WaitForExit(timeout))
                {
                    Kill();
                    process.WaitForExit();
                }
                // .NET reports "killed by signal N" as exit code 128 + N.
                var code = process.ExitCode;
                return code is > 128 and < 128 + 32 ? code - 128 : AflStatus.Crash;
            }

            internal void Kill()
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill();
                    }
                }
                catch (InvalidOperationException)
                {
                }
            }

            public void Dispose()
            {
                if (disposed)
                {
                    return;
                }
                disposed = true;
                _ = Native.close(ctl);
                _ = Native.close(st);
                process.Dispose();
            }
        }
    }
}
