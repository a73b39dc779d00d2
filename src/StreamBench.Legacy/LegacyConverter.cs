using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>The output layer of <see cref="LegacyConverter"/> (convert-legacy-stream -f).</summary>
public enum LegacyOutputFormat
{
    /// <summary>A bare libxc v3 stream (the QEMU record, if read, is passed through raw after END).</summary>
    Libxc,
    /// <summary>A libxl v2 stream with the LEGACY option bit, wrapping the libxc v3 stream.</summary>
    Libxl,
}

/// <summary>Options of <see cref="LegacyConverter"/>; the first five mirror convert-legacy-stream's flags.</summary>
public sealed record LegacyConverterOptions
{
    /// <summary>-w: the legacy toolstack width (Auto detects it; Xen's converter requires it).</summary>
    public LegacyWidth Width { get; init; } = LegacyWidth.Auto;

    /// <summary>-g: the guest type (Auto detects it; Xen's converter requires it).</summary>
    public LegacyGuestType GuestType { get; init; } = LegacyGuestType.Auto;

    /// <summary>-f: libxc (default) or libxl.</summary>
    public LegacyOutputFormat Format { get; init; } = LegacyOutputFormat.Libxc;

    /// <summary>-x: an xl save-file header precedes the image; it is copied through (with STREAMv2 set for libxl output).</summary>
    public bool XlHeader { get; init; }

    /// <summary>--skip-qemu: do not read the QEMU record. Only honoured for libxc output, as in Xen's converter.</summary>
    public bool SkipQemu { get; init; }

    /// <summary>
    /// Accept an HVM image that ends right after its tail, with no QEMU record (PV-on-HVM saves without a device
    /// model). Xen's converter requires the record unless --skip-qemu; restore and verify use this to read both.
    /// </summary>
    public bool QemuRecordOptional { get; init; }

    /// <summary>
    /// Convert Remus checkpoints after the first image into a checkpointed v3 stream (CHECKPOINT records; for libxl
    /// output also CHECKPOINT_END). Off by default: like Xen's converter, stop after the first image.
    /// </summary>
    public bool Checkpoints { get; init; }

    /// <summary>Pages of previous contents kept for decoding compressed checkpoints.</summary>
    public int CompressionCacheCapacity { get; init; } = 2 * LegacyPageCompression.SenderCachePages;

    /// <summary>The largest toolstack blob parsed in libxl mode.</summary>
    public int MaxToolstackBlob { get; init; } = 16 << 20;

    /// <summary>The most EMULATOR_XENSTORE_DATA bytes gathered from toolstack blobs.</summary>
    public int MaxXenstoreData { get; init; } = 64 << 20;

    /// <summary>The most HVM params gathered from chunks in one body.</summary>
    public int MaxHvmParams { get; init; } = 1 << 16;

    /// <summary>The largest QEMU record of unknown length ("QemuDeviceModelRecord" through a pipe) buffered for libxl output.</summary>
    public int MaxBufferedQemuRecord { get; init; } = 256 << 20;

    /// <summary>
    /// With <see cref="Checkpoints"/>: the largest record of a checkpoint after the first that is read whole before it
    /// is written, so that a failover (the input ending inside that checkpoint) leaves the output at a record boundary.
    /// The buffer grows only as input arrives. A larger record (an HVM context or QEMU record above this size) is
    /// streamed, unless the input's length is known and it ends before the record does (the record is then read to
    /// the end and not written); only through a pipe can a failover inside such a record leave the output inside it.
    /// </summary>
    public int MaxHeldCheckpointRecord { get; init; } = 64 << 20;

    /// <summary>
    /// --sparse: when the output is a regular file written at its end, leave runs of all-zero pages as holes (seek over
    /// them) instead of writing them. The bytes read back are the same; the file takes less space. Off by default: the
    /// zero test reads every page, and on ext4 the holes cost more than the writes they save (docs/LEGACY.md 5).
    /// </summary>
    public bool SparseOutput { get; init; }

    /// <summary>
    /// Page data of a regular input file goes to a file or pipe output inside the kernel (copy_file_range, sendfile):
    /// the bytes pass unchanged, so they need not enter this process. Where the kernel will not (another OS, a refused
    /// pair of files, memory or pipe input, <see cref="SparseOutput"/>) they are written as usual; the output is the
    /// same either way. Off only to compare the two paths.
    /// </summary>
    public bool KernelCopy { get; init; } = true;
}

/// <summary>What a conversion did.</summary>
public sealed record LegacyConversionResult
{
    /// <summary>The toolstack width used.</summary>
    public LegacyWidth Width { get; init; }

    /// <summary>The guest type used.</summary>
    public LegacyGuestType GuestType { get; init; }

    /// <summary>Complete images converted (1, plus Remus checkpoints with <see cref="LegacyConverterOptions.Checkpoints"/>).</summary>
    public int Images { get; init; }

    /// <summary>PAGE_DATA records written.</summary>
    public long PageDataRecords { get; init; }

    /// <summary>Pages of data written.</summary>
    public long Pages { get; init; }

    /// <summary>Pages decoded from COMPRESSED_DATA.</summary>
    public long DecompressedPages { get; init; }

    /// <summary>Bytes written.</summary>
    public long BytesWritten { get; init; }

    /// <summary>Bytes of page data the kernel copied from the input file to the output (<see cref="LegacyConverterOptions.KernelCopy"/>).</summary>
    public long KernelCopiedBytes { get; init; }

    /// <summary>Bytes of zero pages left as holes in the output file rather than written (they read back as zeros).</summary>
    public long HoleBytes { get; init; }

    /// <summary>Input was left after the converted image (Xen's converter ignores it too).</summary>
    public bool TrailingDataIgnored { get; init; }

    /// <summary>A Remus stream stopped inside a checkpoint; that checkpoint's complete records end the output unterminated.</summary>
    public bool Failover { get; init; }

    /// <summary>
    /// On a failover: the legacy item (PAGE_BATCH, PV_TAIL_VCPU_BASIC, HVM_TAIL_CONTEXT, QEMU_RECORD, ...) the end of
    /// the input cut while its record was being read; that record was not written. Null when the input ended between
    /// items.
    /// </summary>
    public string? PartialItemDropped { get; init; }

    /// <summary>QEMU records of checkpoints dropped because libxc output has no place for them.</summary>
    public int QemuRecordsDropped { get; init; }
}

/// <summary>
/// Converts a legacy image to a v3 libxc stream, optionally wrapped in a libxl v2 stream, exactly as Xen's
/// convert-legacy-stream does: for every input that tool accepts, the output is byte for byte the same. Where it
/// refuses, this converter either converts (docs/LEGACY.md lists each case) or fails with a
/// <see cref="StreamFormatException"/> naming the chunk, the offset and the field. The input is streamed: page data
/// goes from the source to the output without a per-page copy, and memory does not grow with the stream.
/// </summary>
public static partial class LegacyConverter
{
    /// <summary>Converts <paramref name="input"/> to <paramref name="output"/>. <paramref name="log"/> receives -v lines.</summary>
    public static LegacyConversionResult Convert(ByteSource input, Stream output, LegacyConverterOptions options, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        // --sparse, to a regular file at its end: runs of zero pages become holes (the bytes read back are the same).
        using var writer = options.SparseOutput
            ? XenStreamWriter.ForFile(output, leaveOpen: true, bufferSize: 1 << 16)
            : new XenStreamWriter(output, leaveOpen: true, bufferSize: 1 << 16);
        using var conversion = new Conversion(input, writer, options, log);
        var result = conversion.Run();
        writer.Flush();
        return result with { BytesWritten = writer.Position, HoleBytes = writer.HoleBytes };
    }

    /// <summary>Converts bytes in memory (tests).</summary>
    public static byte[] Convert(ReadOnlyMemory<byte> input, LegacyConverterOptions options)
    {
        using var source = ByteSource.FromMemory(input);
        using var ms = new MemoryStream();
        Convert(source, ms, options);
        return ms.ToArray();
    }
}
