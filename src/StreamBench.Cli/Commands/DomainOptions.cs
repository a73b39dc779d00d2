using System.CommandLine;
using StreamBench.Domain.Builders;
using StreamBench.Engine.Save;

namespace StreamBench.Cli.Commands;

/// <summary>
/// The simulated domain's options that <c>save</c> and <c>demo</c> share (guest type, memory, vCPUs, seed), with
/// each command's defaults: a command that gives no default for the guest and memory requires them.
/// </summary>
internal sealed class DomainOptions
{
    public DomainOptions(string? guest, string? memory, int vcpus)
    {
        Guest = new Option<string>("--guest") { Description = CliNames.Guests.Choices, Required = guest is null };
        if (guest is not null)
        {
            Guest.DefaultValueFactory = _ => guest;
        }

        Memory = new Option<string>("--memory", "-m") { Description = "guest RAM: 256M, 1G, 4096K (a bare number is MiB)", Required = memory is null };
        if (memory is not null)
        {
            Memory.DefaultValueFactory = _ => memory;
        }

        Vcpus = new Option<int>("--vcpus") { Description = "vCPUs", DefaultValueFactory = _ => vcpus };
    }

    public Option<string> Guest { get; }

    public Option<string> Memory { get; }

    public Option<int> Vcpus { get; }

    public Option<ulong> Seed { get; } = new("--seed") { Description = "seed of the domain's contents and the workload", DefaultValueFactory = _ => 1ul };

    public void AddTo(Command command)
    {
        command.Options.Add(Guest);
        command.Options.Add(Memory);
        command.Options.Add(Vcpus);
        command.Options.Add(Seed);
    }

    /// <summary>The domain the options describe.</summary>
    public DomainSpec Spec(ParseResult parse) => new(CliNames.Guests.Parse(parse.GetValue(Guest)),
        EngineCli.ParseMemoryMiB(parse.GetValue(Memory)!), parse.GetValue(Vcpus), parse.GetValue(Seed));
}

/// <summary>The pre-copy policy's options that <c>save</c> and <c>demo</c> share (Xen's defaults).</summary>
internal sealed class PrecopyPolicyOptions
{
    public Option<int> MaxIterations { get; } = new("--max-iterations")
    {
        Description = "pre-copy policy: at most this many live iterations",
        DefaultValueFactory = _ => PrecopyPolicy.XenMaxIterations,
    };

    public Option<long> Threshold { get; } = new("--dirty-threshold")
    {
        Description = "pre-copy policy: stop once fewer pages are dirty",
        DefaultValueFactory = _ => PrecopyPolicy.XenDirtyThreshold,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(MaxIterations);
        command.Options.Add(Threshold);
    }

    public PrecopyPolicy Policy(ParseResult parse) => new(parse.GetValue(MaxIterations), parse.GetValue(Threshold));
}
