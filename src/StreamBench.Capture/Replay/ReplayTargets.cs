using System.Diagnostics;
using System.IO.Pipes;
using System.Net.Sockets;
using StreamBench.Capture.Recording;

namespace StreamBench.Capture.Replay;

/// <summary>How the target of a replay finished.</summary>
public sealed record ReplayTargetOutcome(bool Succeeded, int? ExitCode, string Detail);

/// <summary>
/// Where a replay sends its bytes. A target that talks back (a receiver process, a TCP peer, the engine's back channel)
/// exposes <see cref="PeerInput"/>; the replayer sequences its sending against it.
/// </summary>
public interface IReplayTarget : IDisposable
{
    /// <summary>For reports.</summary>
    string Description { get; }

    /// <summary>The bytes go here.</summary>
    Stream Output { get; }

    /// <summary>What the peer sends back, or null for a target that does not talk.</summary>
    Stream? PeerInput { get; }

    /// <summary>End of input for the peer (close, or half-close a socket).</summary>
    void CloseOutput();

    /// <summary>Waits up to <paramref name="timeout"/> for the target to finish and says how it went.</summary>
    ReplayTargetOutcome Finish(TimeSpan timeout);
}

/// <summary>
/// The simulated restore engine as a replay target: it reads the stream from <paramref name="input"/> and may answer on
/// <paramref name="backChannel"/> (the <c>xl migrate</c> receiver messages, COLO records). Implemented over
/// StreamBench.Engine's restore entry point by the command line.
/// </summary>
public interface IRestoreEngineEndpoint
{
    /// <summary>For reports, e.g. "simulated restore engine (HVM)".</summary>
    string Description { get; }

    /// <summary>Restores from <paramref name="input"/> until its end; returns how it went.</summary>
    ReplayTargetOutcome Restore(Stream input, Stream backChannel, CancellationToken cancel);
}

/// <summary>A file or standard output.</summary>
public sealed class StreamReplayTarget(Stream output, string description, bool leaveOpen = false) : IReplayTarget
{
    private bool _closed;

    /// <inheritdoc />
    public string Description => description;

    /// <inheritdoc />
    public Stream Output => output;

    /// <inheritdoc />
    public Stream? PeerInput => null;

    /// <inheritdoc />
    public void CloseOutput()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        output.Flush();
        if (!leaveOpen)
        {
            output.Dispose();
        }
    }

    /// <inheritdoc />
    public ReplayTargetOutcome Finish(TimeSpan timeout) => new(true, null, "written to " + description);

    /// <inheritdoc />
    public void Dispose() => CloseOutput();
}

/// <summary>A command run with <c>/bin/sh -c</c>: the bytes go to its standard input, its standard output is the peer.</summary>
public sealed class ProcessReplayTarget : IReplayTarget
{
    private readonly Process _process;
    private bool _closed;

    /// <summary>Starts <paramref name="commandLine"/>.</summary>
    public ProcessReplayTarget(string commandLine)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(commandLine);
        _process = Process.Start(psi) ?? throw new IOException($"could not start '{commandLine}'");
        Description = "command '" + commandLine + "'";
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public Stream Output => _process.StandardInput.BaseStream;

    /// <inheritdoc />
    public Stream? PeerInput => _process.StandardOutput.BaseStream;

    /// <inheritdoc />
    public void CloseOutput()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It already exited.
        }
    }

    /// <inheritdoc />
    public ReplayTargetOutcome Finish(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return new ReplayTargetOutcome(false, null, Description + " did not exit in time");
        }
        _process.WaitForExit();
        var code = _process.ExitCode;
        return new ReplayTargetOutcome(code == 0, code, $"{Description} exited with {code}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        CloseOutput();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}

/// <summary>A TCP endpoint: the bytes go to the connection, whatever comes back is the peer.</summary>
public sealed class TcpReplayTarget : IReplayTarget
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private bool _closed;

    /// <summary>Connects to HOST:PORT.</summary>
    public TcpReplayTarget(string endpoint)
    {
        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            Endpoints.Tune(_socket);
            _socket.Connect(Endpoints.Resolve(endpoint));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        _stream = new NetworkStream(_socket, ownsSocket: false);
        Description = "tcp " + endpoint;
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public Stream Output => _stream;

    /// <inheritdoc />
    public Stream? PeerInput => _stream;

    /// <inheritdoc />
    public void CloseOutput()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The peer already closed.
        }
    }

    /// <inheritdoc />
    public ReplayTargetOutcome Finish(TimeSpan timeout) => new(true, null, "sent to " + Description);

    /// <inheritdoc />
    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}

/// <summary>The simulated restore engine, in process: an OS pipe carries the bytes, another its answers.</summary>
public sealed class EngineReplayTarget : IReplayTarget
{
    private readonly AnonymousPipeServerStream _toEngine = new(PipeDirection.Out);
    private readonly AnonymousPipeClientStream _engineInput;
    private readonly AnonymousPipeServerStream _fromEngine = new(PipeDirection.In);
    private readonly AnonymousPipeClientStream _engineBack;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Task<ReplayTargetOutcome> _run;
    private bool _closed;

    /// <summary>Starts <paramref name="engine"/> on its own thread.</summary>
    public EngineReplayTarget(IRestoreEngineEndpoint engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engineInput = new AnonymousPipeClientStream(PipeDirection.In, _toEngine.ClientSafePipeHandle);
        _engineBack = new AnonymousPipeClientStream(PipeDirection.Out, _fromEngine.ClientSafePipeHandle);
        Description = engine.Description;
        _run = Task.Factory.StartNew(() =>
        {
            try
            {
                return engine.Restore(_engineInput, _engineBack, _cancel.Token);
            }
            finally
            {
                _engineBack.Dispose();
                _engineInput.Dispose();
            }
        }, _cancel.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public Stream Output => _toEngine;

    /// <inheritdoc />
    public Stream? PeerInput => _fromEngine;

    /// <inheritdoc />
    public void CloseOutput()
    {
        if (!_closed)
        {
            _closed = true;
            _toEngine.Dispose();
        }
    }

    /// <inheritdoc />
    public ReplayTargetOutcome Finish(TimeSpan timeout)
    {
        if (!_run.Wait(timeout))
        {
            _cancel.Cancel();
            return new ReplayTargetOutcome(false, null, Description + " did not finish in time");
        }
        return _run.Result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        CloseOutput();
        _cancel.Cancel();
        _run.Wait(TimeSpan.FromSeconds(5));
        _fromEngine.Dispose();
        _cancel.Dispose();
    }
}
