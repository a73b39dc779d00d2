using System.Text;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace StreamBench.Fuzzing.Instrument;

/// <summary>What to instrument and where to write the result.</summary>
public sealed class InstrumentOptions
{
    /// <summary>Type-name prefixes to instrument (full names, nested types as <c>Outer/Inner</c>). Empty: every type.</summary>
    public IList<string> Include { get; } = new List<string>();

    /// <summary>Type-name prefixes never to instrument. Wins over <see cref="Include"/>.</summary>
    public IList<string> Exclude { get; } = new List<string>();

    /// <summary>Where to write the instrumented assembly; null rewrites it in place. Its PDB goes next to it.</summary>
    public string? OutputPath { get; set; }

    /// <summary>Read the PDB (side-by-side or embedded) and write an updated one. Default true.</summary>
    public bool Symbols { get; set; } = true;

    /// <summary>Whether the type with full name <paramref name="typeFullName"/> is to be instrumented.</summary>
    public bool Matches(string typeFullName)
    {
        ArgumentNullException.ThrowIfNull(typeFullName);
        foreach (var prefix in Exclude)
        {
            if (typeFullName.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }
        }
        if (Include.Count == 0)
        {
            return true;
        }
        foreach (var prefix in Include)
        {
            if (typeFullName.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>What an instrumentation run did.</summary>
/// <param name="OutputPath">The file written (or left alone when <paramref name="AlreadyInstrumented"/>).</param>
/// <param name="AlreadyInstrumented">The assembly already carried the marker; nothing was changed.</param>
/// <param name="Types">Full names of the types that got probes.</param>
/// <param name="Methods">Number of method bodies instrumented.</param>
/// <param name="Blocks">Number of basic blocks (= probes) inserted.</param>
/// <param name="SymbolsWritten">Whether a PDB was carried over.</param>
public sealed record InstrumentResult(string OutputPath, bool AlreadyInstrumented, IReadOnlyList<string> Types, int Methods, int Blocks, bool SymbolsWritten);

/// <summary>
/// Inserts AFL edge coverage at the start of every basic block:
/// <code>
/// Trace.SharedMem[cur ^ Trace.PrevLocation]++;   // cur: a compile-time id below Trace.MapSize
/// Trace.PrevLocation = cur &gt;&gt; 1;
/// </code>
/// inlined as IL that loads the static fields of <see cref="Trace"/> (no call), like SharpFuzz. Ids are derived
/// from the assembly name, the method's metadata token and the block's IL offset, so instrumenting the same
/// assembly twice gives the same ids (and the same bytes). The assembly is marked with
/// <see cref="InstrumentedAssemblyAttribute"/> and a marked assembly is left alone.
/// </summary>
public static class AssemblyInstrumenter
{
    /// <summary>The number of IL instructions in one probe.</summary>
    public const int ProbeLength = 13;

    /// <summary>Instruments the assembly at <paramref name="path"/>.</summary>
    public static InstrumentResult Instrument(string path, InstrumentOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        path = Path.GetFullPath(path);
        var output = Path.GetFullPath(options.OutputPath ?? path);

        var module = Read(path, options.Symbols);
        using (module)
        {
            var assembly = module.Assembly;
            if (assembly.Name.Name == typeof(Trace).Assembly.GetName().Name)
            {
                throw new InvalidOperationException("Refusing to instrument the fuzzing runtime itself.");
            }
            if (IsInstrumented(module))
            {
                if (output != path)
                {
                    File.Copy(path, output, overwrite: true);
                    CopyIfExists(Path.ChangeExtension(path, ".pdb"), Path.ChangeExtension(output, ".pdb"));
                }
                return new InstrumentResult(output, true, [], 0, 0, false);
            }
            if ((module.Attributes & ModuleAttributes.ILOnly) == 0)
            {
                throw new InvalidOperationException("Cannot instrument a mixed-mode (C++/CLI) assembly.");
            }

            var sharedMem = module.ImportReference(typeof(Trace).GetField(nameof(Trace.SharedMem)));
            var prevLocation = module.ImportReference(typeof(Trace).GetField(nameof(Trace.PrevLocation)));
            var seed = Fnv1a(assembly.Name.Name);

            var types = new List<string>();
            int methods = 0, blocks = 0;
            foreach (var type in module.GetTypes())
            {
                if (type.Name == "<Module>" || !options.Matches(type.FullName))
                {
                    continue;
                }
                var any = false;
                foreach (var method in type.Methods)
                {
                    if (!method.HasBody || method.Body.Instructions.Count == 0)
                    {
                        continue;
                    }
                    blocks += InstrumentMethod(method, sharedMem, prevLocation, seed);
                    methods++;
                    any = true;
                }
                if (any)
                {
                    types.Add(type.FullName);
                }
            }

            if (methods == 0)
            {
                // Nothing matched: leave the assembly unmarked so a corrected filter can still instrument it.
                if (output != path)
                {
                    File.Copy(path, output, overwrite: true);
                    CopyIfExists(Path.ChangeExtension(path, ".pdb"), Path.ChangeExtension(output, ".pdb"));
                }
                return new InstrumentResult(output, false, [], 0, 0, false);
            }

            var marker = module.ImportReference(typeof(InstrumentedAssemblyAttribute).GetConstructor(Type.EmptyTypes));
            assembly.CustomAttributes.Add(new CustomAttribute(marker));

            var writeSymbols = module.HasSymbols;
            module.Write(output, new WriterParameters { WriteSymbols = writeSymbols, DeterministicMvid = true });
            types.Sort(StringComparer.Ordinal);
            return new InstrumentResult(output, false, types, methods, blocks, writeSymbols);
        }
    }

    /// <summary>Whether <paramref name="module"/> carries <see cref="InstrumentedAssemblyAttribute"/>.</summary>
    public static bool IsInstrumented(ModuleDefinition module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var name = typeof(InstrumentedAssemblyAttribute).FullName;
        return module.Assembly.CustomAttributes.Any(a => a.AttributeType.FullName == name);
    }

    /// <summary>
    /// The first instruction of every basic block of <paramref name="body"/>, in IL order: the entry, every branch
    /// or switch target, every instruction after a branch, return, throw, leave or endfinally, and every try, filter
    /// and handler start (and end).
    /// </summary>
    public static IReadOnlyList<Instruction> FindBlockStarts(Mono.Cecil.Cil.MethodBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var starts = new HashSet<Instruction>();
        var instructions = body.Instructions;
        if (instructions.Count == 0)
        {
            return [];
        }
        starts.Add(instructions[0]);
        foreach (var ins in instructions)
        {
            switch (ins.OpCode.FlowControl)
            {
                case FlowControl.Branch:
                case FlowControl.Cond_Branch:
                    if (ins.Operand is Instruction target)
                    {
                        starts.Add(target);
                    }
                    else if (ins.Operand is Instruction[] targets)
                    {
                        starts.UnionWith(targets);
                    }
                    AddNext(starts, ins);
                    break;
                case FlowControl.Return:
                case FlowControl.Throw:
                    AddNext(starts, ins);
                    break;
            }
        }
        foreach (var handler in body.ExceptionHandlers)
        {
            AddIfNotNull(starts, handler.TryStart);
            AddIfNotNull(starts, handler.TryEnd);
            AddIfNotNull(starts, handler.HandlerStart);
            AddIfNotNull(starts, handler.HandlerEnd);
            AddIfNotNull(starts, handler.FilterStart);
        }
        return instructions.Where(starts.Contains).ToList();
    }

    /// <summary>The deterministic block id (below <see cref="Trace.MapSize"/>) for a block of a method.</summary>
    public static int BlockId(uint assemblySeed, int methodToken, int ilOffset)
    {
        var x = ((ulong)assemblySeed << 32)
            ^ ((ulong)(uint)methodToken * 0x9E3779B97F4A7C15UL)
            ^ ((ulong)(uint)ilOffset * 0xC2B2AE3D27D4EB4FUL);
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (int)(x & (Trace.MapSize - 1));
    }

    /// <summary>32-bit FNV-1a of the UTF-8 bytes of <paramref name="s"/> (the assembly part of the id seed).</summary>
    public static uint Fnv1a(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var h = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            h = (h ^ b) * 16777619u;
        }
        return h;
    }

    private static int InstrumentMethod(MethodDefinition method, FieldReference sharedMem, FieldReference prevLocation, uint seed)
    {
        var body = method.Body;
        var token = method.MetadataToken.ToInt32();
        // Long branch forms first: the probes push targets out of short-branch range. OptimizeMacros shrinks them back.
        body.SimplifyMacros();
        var starts = FindBlockStarts(body);
        var il = body.GetILProcessor();
        foreach (var start in starts)
        {
            var id = BlockId(seed, token, start.Offset);
            // The probe takes over the block's first Instruction object, so every branch, switch table, exception
            // handler boundary, sequence point and scope that pointed at the block now points at the probe. The
            // original instruction moves behind the probe as a new object.
            var original = il.Create(OpCodes.Nop);
            original.OpCode = start.OpCode;
            original.Operand = start.Operand;
            start.OpCode = OpCodes.Ldsfld;
            start.Operand = sharedMem;
            var last = start;
            foreach (var ins in new[]
            {
                il.Create(OpCodes.Ldc_I4, id),
                il.Create(OpCodes.Ldsfld, prevLocation),
                il.Create(OpCodes.Xor),
                il.Create(OpCodes.Conv_U),
                il.Create(OpCodes.Add),
                il.Create(OpCodes.Dup),
                il.Create(OpCodes.Ldind_U1),
                il.Create(OpCodes.Ldc_I4_1),
                il.Create(OpCodes.Add),
                il.Create(OpCodes.Stind_I1),
                il.Create(OpCodes.Ldc_I4, id >> 1),
                il.Create(OpCodes.Stsfld, prevLocation),
                original,
            })
            {
                il.InsertAfter(last, ins);
                last = ins;
            }
        }
        body.OptimizeMacros();
        return starts.Count;
    }

    private static ModuleDefinition Read(string path, bool symbols)
    {
        var bytes = File.ReadAllBytes(path);
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(path)!);
        if (symbols)
        {
            try
            {
                var parameters = new ReaderParameters(ReadingMode.Immediate)
                {
                    AssemblyResolver = resolver,
                    ReadSymbols = true,
                    SymbolReaderProvider = new DefaultSymbolReaderProvider(throwIfNoSymbol: false),
                };
                var pdb = Path.ChangeExtension(path, ".pdb");
                if (File.Exists(pdb))
                {
                    // In memory, so that the same files can be overwritten.
                    parameters.SymbolStream = new MemoryStream(File.ReadAllBytes(pdb));
                }
                return ModuleDefinition.ReadModule(new MemoryStream(bytes), parameters);
            }
            catch (Exception ex) when (ex is SymbolsNotMatchingException or SymbolsNotFoundException or InvalidOperationException or BadImageFormatException)
            {
                Console.Error.WriteLine($"warning: {Path.GetFileName(path)}: symbols not usable ({ex.Message}); instrumenting without them");
            }
        }
        return ModuleDefinition.ReadModule(new MemoryStream(bytes), new ReaderParameters(ReadingMode.Immediate) { AssemblyResolver = resolver });
    }

    private static void AddNext(HashSet<Instruction> starts, Instruction ins)
    {
        if (ins.Next is not null)
        {
            starts.Add(ins.Next);
        }
    }

    private static void AddIfNotNull(HashSet<Instruction> starts, Instruction? ins)
    {
        if (ins is not null)
        {
            starts.Add(ins);
        }
    }

    private static void CopyIfExists(string from, string to)
    {
        if (File.Exists(from))
        {
            File.Copy(from, to, overwrite: true);
        }
    }
}
