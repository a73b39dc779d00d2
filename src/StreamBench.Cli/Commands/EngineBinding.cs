using StreamBench.Capture.Replay;
using StreamBench.Engine.Restore;

namespace StreamBench.Cli.Commands;

/// <summary>
/// Binds <c>replay --to-engine</c> to the engine's <see cref="RestoreReceiver"/>: the capture layer's target interface
/// on one side, the engine on the other (neither project references the other).
/// </summary>
internal static class EngineBinding
{
    public static IRestoreEngineEndpoint Create(RestoreOptions? options = null, ReceiverRole? role = null) =>
        new Endpoint(options ?? new RestoreOptions(), role ?? ReceiverRole.Receiver);

    private sealed class Endpoint(RestoreOptions options, ReceiverRole role) : IRestoreEngineEndpoint
    {
        public string Description => RestoreReceiver.Describe(role);

        public ReplayTargetOutcome Restore(Stream input, Stream backChannel, CancellationToken cancel)
        {
            ReceiverOutcome outcome = RestoreReceiver.Run(input, backChannel, options, role);
            return new ReplayTargetOutcome(outcome.Succeeded, outcome.Succeeded ? ExitCodes.Ok : ExitCodes.InvalidStream, outcome.Detail);
        }
    }
}
