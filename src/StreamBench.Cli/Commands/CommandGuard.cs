using System.CommandLine;
using System.CommandLine.Invocation;
using System.ComponentModel;
using System.Net.Sockets;
using System.Text.Json;
using StreamBench.Capture.Format;
using StreamBench.Domain;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Verification;

namespace StreamBench.Cli.Commands;

/// <summary>
/// The one error path of the command line. Commands parse, call the core, print, and throw on any error; this wraps
/// every command's action: output files are written under a temporary name and renamed into place only when
/// the command succeeds (<see cref="CliIo.OpenOutput"/>), and any exception that escapes a command becomes one line
/// on standard error with the documented exit code (1 for a stream error, 2 for usage and I/O errors), never a
/// stack trace.
/// </summary>
internal static class CommandGuard
{
    public static void Wrap(Command command)
    {
        foreach (var sub in command.Subcommands)
        {
            Wrap(sub);
        }
        if (command.Action is not SynchronousCommandLineAction inner)
        {
            return;
        }
        var name = command.Name;
        command.SetAction(parse => Run(name, () => inner.Invoke(parse)));
    }

    /// <summary>Runs <paramref name="body"/> with its outputs pending; commits them on exit 0, discards them otherwise.</summary>
    public static int Run(string command, Func<int> body)
    {
        using var outputs = CliIo.BeginOutputs();
        int code;
        try
        {
            code = body();
        }
        catch (Exception e)
        {
            code = Report(command, e);
        }
        if (code == ExitCodes.Ok)
        {
            try
            {
                outputs.Commit();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                code = Report(command, e);
            }
        }
        return code;
    }

    /// <summary>One line for <paramref name="e"/>; the exit code it maps to.</summary>
    public static int Report(string command, Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a)
        {
            e = a.InnerExceptions[0];
        }
        var (code, text) = e switch
        {
            StreamFormatException s => (ExitCodes.InvalidStream, Describe(s)),
            CaptureFormatException or InvalidInputException => (ExitCodes.InvalidStream, e.Message),
            // the engine refused the domain or the save, or a COLO peer broke the handshake (its back channel is input too)
            SaveException or DomainException or ColoProtocolException => (ExitCodes.InvalidStream, e.Message),
            IOException or UnauthorizedAccessException or SocketException or Win32Exception => (ExitCodes.UsageOrIo, e.Message),
            ArgumentException or FormatException or OverflowException or JsonException => (ExitCodes.UsageOrIo, e.Message),
            OperationCanceledException => (ExitCodes.UsageOrIo, "cancelled"),
            _ => (ExitCodes.UsageOrIo, $"internal error ({e.GetType().Name}): {e.Message}"),
        };
        try
        {
            Console.Error.WriteLine($"streambench {command}: {OneLine(text)}");
        }
        catch (IOException)
        {
            // Standard error is gone too: the exit code is all that is left.
        }
        return code;
    }

    /// <summary>A stream error's message, with the dialect hint when the error is the sign of a misread dialect.</summary>
    public static string Describe(StreamFormatException e) =>
        DialectHints.For(e) is { } hint ? $"{e.Message} (hint: {hint})" : e.Message;

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
