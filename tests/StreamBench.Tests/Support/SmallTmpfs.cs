using System.Diagnostics;
using Xunit;

namespace StreamBench.Tests.Support;

/// <summary>
/// A tiny tmpfs mounted on a fresh folder (root only: the tests that use it are [RootFact]s), so that writing commands
/// meet a full disk; unmounted on dispose.
/// </summary>
internal sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's size option) on <paramref name="folder"/>, which it creates.</summary>
    public static SmallTmpfs Mount(string folder, string size = "64k")
    {
        Directory.CreateDirectory(folder);
        using var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=" + size, "tmpfs", folder])!;
        mount.WaitForExit();
        Assert.Equal(0, mount.ExitCode);
        return new SmallTmpfs(folder);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        using var umount = Process.Start("umount", [Path])!;
        umount.WaitForExit();
    }
}
