using System.Text;
using FsCheck;
using FsCheck.Fluent;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using FsCheck.Xunit;
using Xunit;
using Xunit.Abstractions;
using StreamBench.Tests.Verification;

namespace StreamBench.Tests.Legacy;

/// <summary>
/// Our converter against Xen's convert-legacy-stream (Debian xen-utils-4.17): byte-identical output wherever Xen's
/// converter accepts the input, and a converted (or precisely refused) stream where it does not.
/// </summary>
[Trait("Category", "Oracle")]
[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class LegacyOracleTests(ITestOutputHelper output)
{
    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>Random images Xen's converter accepts.</summary>
        public static Arbitrary<LegacyConversionCase> Cases() => Arb.From(LegacyCases.AcceptedByXen);
    }

    public static TheoryData<string> MatrixNames => new(LegacyCases.Matrix.Keys);

    private static void AssertSameBytes(byte[] expected, byte[] actual, string what)
    {
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return;
        }
        var i = 0;
        while (i < Math.Min(expected.Length, actual.Length) && expected[i] == actual[i])
        {
            i++;
        }
        Assert.Fail($"{what}: outputs differ at byte {i} (Xen {expected.Length} bytes, ours {actual.Length} bytes)");
    }

    [OracleTheory]
    [MemberData(nameof(MatrixNames))]
    public void Conversion_is_byte_identical_to_Xens_converter(string name)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var c = LegacyCases.Matrix[name];
        var legacy = LegacySyntheticImage.Generate(c.Image);
        var xen = LegacyOracle.Convert(legacy, c.OracleArgs);
        Assert.True(xen.ExitCode == 0, $"Xen's converter refused the generated image (rc {xen.ExitCode}): {xen.Stderr}");
        var ours = LegacyConverter.Convert(legacy, c.Converter);
        AssertSameBytes(xen.Output, ours, name);
    }

    [OracleTheory]
    [MemberData(nameof(MatrixNames))]
    public void Converted_streams_read_end_to_end(string name)
    {
        var c = LegacyCases.Matrix[name];
        var converted = LegacyConverter.Convert(LegacySyntheticImage.Generate(c.Image), c.Converter);
        using var reader = XenStreamReader.FromMemory(converted);
        var records = new List<string>();
        while (reader.Read())
        {
            if (reader.Kind == StreamItemKind.Record)
            {
                records.Add(reader.RecordTypeName);
                _ = reader.GetBody();
            }
        }
        Assert.Equal(StreamEnding.Complete, reader.Ending);
        Assert.Equal(LibxcWire.LegacyConvertedMajor, reader.DomainHeader!.Value.XenMajor);
        Assert.Equal(LegacyWire.ConverterVersion, reader.DomainHeader!.Value.XenMinor);
        Assert.Contains("STATIC_DATA_END", records);
        if (c.Converter.Format == LegacyOutputFormat.Libxl)
        {
            Assert.True((reader.LibxlHeader!.Value.Options & LibxlOptions.Legacy) != 0);
        }
    }

    public static TheoryData<StreamBench.Domain.GuestType, int, string, int> LegacySaves => new()
    {
        { StreamBench.Domain.GuestType.Pv, 64, "libxc", 2 },
        { StreamBench.Domain.GuestType.Pv, 32, "libxl", 1 },
        { StreamBench.Domain.GuestType.Pv32, 64, "libxl", 2 },
        { StreamBench.Domain.GuestType.Pv32, 32, "libxc", 1 },
        { StreamBench.Domain.GuestType.Hvm, 64, "libxl", 2 },
        { StreamBench.Domain.GuestType.Hvm, 32, "libxc", 1 },
    };

    /// <summary>Images of simulated domains written by <see cref="StreamBench.Engine.Save.LegacySave"/>: Xen's converter takes them and writes what ours writes.</summary>
    [OracleTheory]
    [MemberData(nameof(LegacySaves))]
    public void Legacy_saves_of_simulated_domains_convert_as_Xens_converter_converts_them(StreamBench.Domain.GuestType type, int width, string format, int vcpus)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var legacyWidth = width == 32 ? LegacyWidth.Bits32 : LegacyWidth.Bits64;
        using var domain = LegacySaveTests.Build(new LegacySaveTests.Scenario(type, 5, vcpus, 1234 + (ulong)width, legacyWidth,
            type == StreamBench.Domain.GuestType.Hvm ? 0 : 8));
        var image = LegacySaveTests.SaveLegacy(domain, legacyWidth, out _);
        var hvm = type == StreamBench.Domain.GuestType.Hvm;
        var xen = LegacyOracle.Convert(image, ["-w", width.ToString(System.Globalization.CultureInfo.InvariantCulture), "-g", hvm ? "hvm" : "pv", "-f", format]);
        Assert.True(xen.ExitCode == 0, $"Xen's converter refused the legacy save (rc {xen.ExitCode}): {xen.Stderr}");
        var ours = LegacyConverter.Convert(image, new LegacyConverterOptions
        {
            Format = format == "libxl" ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc,
        });
        AssertSameBytes(xen.Output, ours, $"{type} {width}-bit {format}");
    }

    public static TheoryData<string> EdgeNames => new(LegacyEdgeCases.Cases.Keys);

    [OracleTheory]
    [MemberData(nameof(EdgeNames))]
    public void Odd_images_Xen_accepts_convert_byte_identically(string name)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var c = LegacyEdgeCases.Cases[name];
        var xen = LegacyOracle.Convert(c.Input, c.OracleArgs);
        Assert.True(xen.ExitCode == 0, $"Xen refused {name} (rc {xen.ExitCode}): {xen.Stderr}");
        AssertSameBytes(xen.Output, LegacyConverter.Convert(c.Input, c.Options), name);
    }

    [OracleProperty(MaxTest = 25)]
    public void Random_images_Xen_accepts_convert_byte_identically(LegacyConversionCase c)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var legacy = LegacySyntheticImage.Generate(c.Image);
        var xen = LegacyOracle.Convert(legacy, c.OracleArgs);
        Assert.True(xen.ExitCode == 0, $"Xen refused (rc {xen.ExitCode}): {xen.Stderr}");
        AssertSameBytes(xen.Output, LegacyConverter.Convert(legacy, c.Converter), c.ToString());
    }

    [OracleFact]
    public void The_oracle_wrapper_and_our_converter_agree()
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var c = LegacyCases.Matrix["w64-hvm-libxl+qemu-toolstack-vcpuinfo-tsc"];
        var legacy = LegacySyntheticImage.Generate(c.Image);
        var xen = LegacyOracle.RunWrapper(legacy, c.OracleArgs);
        Assert.Equal(0, xen.ExitCode);
        AssertSameBytes(xen.Output, LegacyConverter.Convert(legacy, c.Converter), "wrapper");
    }

    private static byte[] WithXlHeader(byte[] legacy, uint mandatoryFlags, byte[] optionalData)
    {
        using var ms = new MemoryStream();
        ms.Write(XlWire.Magic);
        Span<byte> f = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(f, XlWire.ByteOrderMarker);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(f[4..], mandatoryFlags);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(f[8..], 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(f[12..], (uint)optionalData.Length);
        ms.Write(f);
        ms.Write(optionalData);
        ms.Write(legacy);
        return ms.ToArray();
    }

    [OracleTheory]
    [InlineData("w64-hvm-libxl+qemu-toolstack-vcpuinfo-tsc")]
    [InlineData("w64-hvm-libxc+qemu-toolstack-vcpuinfo-tsc")]
    [InlineData("w32-pv64-libxl-vcpuinfo-tsc")]
    [InlineData("w32-pv32-libxc-toolstack-vcpuinfo")]
    public void Xl_header_is_copied_as_Xens_converter_would_without_its_Python3_bug(string name)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var c = LegacyCases.Matrix[name];
        var optional = Encoding.ASCII.GetBytes("\u0016\0\0\0{\"c_info\": {}}       \0");
        var input = WithXlHeader(LegacySyntheticImage.Generate(c.Image), (uint)XlMandatoryFlags.Json, optional);
        var converter = c.Converter with { XlHeader = true };
        var args = new List<string>(c.OracleArgs) { "-x" };

        // Xen 4.17's converter compares the bytes it read with a str under Python 3: -x always fails.
        var real = LegacyOracle.Convert(input, args);
        Assert.NotEqual(0, real.ExitCode);
        Assert.Contains("No xl header", real.Stderr, StringComparison.Ordinal);

        var fixedXen = LegacyOracle.Convert(input, args, fixXlMagic: true);
        Assert.True(fixedXen.ExitCode == 0, fixedXen.Stderr);
        var ours = LegacyConverter.Convert(input, converter);
        AssertSameBytes(fixedXen.Output, ours, name + " -x");
        var flags = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(ours.AsSpan(XlWire.MandatoryFlagsOffset));
        Assert.Equal(c.Converter.Format == LegacyOutputFormat.Libxl, (flags & (uint)XlMandatoryFlags.StreamV2) != 0);
    }

    // ---- where Xen's converter refuses and ours converts (docs/LEGACY.md lists these) ----------------------------

    [OracleTheory]
    [InlineData(LegacyQemuSignature.QemuDeviceModelRecord, LegacyOutputFormat.Libxc)]
    [InlineData(LegacyQemuSignature.QemuDeviceModelRecord, LegacyOutputFormat.Libxl)]
    [InlineData(LegacyQemuSignature.RemusDeviceModelState, LegacyOutputFormat.Libxc)]
    [InlineData(LegacyQemuSignature.RemusDeviceModelState, LegacyOutputFormat.Libxl)]
    public void Other_QEMU_signatures_are_refused_by_Xen_and_converted_by_us(LegacyQemuSignature signature, LegacyOutputFormat format)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var image = new LegacySyntheticOptions { Guest = LegacyGuestType.Hvm, QemuSignature = signature, Pages = 8 };
        var legacy = LegacySyntheticImage.Generate(image);
        var c = new LegacyConversionCase(image, new LegacyConverterOptions { Format = format, Width = image.Width, GuestType = image.Guest });
        var xen = LegacyOracle.Convert(legacy, c.OracleArgs);
        Assert.NotEqual(0, xen.ExitCode);
        Assert.Contains("Unrecognised Qemu sig", xen.Stderr, StringComparison.Ordinal);

        // Ours equals Xen's output for the same image with a 0002 record carrying the same data.
        var as0002 = LegacySyntheticImage.Generate(image with { QemuSignature = LegacyQemuSignature.DeviceModelRecord0002 });
        var reference = LegacyOracle.Convert(as0002, c.OracleArgs);
        Assert.Equal(0, reference.ExitCode);
        var ours = LegacyConverter.Convert(legacy, c.Converter);
        if (format == LegacyOutputFormat.Libxl)
        {
            AssertSameBytes(reference.Output, ours, "EMULATOR_CONTEXT");
        }
        else
        {
            // libxc output passes the record through raw: only the signature (and the missing length) differ.
            var sig = signature == LegacyQemuSignature.QemuDeviceModelRecord ? LegacyWire.QemuDeviceModelRecord : LegacyWire.RemusDeviceModelState;
            var prefix = reference.Output.Length - image.QemuSize - 25;
            Assert.Equal(reference.Output.AsSpan(0, prefix).ToArray(), ours.AsSpan(0, prefix).ToArray());
            Assert.Equal(sig.ToArray(), ours.AsSpan(prefix, 21).ToArray());
        }
    }

    [OracleTheory]
    [InlineData(LegacyGuestType.Pv, LegacyOutputFormat.Libxc)]
    [InlineData(LegacyGuestType.Hvm, LegacyOutputFormat.Libxl)]
    public void ENABLE_COMPRESSION_is_refused_by_Xen_and_the_first_image_converted_by_us(LegacyGuestType guest, LegacyOutputFormat format)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var image = new LegacySyntheticOptions { Guest = guest, Pages = 40, Compression = true, Checkpoints = 2 };
        var c = new LegacyConversionCase(image, new LegacyConverterOptions { Format = format, Width = image.Width, GuestType = guest });
        var xen = LegacyOracle.Convert(LegacySyntheticImage.Generate(image), c.OracleArgs);
        Assert.Equal(2, xen.ExitCode);
        Assert.Contains("todo", xen.Stderr, StringComparison.Ordinal);

        // Without the marker (and so without format B later) Xen converts the first image: ours must equal it.
        var plain = LegacySyntheticImage.Generate(image with { Compression = false });
        var reference = LegacyOracle.Convert(plain, c.OracleArgs);
        Assert.Equal(0, reference.ExitCode);
        AssertSameBytes(reference.Output, LegacyConverter.Convert(LegacySyntheticImage.Generate(image), c.Converter), "first image");
    }

    [OracleTheory]
    [InlineData(LegacyWidth.Bits32)]
    [InlineData(LegacyWidth.Bits64)]
    public void A_physmap_name_that_is_not_UTF8_crashes_Xen_but_not_us(LegacyWidth width)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        // convert-legacy-stream formats its -v line with name.decode() whether or not -v is given.
        var image = new LegacySyntheticOptions { Guest = LegacyGuestType.Hvm, Pages = 4, Toolstack = true, Width = width };
        var legacy = LegacySyntheticImage.Generate(image);
        var at = legacy.AsSpan().IndexOf("vga.vram"u8);
        legacy[at] = 0xFF;
        var c = new LegacyConversionCase(image, new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl, Width = image.Width, GuestType = image.Guest });
        var xen = LegacyOracle.Convert(legacy, c.OracleArgs);
        Assert.NotEqual(0, xen.ExitCode);
        Assert.Contains("UnicodeDecodeError", xen.Stderr, StringComparison.Ordinal);

        // Ours equals Xen's output for the same image with an ASCII first byte, except for that byte.
        var ascii = (byte[])legacy.Clone();
        ascii[at] = (byte)'v';
        var reference = LegacyOracle.Convert(ascii, c.OracleArgs);
        Assert.Equal(0, reference.ExitCode);
        var expected = reference.Output;
        expected[expected.AsSpan().IndexOf("vga.vram"u8)] = 0xFF;
        using var log = new StringWriter();
        using var source = ByteSource.FromMemory(legacy);
        using var ms = new MemoryStream();
        LegacyConverter.Convert(source, ms, c.Converter, log);
        AssertSameBytes(expected, ms.ToArray(), "non-UTF-8 physmap name");
    }

    // ---- where both refuse: ours with a precise error ---------------------------------------------------------

    public static TheoryData<string> BothRefuseNames => new(LegacyRefusals.Cases.Keys);

    [OracleTheory]
    [MemberData(nameof(BothRefuseNames))]
    public void Inputs_Xen_refuses_are_refused_with_a_precise_error(string name)
    {
        if (!LegacyOracle.Ready(output))
        {
            return;
        }
        var r = LegacyRefusals.Cases[name];
        var xen = LegacyOracle.Convert(r.Input, r.OracleArgs);
        Assert.True(xen.ExitCode != 0, $"Xen accepted {name}");
        var e = Assert.Throws<Formats.StreamFormatException>(() => LegacyConverter.Convert(r.Input, r.Options));
        output.WriteLine($"Xen rc {xen.ExitCode}: {xen.Stderr.Trim().Split('\n')[^1]}");
        output.WriteLine("ours: " + e.Message);
        Assert.Equal(r.Field, e.Field);
        Assert.InRange(e.Offset, 0, r.Input.Length);
        Assert.Contains(r.MessagePart, e.Message, StringComparison.Ordinal);
    }
}
