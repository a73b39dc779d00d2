using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// Issue #11 bug 8: verify and restore apply one failover rule (<see cref="CheckpointFailover"/>) to a checkpointed
/// stream cut anywhere, and report the same number of discarded bytes.
/// </summary>
public sealed class FailoverAgreementTests
{
    [Theory]
    [InlineData(GuestType.Hvm, SaveFormat.Libxl)]
    [InlineData(GuestType.Pv, SaveFormat.Libxc)]
    public void Verify_and_restore_agree_on_every_record_boundary_cut(GuestType type, SaveFormat format)
    {
        using GuestDomain d = EngineTestSupport.Build(type, 6);
        byte[] stream = EngineTestSupport.Save(d, new SaveOptions
        {
            Live = true,
            Format = format,
            Checkpoints = 2,
            CheckpointEnding = CheckpointEnding.End,
            Workload = new Workload(d, new WorkloadOptions(WorkloadPattern.Uniform, 24, 9)),
        }, out _);
        var edit = StreamEdit.Parse(stream);
        int cut = 0, compared = 0;
        int libxcEnd = -1;
        foreach (var item in edit.Items)
        {
            cut += item.Raw.Length;
            if (item.Is(LibxcRecordType.End))
            {
                libxcEnd = cut;
            }
            if (cut == stream.Length)
            {
                break;
            }
            Compare(stream[..cut], d);
            Compare(stream[..(cut - 3)], d); // inside the item too
            compared++;
        }
        Assert.True(compared > 10);
        if (format == SaveFormat.Libxl)
        {
            // The case of the issue: after the libxc END, before the libxl END: a failover after the last checkpoint.
            Assert.True(libxcEnd > 0 && libxcEnd < stream.Length);
            var v = Verifier.Verify(stream.AsMemory(0, libxcEnd));
            Assert.True(v.IsValid);
            RestoreResult r = EngineTestSupport.Restore(stream[..libxcEnd], d);
            r.Domain.Dispose();
            Assert.True(r.FailedOver);
            Assert.Equal(v.Summary.CheckpointsComplete, r.CheckpointsApplied);
            Assert.Equal(v.Summary.DiscardedBytes, r.DiscardedBytes);
        }
    }

    private static void Compare(byte[] bytes, GuestDomain like)
    {
        var v = Verifier.Verify(bytes, new VerifierOptions { Profile = VerificationProfile.Restore });
        RestoreResult? r = null;
        try
        {
            r = EngineTestSupport.Restore(bytes, like);
        }
        catch (StreamFormatException)
        {
            // refused
        }
        var restored = r is not null;
        r?.Domain.Dispose();
        Assert.True(v.IsValid == restored, $"cut at {bytes.Length}: verify says {(v.IsValid ? "valid" : "invalid")}, restore {(restored ? "restored" : "refused")}");
        if (r is { FailedOver: true })
        {
            Assert.Equal(v.Summary.CheckpointsComplete, r.CheckpointsApplied);
            Assert.Equal(v.Summary.DiscardedBytes, r.DiscardedBytes);
        }
    }
}
