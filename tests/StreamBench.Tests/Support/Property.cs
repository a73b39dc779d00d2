using System.Runtime.CompilerServices;
using FsCheck;
using FsCheck.Fluent;

namespace StreamBench.Tests.Support;

/// <summary>
/// FsCheck's core API inside xunit (FsCheck.Xunit is not in this machine's NuGet). One law per call; a failure
/// throws with FsCheck's report, which names the replay seed. Set STREAMBENCH_PROPERTY_RUNS to run more cases.
/// </summary>
public static class Property
{
    /// <summary>Checks that <paramref name="law"/> holds (does not throw) for values from <paramref name="arb"/>.</summary>
    public static void Check<T>(Arbitrary<T> arb, Action<T> law, int runs = 100, [CallerMemberName] string name = "")
    {
        var env = Environment.GetEnvironmentVariable("STREAMBENCH_PROPERTY_RUNS");
        if (int.TryParse(env, out var n) && n > 0)
        {
            runs = n;
        }
        var config = Config.QuickThrowOnFailure.WithMaxTest(runs).WithName(name).WithQuietOnSuccess(true);
        FsCheck.Check.One(config, Prop.ForAll(arb, law));
    }

    /// <summary>Checks a law over values drawn from a generator.</summary>
    public static void Check<T>(Gen<T> gen, Action<T> law, int runs = 100, [CallerMemberName] string name = "")
        => Check(Arb.From(gen), law, runs, name);
}
