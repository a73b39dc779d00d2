using StreamBench.Cli;
using StreamBench.Formats.Legacy;
using Xunit;

namespace StreamBench.Tests.Legacy;

public sealed class LegacyCliTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("convert-legacy-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static int Run(params string[] args) => Program.BuildRoot().Parse(args).Invoke();

    [Theory]
    [InlineData("-w", "64", "-g", "hvm", "-f", "libxl")]
    [InlineData("-w", "64", "-g", "hvm")]
    [InlineData("--width", "64", "--guest-type", "hvm", "--format", "libxc", "--skip-qemu")]
    [InlineData("-f", "libxl", "-v")]
    public void Convert_legacy_writes_what_the_library_converts(params string[] flags)
    {
        var image = new LegacySyntheticOptions { Pages = 20, Toolstack = true };
        File.WriteAllBytes(PathOf("in"), LegacySyntheticImage.Generate(image));
        Assert.Equal(0, Run(["convert-legacy", "-i", PathOf("in"), "-o", PathOf("out"), .. flags]));
        var options = new LegacyConverterOptions
        {
            Format = flags.Contains("libxl") ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc,
            SkipQemu = flags.Contains("--skip-qemu"),
        };
        Assert.Equal(LegacyConverter.Convert(LegacySyntheticImage.Generate(image), options), File.ReadAllBytes(PathOf("out")));
    }

    [Fact]
    public void A_stream_error_exits_1_and_a_missing_input_exits_2()
    {
        File.WriteAllBytes(PathOf("bad"), [1, 2, 3, 4, 5, 6, 7, 8, 0xEB, 0xFF, 0xFF, 0xFF]);
        Assert.Equal(1, Run("convert-legacy", "-i", PathOf("bad"), "-o", PathOf("out"), "-w", "64", "-g", "hvm"));
        Assert.Equal(2, Run("convert-legacy", "-i", PathOf("missing"), "-o", PathOf("out")));
        Assert.NotEqual(0, Run("convert-legacy", "-i", PathOf("bad"), "-o", PathOf("out"), "-w", "48"));
        Assert.NotEqual(0, Run("convert-legacy", "-o", PathOf("out")));
    }

    [Fact]
    public void Checkpoints_flag_converts_Remus_checkpoints()
    {
        var image = new LegacySyntheticOptions { Guest = LegacyGuestType.Pv, Pages = 20, Checkpoints = 2, Compression = true };
        File.WriteAllBytes(PathOf("remus"), LegacySyntheticImage.Generate(image));
        Assert.Equal(0, Run("convert-legacy", "-i", PathOf("remus"), "-o", PathOf("out"), "-f", "libxl", "--checkpoints"));
        var expected = LegacyConverter.Convert(LegacySyntheticImage.Generate(image), new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl, Checkpoints = true });
        Assert.Equal(expected, File.ReadAllBytes(PathOf("out")));
    }
}
