using StreamBench.Capture.Replay;
using StreamBench.Cli.Commands;
using StreamBench.Domain;
using StreamBench.Engine.Save;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Engine;
using Xunit;

namespace StreamBench.Tests.Capture;

/// <summary><c>replay --to-engine</c>: a replayed sender side restores in the simulated engine to the source's digest.</summary>
public sealed class ReplayIntoEngineTests
{
    [Theory]
    [InlineData(GuestType.Hvm)]
    [InlineData(GuestType.Pv)]
    public void Replay_into_the_engine_restores_the_same_digest_and_answers_like_a_receiver(GuestType type)
    {
        using var source = EngineTestSupport.Build(type, mib: 8);
        var digest = source.ComputeDigest();
        var stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Xl });
        var endpoint = EngineBinding.Create(new StreamBench.Engine.Restore.RestoreOptions());
        Assert.NotNull(endpoint);
        using var back = new MemoryStream();
        ReplayTargetOutcome outcome = endpoint.Restore(new MemoryStream(stream), back, CancellationToken.None);
        Assert.True(outcome.Succeeded, outcome.Detail);
        Assert.EndsWith("digest: " + digest, outcome.Detail, StringComparison.Ordinal);
        Assert.Equal([.. XlMigrateProtocol.ReceiverBanner, .. XlMigrateProtocol.ReceiverReady], back.ToArray());
    }

    [Fact]
    public void A_corrupted_replay_into_the_engine_fails_with_the_stream_error()
    {
        using var source = EngineTestSupport.Build(GuestType.Hvm, mib: 4);
        var stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Xl });
        var cut = stream.AsSpan(0, stream.Length / 2).ToArray();
        var outcome = EngineBinding.Create(new StreamBench.Engine.Restore.RestoreOptions())!.Restore(new MemoryStream(cut), Stream.Null, CancellationToken.None);
        Assert.False(outcome.Succeeded);
        Assert.Contains("truncated", outcome.Detail, StringComparison.Ordinal);
    }
}
