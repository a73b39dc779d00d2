using StreamBench.Formats;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Restore;

/// <summary>What the restore engine is at the receiving end of a migration.</summary>
public enum ReceiverRoleKind
{
    /// <summary>An <c>xl migrate</c> receiver: the banner first, "ready" once the domain is restored.</summary>
    Receiver,

    /// <summary>A post-copy destination (RFC dialect): its faults and POSTCOPY_COMPLETE go back.</summary>
    PostcopyDestination,

    /// <summary>A COLO secondary: SVM_* and CHECKPOINT_DIRTY_PFN_LIST go back.</summary>
    ColoSecondary,
}

/// <summary>The engine's role and, for a post-copy destination, its vCPU (<see cref="Touches"/> 0: it does not run).</summary>
public sealed record ReceiverRole(ReceiverRoleKind Kind, int Touches = 0, ulong TouchSeed = 1)
{
    /// <summary>An <c>xl migrate</c> receiver.</summary>
    public static ReceiverRole Receiver { get; } = new(ReceiverRoleKind.Receiver);

    /// <summary>A post-copy destination whose vCPU does not run.</summary>
    public static ReceiverRole PostcopyDestination { get; } = new(ReceiverRoleKind.PostcopyDestination);

    /// <summary>An idle COLO secondary.</summary>
    public static ReceiverRole ColoSecondary { get; } = new(ReceiverRoleKind.ColoSecondary);
}

/// <summary>How a <see cref="RestoreReceiver.Run"/> went: the restored records and the domain's digest, or the error.</summary>
public sealed record ReceiverOutcome(bool Succeeded, string Detail);

/// <summary>
/// The restore engine as the receiving end of a migration whose sender is elsewhere (a replayed capture, a peer
/// process). As a receiver it answers as an <c>xl migrate</c> receiver does (libxl's migrate protocol in xl's
/// <c>migrate_receive</c>): the banner first, then "ready" once the stream is in and the domain restored. As a
/// post-copy destination or a COLO secondary its back channel carries what the role sends back.
/// </summary>
public static class RestoreReceiver
{
    /// <summary>For reports.</summary>
    public static string Describe(ReceiverRole role) => role.Kind switch
    {
        ReceiverRoleKind.PostcopyDestination => "simulated restore engine as a post-copy destination",
        ReceiverRoleKind.ColoSecondary => "simulated restore engine as a COLO secondary",
        _ => "simulated restore engine",
    };

    /// <summary>
    /// Restores from <paramref name="input"/> until its end, answering on <paramref name="backChannel"/> as
    /// <paramref name="role"/> does. A stream error, a stream without the domain options it needs (as restore) or a
    /// domain refusal is an unsuccessful outcome with its message; an I/O error propagates.
    /// </summary>
    public static ReceiverOutcome Run(Stream input, Stream backChannel, RestoreOptions options, ReceiverRole role)
    {
        ArgumentNullException.ThrowIfNull(backChannel);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(role);
        if (role.Kind == ReceiverRoleKind.Receiver)
        {
            backChannel.Write(XlMigrateProtocol.ReceiverBanner);
            backChannel.Flush();
        }

        using var secondary = role.Kind == ReceiverRoleKind.ColoSecondary ? new ColoSecondary(backChannel) : null;
        using var destination = role.Kind == ReceiverRoleKind.PostcopyDestination
            ? new PostcopyDestination(backChannel,
                d => role.Touches == 0 ? null : new PostcopyGuest(d.DataPfns().ToList(), role.TouchSeed, role.Touches))
            : null;
        try
        {
            var result = RestoreEngine.Restore(input, options with { Colo = secondary, Postcopy = destination });
            using var domain = result.Domain;
            string detail = $"restored {result.Records} records";
            if (secondary is not null)
            {
                detail += $"; {secondary.Checkpoints.Count} COLO checkpoint(s) applied, failover: {secondary.FailoverReason ?? "none"}";
            }
            else if (destination is not null)
            {
                detail += $"; post-copy: {destination.Arrived} of {destination.Announced} page(s) after the transition, {destination.Faults} fault(s)" +
                    (destination.CompleteSent ? ", POSTCOPY_COMPLETE sent" : "");
            }
            else
            {
                backChannel.Write(XlMigrateProtocol.ReceiverReady);
                backChannel.Flush();
            }

            return new ReceiverOutcome(true, $"{detail}; digest: {domain.ComputeDigest()}");
        }
        catch (StreamFormatException e)
        {
            return new ReceiverOutcome(false, e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // A stream without a domain config needs the guest, memory and vCPU options, as restore does; a domain refusal.
            return new ReceiverOutcome(false, e.Message);
        }
    }
}
