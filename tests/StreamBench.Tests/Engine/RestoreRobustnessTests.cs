using FsCheck;
using FsCheck.Fluent;
using StreamBench.Domain;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// Whatever a stream holds, a restore either completes or throws <see cref="StreamFormatException"/>, and a failed
/// restore leaves its domain discarded (the fuzz target's contract: no other exception escapes).
/// </summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class RestoreRobustnessTests
{
    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>A saved stream (by index), byte flips at meaningful offsets, and a cut (-1: none).</summary>
        public static Arbitrary<(int Seed, (int Pick, byte Value)[] Flips, int Cut)> Mutations() => Arb.From(RestoreRobustnessTests.Mutations);
    }

    private static readonly Lazy<(byte[] Stream, int[] Hot)[]> Seeds = new(() =>
    {
        var seeds = new List<(byte[], int[])>();
        foreach ((GuestType type, SaveFormat format, int checkpoints) in new[]
                 {
                     (GuestType.Pv, SaveFormat.Libxc, 0), (GuestType.Pv32, SaveFormat.Xl, 0), (GuestType.Hvm, SaveFormat.Libxl, 2),
                     (GuestType.Pvh, SaveFormat.Xl, 0), (GuestType.Pv, SaveFormat.Libxl, 2),
                 })
        {
            using GuestDomain d = EngineTestSupport.Build(type, 4, 2, 7);
            byte[] stream = EngineTestSupport.Save(d, new SaveOptions { Format = format, Checkpoints = checkpoints, Live = checkpoints > 0 });
            seeds.Add((stream, HotOffsets(stream)));
        }

        return seeds.ToArray();
    });

    // Headers, record headers, small bodies and PAGE_DATA's pfn words: where a flipped byte changes the meaning.
    private static int[] HotOffsets(byte[] stream)
    {
        var hot = new List<int>();
        using var reader = XenStreamReader.FromMemory(stream);
        while (reader.Read())
        {
            int span = reader.Kind == StreamItemKind.Record
                ? 8 + (int)Math.Min(reader.BodyLength, reader.RecordType == 1 && reader.Layer == StreamLayer.Libxc ? 8 + (8 * 1024) : 96)
                : (int)Math.Min(reader.ItemLength, 64);
            hot.AddRange(Enumerable.Range((int)reader.Offset, span));
        }

        return hot.ToArray();
    }

    private static readonly Gen<(int Seed, (int Pick, byte Value)[] Flips, int Cut)> Mutations =
        from seed in Gen.Choose(0, 4)
        from count in Gen.Choose(1, 4)
        from flips in Gen.ArrayOf(Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Elements<byte>(0, 1, 0x7F, 0x80, 0xFF, 0x10)), count)
        from cut in Gen.Frequency((4, Gen.Constant(-1)), (1, Gen.Choose(0, int.MaxValue)))
        select (seed, flips, cut);

    [Property(MaxTest = 300)]
    public void Any_mutated_stream_restores_or_is_refused_with_a_stream_error_and_no_domain_left((int Seed, (int Pick, byte Value)[] Flips, int Cut) m)
    {
        (byte[] original, int[] hot) = Seeds.Value[m.Seed];
        byte[] stream = (byte[])original.Clone();
        foreach ((int pick, byte value) in m.Flips)
        {
            stream[hot[pick % hot.Length]] ^= value == 0 ? (byte)0xFF : value;
        }

        if (m.Cut >= 0)
        {
            stream = stream[..(m.Cut % stream.Length)];
        }

        GuestDomain? created = null;
        var options = new RestoreOptions { MemoryPages = 1024, Vcpus = 2, DomainCreated = d => created = d };
        try
        {
            RestoreEngine.Restore(ByteSource.FromMemory(stream), options).Domain.Dispose();
        }
        catch (StreamFormatException)
        {
            Assert.True(created is null || created.Lifecycle == DomainLifecycle.Discarded);
        }
    }
}
