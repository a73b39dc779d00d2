using BenchmarkDotNet.Running;

namespace StreamBench.Benchmarks;

/// <summary>Runs the benchmarks: <c>dotnet run -c Release --project tools/bench/StreamBench.Benchmarks -- --filter '*'</c>.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
