using StreamBench.Fuzzing.Instrument;

namespace StreamBench.Fuzz.Tests;

/// <summary>Temporary directories and copies of built assemblies.</summary>
internal static class TestFiles
{
    public static string NewTempDirectory(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "sbfuzz-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Copies <paramref name="fileName"/> (and its .pdb) from the test output directory into <paramref name="dir"/>.</summary>
    public static string CopyBuilt(string fileName, string dir)
    {
        var src = Path.Combine(AppContext.BaseDirectory, fileName);
        var dst = Path.Combine(dir, fileName);
        File.Copy(src, dst, overwrite: true);
        var pdb = Path.ChangeExtension(src, ".pdb");
        if (File.Exists(pdb))
        {
            File.Copy(pdb, Path.ChangeExtension(dst, ".pdb"), overwrite: true);
        }
        return dst;
    }

    public static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>An instrumented copy of the smoke target (only StreamBench.Fuzz.Smoke.Toy carries probes), built once per test class.</summary>
public sealed class SmokeTarget : IDisposable
{
    public SmokeTarget()
    {
        Directory = TestFiles.NewTempDirectory("smoke");
        Dll = TestFiles.CopyBuilt("StreamBench.Fuzz.Smoke.dll", Directory);
        TestFiles.CopyBuilt("StreamBench.Fuzz.Runtime.dll", Directory);
        var config = Path.Combine(AppContext.BaseDirectory, "StreamBench.Fuzz.Smoke.runtimeconfig.json");
        var target = Path.ChangeExtension(Dll, ".runtimeconfig.json");
        if (File.Exists(config))
        {
            File.Copy(config, target, overwrite: true);
        }
        else
        {
            var v = Environment.Version;
            var tfm = $"net{v.Major}.{v.Minor}";
            var version = $"{v.Major}.{v.Minor}.0";
            File.WriteAllText(target, "{\"runtimeOptions\":{\"tfm\":\"" + tfm + "\",\"framework\":{\"name\":\"Microsoft.NETCore.App\",\"version\":\"" + version + "\"}}}");
        }
        var options = new InstrumentOptions();
        options.Include.Add("StreamBench.Fuzz.Smoke.Toy");
        Result = AssemblyInstrumenter.Instrument(Dll, options);
    }

    public string Directory { get; }

    public string Dll { get; }

    public InstrumentResult Result { get; }

    public string WriteInput(string name, byte[] data)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    public void Dispose() => TestFiles.TryDelete(Directory);
}

/// <summary>Inputs for the smoke target's toy format.</summary>
internal static class ToyInputs
{
    /// <summary>Magic, version 1, two records ('A' with 3 bytes, 'C' with 4 bytes).</summary>
    public static byte[] Valid => [.. "SBFZ"u8, 1, 2, (byte)'A', 3, .. "abc"u8, (byte)'C', 4, 0, 1, 0, 2];

    /// <summary>Unsupported version: rejected with the expected ToyFormatException.</summary>
    public static byte[] BadVersion => [.. "SBFZ"u8, 3];

    /// <summary>The planted bug: version 2, one 'X' record of length 33, with 40 bytes following.</summary>
    public static byte[] PlantedBug => [.. "SBFZ"u8, 2, 1, (byte)'X', 33, .. new byte[40]];
}
