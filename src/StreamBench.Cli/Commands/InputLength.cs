using StreamBench.Capture.Input;

namespace StreamBench.Cli.Commands;

/// <summary>The length of what the user gave, when it is not the length of the stream that was checked.</summary>
internal static class InputLength
{
    /// <summary>
    /// For a legacy image (verified through its v3 conversion): the image's own length, or, for a pipe, the bytes read
    /// from it. Null for any other input, whose summary length is already the input's.
    /// </summary>
    public static long? OfLegacy(OpenedInput input) => input.IsLegacy ? input.Source.Length ?? input.Source.Position : null;
}
