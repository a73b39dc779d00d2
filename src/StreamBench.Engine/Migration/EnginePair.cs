using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;

namespace StreamBench.Engine.Migration;

/// <summary>What the two sides of one run gave: each side's result, or the error that stopped it.</summary>
internal readonly record struct PairOutcome(SaveResult? Save, Exception? SaveError, RestoreResult? Restore, Exception? RestoreError);

/// <summary>
/// Runs the saving side and the restoring side of one COLO or post-copy run, each on its own thread, as two hosts
/// would. Each side's ends of the channel are closed the moment that side stops, normally or not, so the other side
/// sees the link go down (the failover and guest-lost paths depend on it).
/// </summary>
internal static class EnginePair
{
    public static PairOutcome Run(Func<SaveResult> save, Action saveStopped, Func<RestoreResult> restore, Action restoreStopped)
    {
        Task<SaveResult> saving = Start(save, saveStopped);
        Task<RestoreResult> restoring = Start(restore, restoreStopped);
        var (saved, saveError) = Await(saving);
        var (restored, restoreError) = Await(restoring);
        return new PairOutcome(saved, saveError, restored, restoreError);
    }

    private static Task<T> Start<T>(Func<T> work, Action stopped) => Task.Factory.StartNew(() =>
    {
        try
        {
            return work();
        }
        finally
        {
            stopped();
        }
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static (T? Result, Exception? Error) Await<T>(Task<T> task)
        where T : class
    {
        try
        {
            return (task.GetAwaiter().GetResult(), null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }
}
