using StreamBench.Formats.Streams;
using Xunit;

namespace StreamBench.Tests.Streams;

public sealed class FileReplaceTests
{
    // Over an existing file (renameat2 exchange on Linux, then the old file deleted) and onto a new name (a rename):
    // either way the destination holds the new bytes and the temporary name is gone.
    [Fact]
    public void Replaces_an_existing_file_and_moves_onto_a_new_name()
    {
        var dir = Directory.CreateTempSubdirectory("filereplace-");
        try
        {
            var dest = Path.Combine(dir.FullName, "out.bin");
            var temp = Path.Combine(dir.FullName, ".out.bin.tmp");
            File.WriteAllBytes(dest, [1, 2, 3, 4, 5]);
            File.WriteAllBytes(temp, [9, 8]);
            FileReplace.Move(temp, dest);
            Assert.Equal([9, 8], File.ReadAllBytes(dest));
            Assert.False(File.Exists(temp));

            var fresh = Path.Combine(dir.FullName, "fresh.bin");
            File.WriteAllBytes(temp, [7]);
            FileReplace.Move(temp, fresh);
            Assert.Equal([7], File.ReadAllBytes(fresh));
            Assert.False(File.Exists(temp));
            Assert.Equal(2, Directory.GetFiles(dir.FullName).Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
