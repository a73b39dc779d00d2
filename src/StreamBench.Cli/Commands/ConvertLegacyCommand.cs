using System.CommandLine;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>streambench convert-legacy</c>: Xen's convert-legacy-stream, with the same flags and the same output bytes
/// (docs/LEGACY.md). -w and -g may be left out: they are then detected from the image.
/// </summary>
internal static class ConvertLegacyCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--in", "-i") { Description = "legacy input: a file, a decimal fd, or - for stdin", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "v3 output: a file, a decimal fd, or - for stdout", Required = true };
        var width = new Option<string>("--width", "-w") { Description = "legacy toolstack bitness: 32 or 64 (default: detect)" };
        var guest = new Option<string>("--guest-type", "-g") { Description = "type of guest in the stream: pv or hvm (default: detect)" };
        var format = new Option<string>("--format", "-f") { Description = "format of the output stream: libxc or libxl", DefaultValueFactory = _ => "libxc" };
        var xl = new Option<bool>("--xl", "-x") { Description = "an xl header precedes the legacy image (it is copied through)" };
        var skipQemu = new Option<bool>("--skip-qemu") { Description = "do not process the QEMU record (libxc output only, as Xen's converter)" };
        var checkpoints = new Option<bool>("--checkpoints") { Description = "convert Remus checkpoints after the first image (decoding compressed ones) into a checkpointed stream" };
        var sparse = new Option<bool>("--sparse") { Description = "-o FILE: leave runs of zero pages as holes (same bytes read back, less space)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "summarise stream contents" };
        var command = new Command("convert-legacy", "Convert a legacy (Xen <= 4.5) save image to a v3 libxc or libxl stream, byte for byte as Xen's convert-legacy-stream.")
        {
            input, output, width, guest, format, xl, skipQemu, checkpoints, sparse, verbose,
        };
        command.SetAction(parse =>
        {
            var options = new LegacyConverterOptions
            {
                Width = CliNames.LegacyWidths.Parse(parse.GetValue(width)),
                GuestType = CliNames.LegacyGuests.Parse(parse.GetValue(guest)),
                Format = CliNames.LegacyOutputFormats.Parse(parse.GetValue(format)),
                XlHeader = parse.GetValue(xl),
                SkipQemu = parse.GetValue(skipQemu),
                Checkpoints = parse.GetValue(checkpoints),
                SparseOutput = parse.GetValue(sparse),
            };
            var inPath = parse.GetValue(input)!;
            var outPath = parse.GetValue(output)!;
            // -v lines go to stdout, as Xen's converter prints them, unless the stream itself goes there.
            var log = parse.GetValue(verbose) ? (outPath == "-" ? Console.Error : Console.Out) : null;
            using var source = Open(inPath, "input", OpenInput);
            using var sink = Open(outPath, "output", OpenOutput);
            var result = LegacyConverter.Convert(source, sink, options, log);
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Converted {result.Images} image(s), {result.Pages} pages in {result.PageDataRecords} PAGE_DATA records, {result.BytesWritten} bytes written"));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// Opens <paramref name="value"/> with <paramref name="open"/>; a failure becomes an I/O error naming the
    /// <paramref name="role"/> and the path (exit 2 through <see cref="CommandGuard"/>).
    /// </summary>
    private static T Open<T>(string value, string role, Func<string, T> open)
    {
        try
        {
            return open(value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new IOException($"cannot open {role} '{value}': {e.Message}", e);
        }
    }

    /// <summary>Like Xen's open_file_or_fd: a decimal number is a file descriptor.</summary>
    private static bool TryFd(string value, out int fd) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out fd);

    /// <summary>
    /// Regular files are memory-mapped (<see cref="ByteSource.Open"/>: populated ahead, dropped behind, so the resident
    /// set stays bounded): page data then goes from the page cache to the output with one copy, and zero pages are
    /// recognised without copying them. File descriptors and stdin are read through one 4 MiB buffer.
    /// </summary>
    private static ByteSource OpenInput(string value)
    {
        if (TryFd(value, out var fd))
        {
            return ByteSource.FromStream(new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1), ownsStream: true, InputWindow);
        }
        return ByteSource.Open(value);
    }

    private const int InputWindow = 4 << 20;

    /// <summary>
    /// Files, descriptors and standard output through a pipe are <see cref="FileStream"/>s, so the converter can have the kernel copy
    /// page data into them (copy_file_range into a file, sendfile into a pipe: <see cref="LegacyConverterOptions.KernelCopy"/>).
    /// </summary>
    private static Stream OpenOutput(string value)
    {
        if (value == "-")
        {
            // A pipe or socket only: on a file, FileStream writes at offsets of its own and would leave the shell's
            // offset of standard output behind the bytes written.
            var stdout = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1);
            if (!stdout.CanSeek)
            {
                return stdout;
            }
            stdout.Dispose();
            return Console.OpenStandardOutput();
        }
        return TryFd(value, out var fd)
            ? new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, 1)
            : CliIo.OpenOutput(value);
    }
}
