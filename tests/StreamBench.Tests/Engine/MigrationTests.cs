using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Save;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>Save → restore across a channel: an in-process pipe and loopback TCP, two threads, verified on the fly.</summary>
public sealed class MigrationTests
{
    private static MigrationReport Migrate(GuestType type, MigrationTransport transport, SaveFormat format = SaveFormat.Xl)
    {
        GuestDomain source = DomainBuilder.Build(new DomainSpec(type, 16, 2, 11));
        var options = new MigrationOptions
        {
            Transport = transport,
            Save = new SaveOptions
            {
                Live = true,
                Format = format,
                Workload = new Workload(source, new WorkloadOptions(WorkloadPattern.HotSet, 32, 11)),
            },
        };
        try
        {
            return MigrationRunner.Run(source, options);
        }
        finally
        {
            source.Dispose();
        }
    }

    [Theory]
    [InlineData(GuestType.Hvm)]
    [InlineData(GuestType.Pv)]
    public void Pipe_and_tcp_migrations_give_equal_digests(GuestType type)
    {
        MigrationReport pipe = Migrate(type, MigrationTransport.Pipe);
        MigrationReport tcp = Migrate(type, MigrationTransport.Tcp);
        using GuestDomain a = pipe.Target;
        using GuestDomain b = tcp.Target;

        foreach (MigrationReport r in new[] { pipe, tcp })
        {
            Assert.True(r.DigestsEqual, $"{r.Transport}: {r.SourceDigest} vs {r.TargetDigest}");
            Assert.True(r.Verification!.IsValid, r.Verification.FirstError?.ToString());
            Assert.Equal(r.Bytes, r.Restore.Bytes);
            Assert.True(r.Save.LiveIterations >= 1);
            Assert.True(r.Downtime > TimeSpan.Zero && r.Downtime <= r.Elapsed);
            Assert.True(r.Throughput > 0);
        }

        Assert.Equal(pipe.TargetDigest, tcp.TargetDigest);
        Assert.Equal(pipe.Bytes, tcp.Bytes); // the same seeded source and workload give the same stream
    }

    [Fact]
    public void A_failing_restore_stops_the_saving_side_instead_of_hanging()
    {
        using GuestDomain source = DomainBuilder.Build(new DomainSpec(GuestType.Hvm, 8, 1, 3));
        var options = new MigrationOptions
        {
            Save = new SaveOptions { Format = SaveFormat.Libxc },
            Restore = new StreamBench.Engine.Restore.RestoreOptions { Config = new StreamBench.Engine.Toolstack.DomainConfig(GuestType.Pv, 1, 2048) },
            PipeCapacity = 64 * 1024,
        };

        Assert.Throws<StreamBench.Formats.StreamFormatException>(() => MigrationRunner.Run(source, options));
    }

    [Fact]
    public void The_pre_copy_stops_at_the_iteration_cap_under_a_heavy_workload()
    {
        using GuestDomain source = DomainBuilder.Build(new DomainSpec(GuestType.Pvh, 16, 1, 5));
        var options = new MigrationOptions
        {
            Save = new SaveOptions
            {
                Live = true,
                Policy = new PrecopyPolicy(MaxIterations: 3),
                Workload = new Workload(source, new WorkloadOptions(WorkloadPattern.Uniform, 400, 5)),
            },
            VerifyStream = false,
        };
        MigrationReport r = MigrationRunner.Run(source, options);
        using GuestDomain target = r.Target;
        Assert.Equal(3, r.Save.LiveIterations);
        Assert.Equal(3, r.Save.FinalPrecopyStats!.Value.Iteration);
        Assert.True(r.DigestsEqual);
    }
}
