using System.Buffers.Binary;
using FsCheck.Xunit;
using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// Post-copy (the RFC dialect): the source and the destination over one bidirectional channel; the destination's guest
/// resumes at the transition, faults on absent pages, and ends with the reference run's digest; every page arrives once;
/// a cut link before the transition leaves the guest on the source, after it loses the guest (with the missing pfns).
/// </summary>
public sealed class PostcopyTests
{
    private static PostcopyOptions Options(MigrationTransport transport = MigrationTransport.Pipe) => new()
    {
        Transport = transport,
        Workload = new WorkloadOptions(WorkloadPattern.HotSet, 64, 5),
        Policy = new PrecopyPolicy(MaxIterations: 2, DirtyThreshold: 1),
        Record = true,
    };

    private static GuestDomain Guest(GuestType type = GuestType.Hvm) => EngineTestSupport.Build(type, 6, vcpus: 2, seed: 4);

    private static readonly Lazy<(byte[] Stream, GuestDomain Like, long TransitionEnd)> Recorded = new(() =>
    {
        GuestDomain d = Guest();
        PostcopyReport r = PostcopyRunner.Run(d, Options());
        r.Restore?.Domain.Discard();
        Assert.True(r.Outcome == PostcopyOutcome.Completed, r.Reason);
        long transitionEnd = Items(r.MainStream!).First(i => i.Layer == StreamLayer.Libxl && i.Type == (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd).End;
        return (r.MainStream!, d, transitionEnd);
    });

    [Theory]
    [InlineData(GuestType.Hvm, MigrationTransport.Pipe)]
    [InlineData(GuestType.Hvm, MigrationTransport.Tcp)]
    [InlineData(GuestType.Pvh, MigrationTransport.Pipe)]
    public void The_destination_ends_with_the_reference_digest_and_every_page_arrives_once(GuestType type, MigrationTransport transport)
    {
        using GuestDomain source = Guest(type);
        PostcopyReport r = PostcopyRunner.Run(source, Options(transport));
        using GuestDomain? target = r.Restore?.Domain;

        Assert.True(r.Outcome == PostcopyOutcome.Completed, r.Reason);
        Assert.True(r.DigestsEqual);
        Assert.True(r.Destination.Announced > 0, "the workload left pages dirty for the post-copy phase");
        Assert.Equal(r.Destination.Announced, r.Destination.Arrived);
        Assert.Equal(r.Destination.Announced, r.Source.PagesOnFault + r.Source.PagesBackground);
        Assert.Equal(r.Destination.Faults, r.Destination.FaultLatencies.Count);
        Assert.True(r.Destination.Guest!.Finished);
        Assert.Null(r.Source.DestinationError);

        VerifyResult main = Verifier.Verify(r.MainStream!, VerifierOptions.Create(VerificationProfile.Strict, dialect: StreamDialect.PostcopyRfc));
        Assert.True(main.IsValid, string.Join("\n", main.Findings));
        VerifyResult back = Verifier.Verify(r.BackChannel!, VerifierOptions.Create(VerificationProfile.Strict, OuterFormat.BackChannel, StreamDialect.PostcopyRfc));
        Assert.True(back.IsValid, string.Join("\n", back.Findings));
    }

    [Property(MaxTest = 10)]
    public void Any_fault_order_completes_without_deadlock_or_duplicate(ulong guestSeed, byte touches, byte batch)
    {
        using GuestDomain source = Guest();
        PostcopyReport r = PostcopyRunner.Run(source, Options() with
        {
            GuestSeed = guestSeed,
            TouchesPerRecord = 1 + (touches % 16),
            BackgroundBatch = 1 + (batch % 64),
            Record = false,
        });
        using GuestDomain? target = r.Restore?.Domain;
        Assert.True(r.Outcome == PostcopyOutcome.Completed, r.Reason);
        Assert.True(r.DigestsEqual);
        Assert.Equal(r.Destination.Announced, r.Destination.Arrived);
        Assert.Equal(r.Destination.Announced, r.Source.PagesOnFault + r.Source.PagesBackground);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_throttled_background_push_pauses_for_faults_and_every_page_still_arrives_once(bool throttled)
    {
        using GuestDomain source = Guest();
        PostcopyReport r = PostcopyRunner.Run(source, Options() with
        {
            BackgroundBatch = 4, // many background batches, so the source pauses many times
            BackgroundPause = throttled ? PostcopySource.DefaultBackgroundPause : TimeSpan.Zero,
            Record = false,
        });
        using GuestDomain? target = r.Restore?.Domain;
        Assert.True(r.Outcome == PostcopyOutcome.Completed, r.Reason);
        Assert.True(r.DigestsEqual);
        Assert.True(r.Source.PagesBackground > 2 * 4, $"{r.Source.PagesBackground} background pages");
        Assert.Equal(r.Destination.Announced, r.Destination.Arrived);
        Assert.Equal(r.Destination.Announced, r.Source.PagesOnFault + r.Source.PagesBackground);
        if (throttled)
        {
            Assert.True(r.Source.BackgroundPauses > 0, "the destination's back channel was open: the source paused between background batches");
        }
        else
        {
            Assert.Equal(0, r.Source.BackgroundPauses);
        }
    }

    [Fact]
    public void A_cut_before_the_transition_leaves_the_guest_on_the_source()
    {
        using GuestDomain source = Guest();
        PostcopyReport r = PostcopyRunner.Run(source, Options() with { CutAfterBytes = Recorded.Value.TransitionEnd - 1 });
        Assert.True(r.Outcome == PostcopyOutcome.AbortedBeforeTransition, r.Reason);
        Assert.False(r.Source.Transitioned);
        Assert.Equal(DomainLifecycle.Ready, source.Lifecycle);
        Assert.Contains("the source keeps the guest", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cut_after_the_transition_loses_the_guest_and_names_the_pfns_that_never_arrived()
    {
        using GuestDomain source = Guest();
        PostcopyReport r = PostcopyRunner.Run(source, Options() with { CutAfterBytes = Recorded.Value.TransitionEnd + 5000 });
        Assert.True(r.Outcome == PostcopyOutcome.GuestLost, r.Reason);
        Assert.Matches(@"the guest is lost, \d+ of \d+ announced pfn\(s\) never arrived: 0x[0-9a-f]+", r.Reason);
        Assert.True(r.Destination.Outstanding > 0);
    }

    [Fact]
    public void A_recorded_post_copy_stream_replays_into_the_engine()
    {
        (byte[] stream, GuestDomain like, _) = Recorded.Value;
        RestoreResult r = RestoreEngine.Restore(ByteSource.FromMemory(stream), Replay(like));
        using GuestDomain target = r.Domain;
        Assert.NotNull(r.Postcopy);
        Assert.Equal(r.Postcopy!.Announced, r.Postcopy.Arrived);
        Assert.Equal(like.ComputeDigest(), target.ComputeDigest()); // no guest ran: the source's state at the transition
    }

    [Fact]
    public void Page_data_for_an_unannounced_pfn_a_second_copy_and_an_END_with_pages_outstanding_are_refused()
    {
        (byte[] stream, GuestDomain like, _) = Recorded.Value;
        List<Item> items = Items(stream);
        Item page = items.First(i => i.Layer == StreamLayer.Libxc && i.Type == (uint)PostcopyRecordType.PostcopyPageData);
        HashSet<ulong> announced = items.Where(i => i.Layer == StreamLayer.Libxc && i.Type == (uint)PostcopyRecordType.PostcopyPfns)
            .SelectMany(i => Words(stream, i)).Select(PageWord.PfnOf).ToHashSet();

        // A second copy of a POSTCOPY_PAGE_DATA record.
        byte[] twice = [.. stream[..(int)page.End], .. stream[(int)page.Start..(int)page.End], .. stream[(int)page.End..]];
        Refused(twice, like, "restore.postcopy.duplicate");

        // The same record for a pfn POSTCOPY_PFNS never named.
        byte[] other = (byte[])stream.Clone();
        ulong stranger = Enumerable.Range(0, 4096).Select(i => (ulong)i).First(p => !announced.Contains(p));
        long word = page.Start + 8 + 8;
        ulong old = BinaryPrimitives.ReadUInt64LittleEndian(other.AsSpan((int)word));
        BinaryPrimitives.WriteUInt64LittleEndian(other.AsSpan((int)word), PageWord.Make(stranger, PageWord.TypeOf(old)));
        Refused(other, like, "restore.postcopy.unannounced");

        // The record dropped: END arrives with that page outstanding.
        byte[] dropped = [.. stream[..(int)page.Start], .. stream[(int)page.End..]];
        Refused(dropped, like, "restore.postcopy.incomplete");
    }

    private static void Refused(byte[] stream, GuestDomain like, string check)
    {
        var e = Assert.Throws<StreamFormatException>(() => RestoreEngine.Restore(ByteSource.FromMemory(stream), Replay(like)));
        Assert.Contains($"[{check}]", e.Message, StringComparison.Ordinal);
    }

    private static RestoreOptions Replay(GuestDomain like) => new()
    {
        Config = DomainConfig.FromDomain(like),
        Reader = new XenStreamReaderOptions { Dialect = StreamDialect.PostcopyRfc },
    };

    internal sealed record Item(long Start, long End, StreamLayer Layer, uint Type);

    internal static List<Item> Items(byte[] stream)
    {
        var items = new List<Item>();
        using var reader = new XenStreamReader(ByteSource.FromMemory(stream), new XenStreamReaderOptions { Dialect = StreamDialect.PostcopyRfc });
        while (reader.Read())
        {
            long start = reader.Offset;
            reader.FinishItem();
            items.Add(new Item(start, reader.Source.Position, reader.Kind == StreamItemKind.Record ? reader.Layer : StreamLayer.None,
                reader.Kind == StreamItemKind.Record ? reader.RecordType : uint.MaxValue));
        }

        return items;
    }

    private static IEnumerable<ulong> Words(byte[] stream, Item record)
    {
        int body = (int)record.Start + 8;
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(stream.AsSpan(body));
        for (int i = 0; i < count; i++)
        {
            yield return BinaryPrimitives.ReadUInt64LittleEndian(stream.AsSpan(body + 8 + (8 * i)));
        }
    }
}
