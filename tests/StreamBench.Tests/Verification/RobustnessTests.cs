using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Verification;

/// <summary>Laws about bad input: no exception, findings inside the stream, bounded memory, the same verdict from any source.</summary>
[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class RobustnessTests
{
    /// <summary>One byte of a base stream set to a value, verified with a profile and checkpoint mode.</summary>
    public sealed record ByteMutation(int Base, int Position, byte Value, VerificationProfile Profile, CheckpointMode Mode);

    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>Any byte of any base stream, any value, every profile and checkpoint mode.</summary>
        public static Arbitrary<ByteMutation> ByteMutations() => Arb.From(
            from b in Gen.Choose(0, Bases.Length - 1)
            from position in Gen.Choose(0, int.MaxValue)
            from value in Gen.Choose(0, 255)
            from profile in Gen.Elements(VerifierTests.Profiles)
            from mode in Gen.Elements(CheckpointMode.Auto, CheckpointMode.Plain, CheckpointMode.Checkpointed)
            select new ByteMutation(b, position, (byte)value, profile, mode));
    }

    private static readonly (string Name, TestStream Stream)[] Bases =
    [
        .. VerifierTests.HandMadeStreams.Select(kv => (kv.Key, kv.Value())),
        ("libxl-remus", TestStream.HvmRemusLibxl()),
        ("libxc-remus", TestStream.HvmRemus()),
        ("postcopy-libxl", TestStream.Postcopy(libxl: true)),
        ("back-channel", TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(1)), (0xF, new byte[16]), (5, Bodies.U32(2)))),
        ("back-channel-rfc", TestStream.BackChannel(StreamDialect.PostcopyRfc, (0x15, Bodies.PfnList(3, 4)), (0x16, []))),
    ];

    private static void AssertSane(byte[] bytes, VerifyResult r, string context)
    {
        foreach (var f in r.Findings)
        {
            Assert.True(f.Offset >= 0 && f.Offset <= bytes.Length, $"finding offset {f.Offset} outside [0, {bytes.Length}]: {f} ({context})");
            Assert.True(f.RecordIndex >= -1, $"record index {f.RecordIndex}: {f} ({context})");
            Assert.False(string.IsNullOrEmpty(f.Message));
        }
        Assert.Equal(r.ErrorCount + r.WarningCount + r.InfoCount, r.Findings.Count + r.FindingsDropped);
    }

    private static VerifyResult Run(byte[] bytes, TestStream s, VerificationProfile profile, CheckpointMode mode = CheckpointMode.Auto)
        => Verifier.Verify(bytes, VerifierOptions.Create(profile, s.Format, s.Dialect, mode));

    [Property(MaxTest = 2000)]
    public void Any_single_byte_mutation_yields_findings_inside_the_stream_and_never_an_exception(ByteMutation t)
    {
        var (name, s) = Bases[t.Base];
        var bytes = s.Build();
        var at = t.Position % bytes.Length;
        bytes[at] = t.Value;
        var r = Run(bytes, s, t.Profile, t.Mode);
        AssertSane(bytes, r, $"{name} byte {at} = 0x{t.Value:x2} {t.Profile} {t.Mode}");
    }

    [Fact]
    public void Every_byte_outside_page_contents_mutated_three_ways_is_handled()
    {
        foreach (var (name, s) in Bases)
        {
            var original = s.Build();
            var positions = NonPagePositions(s).ToList();
            foreach (var at in positions)
            {
                foreach (var value in new[] { (byte)0x00, (byte)0xFF, (byte)(original[at] ^ 0x01) })
                {
                    var bytes = (byte[])original.Clone();
                    bytes[at] = value;
                    foreach (var profile in VerifierTests.Profiles)
                    {
                        AssertSane(bytes, Run(bytes, s, profile), $"{name} byte {at} = 0x{value:x2} {profile}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Truncating_a_stream_anywhere_never_throws_and_reports_an_error_in_the_xen_profile()
    {
        foreach (var (name, s) in Bases.Where(b => b.Stream.Format != OuterFormat.BackChannel))
        {
            var original = s.Build();
            for (var cut = 0; cut < original.Length; cut += cut < 4096 ? 1 : 97)
            {
                var bytes = original[..cut];
                var r = Run(bytes, s, VerificationProfile.Xen);
                AssertSane(bytes, r, $"{name} cut at {cut}");
                Assert.False(r.IsValid, $"{name} cut at {cut}: {VerifierTests.Describe(r)}");
            }
        }
    }

    private static IEnumerable<int> NonPagePositions(TestStream s)
    {
        long at = 0;
        foreach (var p in s.Parts)
        {
            var size = p.Size;
            var skipFrom = long.MaxValue;
            if (p.IsRecord && p.Layer == StreamLayer.Libxc && p.Type is (uint)LibxcRecordType.PageData && p.Body.Length >= 8)
            {
                skipFrom = at + 8 + 8 + (8L * BinaryPrimitives.ReadUInt32LittleEndian(p.Body)) + 64; // a little of the first page
            }
            var pageEnd = at + 8 + p.Body.Length;
            for (var i = at; i < at + size; i++)
            {
                if (i < skipFrom || i >= pageEnd)
                {
                    yield return (int)i;
                }
            }
            at += size;
        }
    }

    public static TheoryData<string> BaseNames => new(Bases.Select(b => b.Name));

    [Theory]
    [MemberData(nameof(BaseNames))]
    public void Memory_pipe_and_mapped_file_sources_give_the_same_findings(string name)
    {
        var s = Bases.First(b => b.Name == name).Stream;
        var original = s.Build();
        var random = new Random(name.Length);
        for (var trial = 0; trial < 40; trial++)
        {
            var bytes = (byte[])original.Clone();
            if (trial > 0)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }
            foreach (var profile in VerifierTests.Profiles)
            {
                var options = VerifierOptions.Create(profile, s.Format, s.Dialect);
                var memory = Verifier.Verify(bytes, options);
                using var pipe = ByteSource.FromStream(new TrickleStream(bytes, 977, trial), bufferSize: 4096);
                var piped = Verifier.Verify(pipe, options);
                Assert.Equal(memory.Findings.Select(f => f.ToString()), piped.Findings.Select(f => f.ToString()));
                if (trial % 10 == 0)
                {
                    var path = Path.GetTempFileName();
                    try
                    {
                        File.WriteAllBytes(path, bytes);
                        var mapped = Verifier.Verify(path, options);
                        Assert.Equal(memory.Findings.Select(f => f.ToString()), mapped.Findings.Select(f => f.ToString()));
                    }
                    finally
                    {
                        File.Delete(path);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(0xFFFF_FFF0u)]
    [InlineData(0x8000_0000u)]
    [InlineData((128u << 20) + 1)]
    public void A_lying_record_length_neither_allocates_by_it_nor_throws(uint length)
    {
        foreach (var type in new uint[] { 0x01, 0x09, 0x0A, 0x11, 0x12, 0x0C })
        {
            var s = TestStream.Hvm();
            s.InsertLibxc(s.Parts.Count - 1, type, new byte[64]);
            s[s.Parts.Count - 2].LengthField = length;
            var bytes = s.Build();
            foreach (var profile in VerifierTests.Profiles)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                var r = Run(bytes, s, profile);
                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.False(r.IsValid);
                Assert.True(r.Has("stream.truncated"), VerifierTests.Describe(r));
                Assert.True(allocated < 4 << 20, $"type 0x{type:x} length 0x{length:x} {profile}: allocated {allocated} bytes");
                AssertSane(bytes, r, $"type 0x{type:x}");
            }
        }
    }

    [Fact]
    public void A_lying_libxl_length_through_a_pipe_is_read_in_bounded_memory()
    {
        var s = TestStream.Hvm().InLibxl();
        s.InsertLibxl(s.Parts.Count - 1, 2, Bodies.Emulator(2, 0, Bodies.Xenstore("a", "b")));
        s[s.Parts.Count - 2].LengthField = 0xFFFF_FF00u;
        var bytes = s.Build();
        var before = GC.GetAllocatedBytesForCurrentThread();
        using var pipe = ByteSource.FromStream(new TrickleStream(bytes), bufferSize: 4096);
        var r = Verifier.Verify(pipe, VerifierOptions.Create(VerificationProfile.Strict, OuterFormat.Libxl));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        Assert.True(r.Has("stream.truncated"));
    }

    [Fact]
    public void Memory_does_not_grow_with_the_number_of_records()
    {
        static long Allocated(int pages)
        {
            var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Pages = pages, BatchSize = 1, ZeroPageEvery = 0 });
            Verifier.Verify(bytes); // warm up
            var before = GC.GetAllocatedBytesForCurrentThread();
            var r = Verifier.Verify(bytes);
            Assert.True(r.IsValid, VerifierTests.Describe(r));
            Assert.Equal(pages, r.Summary.PageDataRecords);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        var small = Allocated(1_000);
        var large = Allocated(20_000);
        Assert.True(large < small + (64 << 10), $"1000 records: {small} bytes, 20000 records: {large} bytes");
    }

    [Fact]
    public void Findings_are_capped_but_counted()
    {
        var s = TestStream.Hvm();
        for (var i = 0; i < 50; i++)
        {
            s.InsertLibxc(s.Parts.Count - 1, LibxcRecordType.Toolstack, new byte[8]);
        }
        var r = Verifier.Verify(s.Build(), VerifierOptions.Create(VerificationProfile.Strict, s.Format) with { MaxFindings = 10 });
        Assert.Equal(10, r.Findings.Count);
        Assert.Equal(50, r.ErrorCount);
        Assert.Equal(40, r.FindingsDropped);
    }
}
