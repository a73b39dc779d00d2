using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using StreamBench.Cli;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using Xunit;

namespace StreamBench.Tests.Legacy;

/// <summary>
/// The converter's in-kernel page copy (copy_file_range into a file, sendfile into a pipe) against the ordinary
/// write path: the same bytes, the same errors, and no half-written output over an existing file.
/// </summary>
public sealed class LegacyKernelCopyTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("legacy-kernel-copy-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static int Run(params string[] args) => Program.BuildRoot().Parse(args).Invoke();

    // 2,600 pages: two full 1024-page batches (4 MiB of page data each) and a shorter one.
    public static TheoryData<LegacyGuestType, LegacyOutputFormat> Shapes => new()
    {
        { LegacyGuestType.Pv, LegacyOutputFormat.Libxc },
        { LegacyGuestType.Pv, LegacyOutputFormat.Libxl },
        { LegacyGuestType.Hvm, LegacyOutputFormat.Libxc },
        { LegacyGuestType.Hvm, LegacyOutputFormat.Libxl },
    };

    private static byte[] Image(LegacyGuestType guest, int pages = 2600) =>
        LegacySyntheticImage.Generate(new LegacySyntheticOptions { Guest = guest, Pages = pages, Toolstack = true, OddPages = true });

    private (byte[] Bytes, LegacyConversionResult Result) ConvertFileToFile(string input, LegacyConverterOptions options, string name)
    {
        using var source = ByteSource.Open(input);
        LegacyConversionResult result;
        using (var output = new FileStream(PathOf(name), FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16))
        {
            result = LegacyConverter.Convert(source, output, options);
        }
        return (File.ReadAllBytes(PathOf(name)), result);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_kernel_copy_and_the_ordinary_path_write_the_same_bytes(LegacyGuestType guest, LegacyOutputFormat format)
    {
        var image = Image(guest);
        File.WriteAllBytes(PathOf("in"), image);
        var options = new LegacyConverterOptions { Format = format };
        var expected = LegacyConverter.Convert(image, options);

        var (kernel, kernelResult) = ConvertFileToFile(PathOf("in"), options, "kernel");
        var (plain, plainResult) = ConvertFileToFile(PathOf("in"), options with { KernelCopy = false }, "plain");

        Assert.Equal(expected, kernel);
        Assert.Equal(expected, plain);
        Assert.Equal(0, plainResult.KernelCopiedBytes);
        Assert.Equal(kernelResult.Pages, plainResult.Pages);
        Assert.Equal(kernel.LongLength, kernelResult.BytesWritten);
        if (OperatingSystem.IsLinux())
        {
            // 2,600 pages of data, every batch's pages above the 64 KiB threshold: all of them went through the kernel.
            Assert.Equal(kernelResult.Pages * 4096L, kernelResult.KernelCopiedBytes);
        }
    }

    [Fact]
    public void Memory_input_and_sparse_output_take_the_ordinary_path()
    {
        var image = Image(LegacyGuestType.Pv);
        File.WriteAllBytes(PathOf("in"), image);
        var expected = LegacyConverter.Convert(image, new LegacyConverterOptions());

        using (var memory = ByteSource.FromMemory(image))
        using (var output = new FileStream(PathOf("from-memory"), FileMode.Create, FileAccess.Write))
        {
            Assert.Equal(0, LegacyConverter.Convert(memory, output, new LegacyConverterOptions()).KernelCopiedBytes);
        }
        Assert.Equal(expected, File.ReadAllBytes(PathOf("from-memory")));

        var (sparse, result) = ConvertFileToFile(PathOf("in"), new LegacyConverterOptions { SparseOutput = true }, "sparse");
        Assert.Equal(0, result.KernelCopiedBytes);
        Assert.Equal(expected, sparse);
    }

    [LinuxFact]
    public void Into_a_pipe_the_kernel_copy_writes_the_same_bytes()
    {
        var image = Image(LegacyGuestType.Hvm);
        File.WriteAllBytes(PathOf("in"), image);
        var expected = LegacyConverter.Convert(image, new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl });

        using var server = new AnonymousPipeServerStream(PipeDirection.In);
        using var clientHandle = new SafeFileHandle(server.ClientSafePipeHandle.DangerousGetHandle(), ownsHandle: false);
        var received = new MemoryStream();
        var drain = Task.Run(() => server.CopyTo(received));
        LegacyConversionResult result;
        using (var source = ByteSource.Open(PathOf("in")))
        using (var pipe = new FileStream(clientHandle, FileAccess.Write, 1))
        {
            Assert.False(pipe.CanSeek);
            result = LegacyConverter.Convert(source, pipe, new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl });
        }
        server.DisposeLocalCopyOfClientHandle();
        Assert.True(drain.Wait(TimeSpan.FromMinutes(2)), "the pipe's reader did not finish");
        Assert.Equal(expected, received.ToArray());
        Assert.Equal(result.Pages * 4096L, result.KernelCopiedBytes);
    }

    /// <summary>The offset of the second PAGE_BATCH's page data (after its pfn words).</summary>
    private static long SecondBatchPages(byte[] image)
    {
        using var reader = LegacyStreamReader.FromMemory(image);
        var batches = 0;
        while (reader.Read())
        {
            if (reader.Kind == LegacyItemKind.PageBatch && reader.DataPageCount > 100 && ++batches == 2)
            {
                return reader.BodyOffset;
            }
        }
        throw new InvalidOperationException("the image has fewer than two page batches");
    }

    [Fact]
    public void A_truncated_input_fails_the_same_way_on_both_paths_naming_offset_item_and_field()
    {
        var image = Image(LegacyGuestType.Pv);
        // Cut inside the second batch's page data: the first batch went through the kernel, the second cannot.
        var cut = image.AsSpan(0, (int)SecondBatchPages(image) + 100_000).ToArray();
        File.WriteAllBytes(PathOf("cut"), cut);

        StreamFormatException Fail(bool kernel) => Assert.Throws<StreamFormatException>(() =>
            ConvertFileToFile(PathOf("cut"), new LegacyConverterOptions { KernelCopy = kernel }, kernel ? "kernel" : "plain"));
        var viaKernel = Fail(true);
        var plain = Fail(false);

        Assert.Equal(plain.Message, viaKernel.Message);
        Assert.True(viaKernel.IsTruncation);
        Assert.Equal("body", viaKernel.Field);
        Assert.Equal("PAGE_BATCH", viaKernel.RecordType);
        Assert.InRange(viaKernel.Offset, 1, cut.Length);
        Assert.Contains("offset", viaKernel.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_conversion_leaves_an_existing_output_untouched()
    {
        var image = Image(LegacyGuestType.Pv);
        File.WriteAllBytes(PathOf("in"), image);
        File.WriteAllBytes(PathOf("cut"), image.AsSpan(0, (int)SecondBatchPages(image) + 100_000).ToArray());
        byte[] old = [1, 2, 3, 4];
        File.WriteAllBytes(PathOf("out"), old);

        Assert.Equal(1, Run("convert-legacy", "-i", PathOf("cut"), "-o", PathOf("out")));
        Assert.Equal(old, File.ReadAllBytes(PathOf("out")));
        Assert.Equal(["cut", "in", "out"], _dir.GetFiles().Select(f => f.Name).Order(StringComparer.Ordinal));

        // The same command on the whole image replaces it with the converted bytes.
        Assert.Equal(0, Run("convert-legacy", "-i", PathOf("in"), "-o", PathOf("out")));
        Assert.Equal(LegacyConverter.Convert(image, new LegacyConverterOptions()), File.ReadAllBytes(PathOf("out")));
        Assert.Equal(["cut", "in", "out"], _dir.GetFiles().Select(f => f.Name).Order(StringComparer.Ordinal));
    }
}

/// <summary>A [Fact] that needs Linux's system calls; skipped, with the reason, elsewhere.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    /// <summary>Sets Skip off Linux.</summary>
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux (copy_file_range, sendfile)";
        }
    }
}
