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

    /// <summary>
    /// Comparison feedback: before every equality comparison of a value with a multi-byte constant (<c>ldc.i4</c>/<c>ldc.i8</c>
    /// followed by <c>ceq</c>, <c>beq</c> or <c>bne.un</c>), a call to <see cref="Trace.Cmp4"/>/<see cref="Trace.Cmp8"/> that
    /// marks a map slot per number of equal bytes, so a comparison that is half right is new coverage (laf-intel's split
    /// comparisons, done at run time).
    /// </summary>
    public bool CompareFeedback { get; set; }

    /// <summary>When set, collects the constants (single bytes from 0x10, multi-byte) the instrumented code compares against (AFL dictionary tokens).</summary>
    public ISet<string>? CompareConstants { get; set; }

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
public sealed record InstrumentResult(string OutputPath, bool AlreadyInstrumented, IReadOnlyList<string> Types, int Methods, int Blocks, bool SymbolsWritten)
{
    /// <summary>Comparisons given comparison feedback (<see cref="InstrumentOptions.CompareFeedback"/>).</summary>
    public int Compares { get; init; }
}

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
            var cmp4 = options.CompareFeedback ? module.ImportReference(typeof(Trace).GetMethod(nameof(Trace.Cmp4))) : null;
            var cmp8 = options.CompareFeedback ? module.ImportReference(typeof(Trace).GetMethod(nameof(Trace.Cmp8))) : null;

            var types = new List<string>();
            int methods = 0, blocks = 0, compares = 0;
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
                    if (options.CompareConstants is not null)
                    {
                        CollectConstants(method.Body, options.CompareConstants);
                    }
                    if (cmp4 is not null && cmp8 is not null)
                    {
                        compares += InstrumentCompares(method, cmp4, cmp8, seed);
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
            return new InstrumentResult(output, false, types, methods, blocks, writeSymbols) { Compares = compares };
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

    /// <summary>The constant of an equality comparison site: <c>ldc.i4/ldc.i8 C</c> right before <c>ceq/beq/bne.un</c>, C not a single byte.</summary>
    private static bool IsCompareSite(Instruction ins, out long value, out bool wide)
    {
        value = 0;
        wide = false;
        if (ins.Next is not { } next || next.OpCode.Code is not (Code.Ceq or Code.Beq or Code.Bne_Un or Code.Beq_S or Code.Bne_Un_S))
        {
            return false;
        }
        switch (ins.OpCode.Code)
        {
            case Code.Ldc_I4:
                value = (uint)(int)ins.Operand;
                return value > 0xFF && (uint)(int)ins.Operand < 0xFFFFFF00u; // not a byte, nor a small negative number
            case Code.Ldc_I8:
                value = (long)ins.Operand;
                wide = true;
                return (ulong)value > 0xFF && (ulong)value < 0xFFFFFFFFFFFFFF00UL;
            default:
                return false;
        }
    }

    /// <summary>Inserts <c>dup; ldc C; ldc id; call Trace.CmpN</c> before each comparison site (the value stays on the stack).</summary>
    private static int InstrumentCompares(MethodDefinition method, MethodReference cmp4, MethodReference cmp8, uint seed)
    {
        var body = method.Body;
        body.SimplifyMacros();
        var token = method.MetadataToken.ToInt32();
        var il = body.GetILProcessor();
        var sites = body.Instructions.Where(i => IsCompareSite(i, out _, out _)).ToList();
        foreach (var site in sites)
        {
            IsCompareSite(site, out var value, out var wide);
            // A slot per site: the block id of the site's offset, with the high bit flipped to stay apart from edges.
            var id = BlockId(seed, token, site.Offset) ^ (Trace.MapSize >> 1);
            Instruction[] hint =
            [
                il.Create(OpCodes.Dup),
                wide ? il.Create(OpCodes.Ldc_I8, value) : il.Create(OpCodes.Ldc_I4, (int)(uint)value),
                il.Create(OpCodes.Ldc_I4, id),
                il.Create(OpCodes.Call, wide ? cmp8 : cmp4),
            ];
            foreach (var ins in hint)
            {
                ins.Offset = site.Offset; // block ids (and line numbers) stay those of the comparison
                il.InsertBefore(site, ins);
            }
            // Whatever jumped to the comparison now jumps to its hint (the compared value is on the stack there too).
            foreach (var ins in body.Instructions)
            {
                if (ins.Operand == site && ins.OpCode.FlowControl is FlowControl.Branch or FlowControl.Cond_Branch)
                {
                    ins.Operand = hint[0];
                }
                else if (ins.Operand is Instruction[] targets)
                {
                    for (var t = 0; t < targets.Length; t++)
                    {
                        if (targets[t] == site)
                        {
                            targets[t] = hint[0];
                        }
                    }
                }
            }
        }
        return sites.Count;
    }

    /// <summary>Adds the constants (one byte from 0x10, and multi-byte) of the method's comparison sites to <paramref name="tokens"/> as AFL dictionary lines.</summary>
    private static void CollectConstants(Mono.Cecil.Cil.MethodBody body, ISet<string> tokens)
    {
        foreach (var ins in body.Instructions)
        {
            var constant = ins.OpCode.Code switch
            {
                Code.Ldc_I4 => (long?)(uint)(int)ins.Operand,
                Code.Ldc_I4_S => (uint)(int)(sbyte)ins.Operand,
                Code.Ldc_I8 => (long)ins.Operand,
                _ => null,
            };
            if (constant is not { } v || ins.Next is not { } next || next.OpCode.FlowControl is not (FlowControl.Cond_Branch or FlowControl.Next)
                || next.OpCode.Code is not (Code.Ceq or Code.Beq or Code.Beq_S or Code.Bne_Un or Code.Bne_Un_S or Code.Cgt or Code.Cgt_Un
                    or Code.Clt or Code.Clt_Un or Code.Bgt or Code.Bgt_S or Code.Bgt_Un or Code.Bgt_Un_S or Code.Blt or Code.Blt_S
                    or Code.Blt_Un or Code.Blt_Un_S or Code.Bge or Code.Bge_S or Code.Bge_Un or Code.Bge_Un_S or Code.Ble or Code.Ble_S
                    or Code.Ble_Un or Code.Ble_Un_S))
            {
                continue;
            }
            var u = (ulong)v;
            // One-byte constants too (from 0x10: smaller ones are enum values any mutator tries): a nested comparison
            // of single bytes (b[21] == 0x5a && b[22] == 0x7e) is what edge coverage rewards one byte at a time, once
            // the mutator writes the right byte; multi-byte ones both ways round.
            var width = u < 0x10 ? 0 : u <= 0xFF ? 1 : u <= 0xFFFF ? 2 : u <= 0xFFFFFFFF ? 4 : 8;
            if (width == 0 || u >= 0xFFFFFFFFFFFFFF00UL || (width == 4 && u >= 0xFFFFFF00u))
            {
                continue;
            }
            var le = new byte[width];
            for (var i = 0; i < width; i++)
            {
                le[i] = (byte)(u >> (8 * i));
            }
            tokens.Add(Token(le));
            if (width > 1)
            {
                Array.Reverse(le);
                tokens.Add(Token(le));
            }
        }

        static string Token(byte[] bytes) => "\"" + string.Concat(bytes.Select(b => $"\\x{b:x2}")) + "\"";
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
