using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary>Opening inputs and outputs the same way in every command.</summary>
internal static class CliIo
{
    /// <summary>A file, or standard output for "-".</summary>
    public static Stream OpenOutput(string path) => path == "-"
        ? Console.OpenStandardOutput()
        : new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);

    /// <summary>Whether progress may be drawn: only when standard error is a terminal.</summary>
    public static bool ShowProgress => !Console.IsErrorRedirected;
}

/// <summary>Option values shared by several commands.</summary>
internal static class CliParsing
{
    /// <summary>"upstream" or "postcopy-rfc".</summary>
    public static StreamDialect ParseDialect(string? value) => value switch
    {
        null or "" or "upstream" => StreamDialect.Upstream,
        "postcopy-rfc" or "postcopy" => StreamDialect.PostcopyRfc,
        _ => throw new ArgumentException($"unknown dialect '{value}': use upstream or postcopy-rfc"),
    };
}
