using FsCheck;
using FsCheck.Fluent;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Legacy;

/// <summary>Mutated legacy images give a <see cref="StreamFormatException"/> with an in-range offset, or a result; never another exception or a hang.</summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class LegacyFuzzTests
{
    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>Mutated synthetic images.</summary>
        public static Arbitrary<Mutation> Mutations() => Arb.From(LegacyFuzzTests.Mutations);

        /// <summary>Mutated legacy saves of simulated domains.</summary>
        public static Arbitrary<SavedMutation> SavedMutations() => Arb.From(LegacyFuzzTests.SavedMutations);
    }

    /// <summary>A valid image and the mutations to apply to it.</summary>
    public sealed record Mutation(LegacySyntheticOptions Image, int[] Flips, int CutPermille, int ChunkIdAt, int ChunkId, bool Checkpoints, bool Libxl);

    private static readonly Gen<Mutation> Mutations =
        from width in Gen.Elements(LegacyWidth.Bits32, LegacyWidth.Bits64)
        from pv in Gen.Elements(false, true)
        from pages in Gen.Choose(1, 12)
        from checkpoints in Gen.Choose(0, 2)
        from compression in Gen.Elements(false, true)
        from seed in Gen.Choose(1, int.MaxValue)
        from flipCount in Gen.Choose(0, 6)
        from flips in Gen.ArrayOf(Gen.Choose(0, int.MaxValue), flipCount)
        from cut in Gen.Frequency((2, Gen.Constant(1000)), (1, Gen.Choose(0, 999)))
        from idAt in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, int.MaxValue)))
        from id in Gen.Choose(-22, 1100)
        from libxl in Gen.Elements(false, true)
        select new Mutation(
            new LegacySyntheticOptions
            {
                Width = width,
                Guest = pv ? LegacyGuestType.Pv : LegacyGuestType.Hvm,
                GuestWidth = seed % 2 == 0 ? 8 : 4,
                Pages = pages,
                BatchSize = 1 + (seed % 5),
                Seed = (ulong)seed,
                Vcpus = 1 + (seed % 3),
                Toolstack = seed % 3 == 0,
                XsaveSize = seed % 4 == 0 ? 32 : 0,
                OddPages = seed % 5 < 2,
                Checkpoints = checkpoints,
                Compression = compression && checkpoints > 0,
                DirtyPagesPerCheckpoint = 4,
                HvmContextSize = 64,
                QemuSize = 64,
            },
            flips, cut, idAt, id, checkpoints > 0, libxl);

    private static readonly ErrorLayer[] Layers = [ErrorLayer.Legacy, ErrorLayer.Xl];

    private static byte[] Apply(Mutation m)
    {
        var bytes = LegacySyntheticImage.Generate(m.Image);
        foreach (var f in m.Flips)
        {
            bytes[f % bytes.Length] ^= (byte)(1 << (f / bytes.Length % 8));
        }
        if (m.ChunkIdAt >= 0 && bytes.Length >= 4)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(m.ChunkIdAt % (bytes.Length - 3)), m.ChunkId);
        }
        return bytes.AsSpan(0, (int)((long)bytes.Length * m.CutPermille / 1000)).ToArray();
    }

    private static void OnlyFormatErrors(byte[] input, Action run)
    {
        var task = Task.Run(() =>
        {
            try
            {
                run();
            }
            catch (StreamFormatException e)
            {
                Assert.InRange(e.Offset, 0, input.Length);
                Assert.Contains(e.Layer, Layers);
                // The error names the item (chunk, tail part, header) and the field, not just an offset.
                Assert.False(string.IsNullOrEmpty(e.RecordType), $"no chunk named: {e.Message}");
                Assert.False(string.IsNullOrEmpty(e.Field), $"no field named: {e.Message}");
            }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(20)), "no answer in 20 s: a hang");
        task.GetAwaiter().GetResult();
    }

    [Property(MaxTest = 400)]
    public void Reading_a_mutated_image_fails_only_with_StreamFormatException(Mutation m)
    {
        var input = Apply(m);
        foreach (var semantics in new[] { LegacySemantics.XenConverter, LegacySemantics.LibxcRestore })
        {
            OnlyFormatErrors(input, () =>
            {
                using var r = LegacyStreamReader.FromMemory(input, new LegacyStreamReaderOptions { Semantics = semantics, MaxBufferedBody = 1 << 20 });
                var buffer = new byte[4096];
                while (r.Read())
                {
                    while (r.ReadBody(buffer) > 0)
                    {
                    }
                }
            });
        }
    }

    [Property(MaxTest = 400)]
    public void Converting_a_mutated_image_fails_only_with_StreamFormatException(Mutation m)
    {
        var input = Apply(m);
        OnlyFormatErrors(input, () =>
        {
            var options = new LegacyConverterOptions
            {
                Checkpoints = m.Checkpoints,
                Format = m.Libxl ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc,
                CompressionCacheCapacity = 64,
            };
            using var source = ByteSource.FromMemory(input);
            LegacyConverter.Convert(source, Stream.Null, options);
        });
    }

    [Property(MaxTest = 150)]
    public void Converting_a_mutated_image_through_a_pipe_fails_only_with_StreamFormatException(Mutation m)
    {
        var input = Apply(m);
        OnlyFormatErrors(input, () =>
        {
            using var source = ByteSource.FromStream(new TrickleStream(input, 1500), bufferSize: 4096);
            LegacyConverter.Convert(source, Stream.Null, new LegacyConverterOptions { Checkpoints = m.Checkpoints, XlHeader = m.ChunkId % 7 == 0 });
        });
    }

    /// <summary>A legacy save of a simulated domain (real page tables, extv, xcnt, HVM context, QEMU record) and its mutations.</summary>
    public sealed record SavedMutation(StreamBench.Domain.GuestType Type, LegacyWidth Width, int[] Flips, int CutPermille, int ChunkIdAt, int ChunkId, bool Libxl);

    private static readonly Dictionary<(StreamBench.Domain.GuestType, LegacyWidth), byte[]> Saved = [];

    private static byte[] SavedImage(StreamBench.Domain.GuestType type, LegacyWidth width)
    {
        lock (Saved)
        {
            if (!Saved.TryGetValue((type, width), out var image))
            {
                using var d = LegacySaveTests.Build(new LegacySaveTests.Scenario(type, 4, 2, 99, width, type == StreamBench.Domain.GuestType.Hvm ? 0 : 8));
                image = LegacySaveTests.SaveLegacy(d, width, out _);
                Saved[(type, width)] = image;
            }
            return image;
        }
    }

    private static readonly Gen<SavedMutation> SavedMutations =
        from type in Gen.Elements(StreamBench.Domain.GuestType.Pv, StreamBench.Domain.GuestType.Pv32, StreamBench.Domain.GuestType.Hvm)
        from width in Gen.Elements(LegacyWidth.Bits32, LegacyWidth.Bits64)
        from flipCount in Gen.Choose(1, 8)
        from flips in Gen.ArrayOf(Gen.Choose(0, int.MaxValue), flipCount)
        from cut in Gen.Frequency((2, Gen.Constant(1000)), (1, Gen.Choose(0, 999)))
        from idAt in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Choose(0, int.MaxValue)))
        from id in Gen.Choose(-22, 1100)
        from libxl in Gen.Elements(false, true)
        select new SavedMutation(type, width, flips, cut, idAt, id, libxl);

    [Property(MaxTest = 150)]
    public void Converting_a_mutated_legacy_save_fails_only_with_a_precise_StreamFormatException(SavedMutation m)
    {
        var bytes = SavedImage(m.Type, m.Width).ToArray();
        // Flips land in the first 64 KiB half the time: the header, extended info, p2m list and first batches.
        foreach (var f in m.Flips)
        {
            var at = f % 2 == 0 ? f % Math.Min(bytes.Length, 1 << 16) : f % bytes.Length;
            bytes[at] ^= (byte)(1 << (f / 7 % 8));
        }
        if (m.ChunkIdAt >= 0)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(m.ChunkIdAt % (bytes.Length - 3)), m.ChunkId);
        }
        var input = bytes.AsSpan(0, (int)((long)bytes.Length * m.CutPermille / 1000)).ToArray();
        OnlyFormatErrors(input, () =>
        {
            using var source = ByteSource.FromMemory(input);
            LegacyConverter.Convert(source, Stream.Null, new LegacyConverterOptions { Format = m.Libxl ? LegacyOutputFormat.Libxl : LegacyOutputFormat.Libxc });
        });
    }

    [Fact]
    public void A_lying_length_in_a_later_checkpoint_allocates_only_what_arrives()
    {
        // A Remus HVM image whose last checkpoint declares a 60 MiB HVM context and then stops: a failover. The
        // converter reads later-checkpoint records whole before writing them, but only as far as the input goes.
        var image = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Guest = LegacyGuestType.Hvm, Pages = 8, Checkpoints = 2, HvmContextSize = 0x1234, QemuSize = 64 });
        var ctx = image.AsSpan().LastIndexOf(new byte[] { 0x34, 0x12, 0, 0 }); // the last checkpoint's u32 context length
        Assert.True(ctx > image.Length / 2);
        var input = image.AsSpan(0, ctx + 4 + 40).ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(ctx), 60u << 20);
        using var source = ByteSource.FromMemory(input);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = LegacyConverter.Convert(source, Stream.Null, new LegacyConverterOptions { Checkpoints = true, Format = LegacyOutputFormat.Libxl });
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(result.Failover);
        Assert.Equal("HVM_TAIL_CONTEXT", result.PartialItemDropped);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated for a 60 MiB declared length");
    }

    [Fact]
    public void Lying_lengths_do_not_allocate_or_hang()
    {
        var input = LegacyRefusals.Build(LegacyWidth.Bits64, w =>
        {
            w.WriteHeader(16);
            w.WriteChunkId((int)LegacyChunkId.CompressedData);
            w.WriteU64(long.MaxValue);
        });
        OnlyFormatErrors(input, () =>
        {
            using var r = LegacyStreamReader.FromMemory(input);
            while (r.Read())
            {
                if (r.Kind == LegacyItemKind.CompressedData)
                {
                    Assert.Equal("length", Assert.Throws<StreamFormatException>(() => r.GetBody()).Field);
                }
            }
        });
        var toolstack = LegacyRefusals.Build(LegacyWidth.Bits64, w =>
        {
            w.WriteHeader(16);
            w.WriteChunkId((int)LegacyChunkId.Toolstack);
            w.WriteU32(uint.MaxValue);
        });
        var e = Assert.Throws<StreamFormatException>(() => LegacyConverter.Convert(toolstack, new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl }));
        Assert.Equal("size", e.Field);
    }
}
