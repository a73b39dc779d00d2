using System.Runtime.InteropServices;

namespace StreamBench.Fuzzing;

/// <summary>
/// Runs the target on one input and classifies the result. Owns the reusable input buffer and stream, so the
/// fork-server loops allocate nothing per execution.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "FuzzInputStream holds no resources; disposing it is a no-op.")]
internal sealed unsafe class Executor
{
    private const int InitialBufferBytes = 64 * 1024;

    private readonly Action<Stream> action;
    private readonly FuzzOptions options;
    private readonly FuzzInputStream stream = new();
    private byte[] buffer;
    private bool warnedUnreadable;

    internal Executor(Action<Stream> action, FuzzOptions options)
    {
        this.action = action;
        this.options = options;
        buffer = new byte[Math.Min(InitialBufferBytes, options.MaxInputBytes)];
    }

    internal FuzzOptions Options => options;

    /// <summary>Runs the target on <paramref name="input"/> (cut to <see cref="FuzzOptions.MaxInputBytes"/>).</summary>
    internal FuzzResult Execute(ReadOnlySpan<byte> input)
    {
        var n = Math.Min(input.Length, options.MaxInputBytes);
        EnsureCapacity(n);
        input[..n].CopyTo(buffer);
        return Execute(n);
    }

    /// <summary>Reads the whole input from <paramref name="fd"/> at offset 0 (pread: afl-fuzz rewrites the file in place) and runs it.</summary>
    internal FuzzResult ExecuteFromFile(int fd)
    {
        var n = ReadAt(fd);
        if (n < 0)
        {
            if (!warnedUnreadable)
            {
                warnedUnreadable = true;
                Console.Error.WriteLine($"[fuzz] cannot pread the input (errno {Marshal.GetLastPInvokeError()}); is stdin a regular file? Running on empty input.");
            }
            n = 0;
        }
        return Execute(n);
    }

    /// <summary>Opens <paramref name="path"/> (a NUL-terminated UTF-8 path), reads it whole and runs it (afl-fuzz's <c>@@</c> mode).</summary>
    internal FuzzResult ExecuteFromPath(byte* path)
    {
        var fd = Native.open(path, Native.O_RDONLY | Native.O_CLOEXEC);
        if (fd < 0)
        {
            return Execute(0);
        }
        try
        {
            return ExecuteFromFile(fd);
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    private FuzzResult Execute(int length)
    {
        stream.Reset(buffer, length);
        Trace.PrevLocation = 0;
        Exception? error = null;
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            action(stream);
        }
        catch (Exception ex)
        {
            error = ex;
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        FuzzOutcome outcome;
        if (options.AllocationBudgetBytes > 0 && allocated > options.AllocationBudgetBytes)
        {
            outcome = FuzzOutcome.AllocationBudgetExceeded;
        }
        else if (error is null)
        {
            outcome = FuzzOutcome.Ok;
        }
        else
        {
            outcome = IsExpected(error) ? FuzzOutcome.ExpectedException : FuzzOutcome.UnexpectedException;
        }
        return new FuzzResult(outcome, error, allocated, length);
    }

    private bool IsExpected(Exception error)
    {
        try
        {
            return options.IsExpected(error);
        }
        catch (Exception)
        {
            // A throwing predicate is a harness bug; count the input as a crash so it gets looked at.
            return false;
        }
    }

    /// <summary>pread()s the file behind <paramref name="fd"/> from offset 0 into the buffer. Returns the length, or -1 on error.</summary>
    private int ReadAt(int fd)
    {
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length >= options.MaxInputBytes)
                {
                    return total;
                }
                EnsureCapacity(Math.Min(options.MaxInputBytes, buffer.Length * 2));
            }
            nint n;
            fixed (byte* p = buffer)
            {
                n = Native.pread(fd, p + total, buffer.Length - total, total);
            }
            if (n > 0)
            {
                total += (int)n;
            }
            else if (n == 0)
            {
                return total;
            }
            else if (Marshal.GetLastPInvokeError() != Native.EINTR)
            {
                return total > 0 ? total : -1;
            }
        }
    }

    private void EnsureCapacity(int n)
    {
        if (buffer.Length < n)
        {
            Array.Resize(ref buffer, n);
        }
    }
}
