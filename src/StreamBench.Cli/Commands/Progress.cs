using System.Globalization;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary>
/// A progress line on standard error for long runs, drawn only when standard error is a terminal; nothing is
/// printed when output is redirected. It samples the source's position from a timer, so the hot loop pays nothing.
/// </summary>
internal sealed class Progress : IDisposable
{
    private readonly Timer? _timer;
    private readonly ByteSource _source;
    private readonly DateTime _start = DateTime.UtcNow;
    private bool _drawn;

    public Progress(ByteSource source, string label)
    {
        _source = source;
        if (!CliIo.ShowProgress)
        {
            return;
        }
        _timer = new Timer(_ => Draw(label), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(250));
    }

    private void Draw(string label)
    {
        var pos = _source.Position;
        var secs = Math.Max(0.001, (DateTime.UtcNow - _start).TotalSeconds);
        var total = _source.Length;
        var pct = total is > 0 ? string.Create(CultureInfo.InvariantCulture, $" {100.0 * pos / total.Value,5:F1}%") : "";
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{label}: {pos / 1048576.0,10:F1} MiB{pct} {pos / secs / 1e6,8:F0} MB/s "));
        _drawn = true;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        if (_drawn)
        {
            Console.Error.Write("\r" + new string(' ', 60) + "\r");
        }
    }
}
