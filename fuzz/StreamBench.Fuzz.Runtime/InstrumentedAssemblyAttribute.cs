namespace StreamBench.Fuzzing;

/// <summary>
/// Added by StreamBench.Fuzz.Instrument to every assembly it rewrites; an assembly carrying it is not instrumented again.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class InstrumentedAssemblyAttribute : Attribute
{
}
