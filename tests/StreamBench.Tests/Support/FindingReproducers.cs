using System.Diagnostics;
using Xunit;

namespace StreamBench.Tests.Support;

/// <summary>The reproducers of the findings in Xen's restore code, written by fuzz/xen-native/findings/make_reproducers.py.</summary>
internal static class FindingReproducers
{
    /// <summary>Writes the reproducer <paramref name="name"/> (xn1..xn5, xl1-end, xl1-body, xl2..xl6) to <paramref name="path"/>.</summary>
    public static void Write(string name, string path)
    {
        var psi = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Corpus.Root, "fuzz", "xen-native", "findings", "make_reproducers.py"));
        psi.ArgumentList.Add(name);
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("python3 could not be started");
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "make_reproducers.py failed: " + err);
    }

    /// <summary>The bytes of the reproducer <paramref name="name"/>.</summary>
    public static byte[] Bytes(string name)
    {
        string path = Path.Combine(Path.GetTempPath(), $"xen-finding-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        try
        {
            Write(name, path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
