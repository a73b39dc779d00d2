namespace StreamBench.Cli.Commands;

/// <summary>Exit codes shared by every command.</summary>
internal static class ExitCodes
{
    /// <summary>Success, or a valid stream.</summary>
    public const int Ok = 0;
    /// <summary>The stream is invalid, or a stream error stopped the command.</summary>
    public const int InvalidStream = 1;
    /// <summary>A usage or I/O error.</summary>
    public const int UsageOrIo = 2;
}
