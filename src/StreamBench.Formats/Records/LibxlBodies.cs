using System.Buffers.Binary;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Records;

/// <summary>
/// The emulator sub-header of EMULATOR_XENSTORE_DATA and EMULATOR_CONTEXT (FORMATS.md 2.3):
/// <c>u32 emulator_id; u32 index;</c> then the payload (key/value pairs or the device-model blob).
/// </summary>
public readonly ref struct EmulatorBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    private EmulatorBody(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Decodes the sub-header; false when fewer than 8 bytes are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out EmulatorBody emulator)
    {
        emulator = new EmulatorBody(body);
        return body.Length >= LibxlWire.EmulatorSubHeaderSize;
    }

    /// <summary>0 unknown (legacy-converted), 1 qemu-traditional, 2 qemu-upstream; 3+ reserved.</summary>
    public uint EmulatorId => BinaryPrimitives.ReadUInt32LittleEndian(_bytes);

    /// <summary>The emulator's index within the domain.</summary>
    public uint Index => BinaryPrimitives.ReadUInt32LittleEndian(_bytes[4..]);

    /// <summary>Whether <see cref="EmulatorId"/> is one of the three defined ids.</summary>
    public bool IsKnownEmulator => EmulatorId <= (uint)Wire.EmulatorId.QemuUpstream;

    /// <summary>The payload after the sub-header (as much as the span holds).</summary>
    public ReadOnlySpan<byte> Payload => _bytes[LibxlWire.EmulatorSubHeaderSize..];

    /// <summary>Whether an EMULATOR_CONTEXT payload starts with QEMU's "QEVM" savevm magic.</summary>
    public bool PayloadIsQemuSavevm => Payload.Length >= 4 && Payload[..4].SequenceEqual("QEVM"u8);
}

/// <summary>What is wrong with EMULATOR_XENSTORE_DATA's key/value strings, if anything.</summary>
public enum XenstoreDataProblem
{
    /// <summary>Well formed (or empty).</summary>
    None,
    /// <summary>The data does not end in NUL (verify-stream-v2's first check; libxl: "not NUL terminated").</summary>
    NotNulTerminated,
    /// <summary>An odd number of strings: a key without a value.</summary>
    OddStringCount,
    /// <summary>An empty key (libxl rejects it; verify does not look).</summary>
    EmptyKey,
    /// <summary>A key starting with '/': keys are relative to the device-model path (libxl rejects it).</summary>
    AbsoluteKey,
}

/// <summary>
/// Checks EMULATOR_XENSTORE_DATA's payload (FORMATS.md 2.3): packed NUL-terminated <c>key, value</c> strings, fed in
/// chunks so a payload of any length is checked in constant memory. It applies verify-stream-v2's rule (ends in NUL,
/// an even number of strings; done correctly, unlike the Python 3 tool) and libxl's (keys non-empty and relative).
/// </summary>
public struct XenstoreDataScanner
{
    private long _length;
    private long _strings;
    private long _stringStart;
    private bool _atStringStart;
    private byte _last;

    /// <summary>The first libxl-level problem (empty or absolute key) and where its key starts in the payload.</summary>
    public XenstoreDataProblem KeyProblem { get; private set; }

    /// <summary>Payload offset of the key <see cref="KeyProblem"/> refers to.</summary>
    public long KeyProblemOffset { get; private set; }

    /// <summary>Complete strings seen so far.</summary>
    public readonly long Strings => _strings;

    /// <summary>Key/value pairs seen (complete strings / 2).</summary>
    public readonly long Pairs => _strings / 2;

    /// <summary>Feeds the next bytes of the payload.</summary>
    public void Add(ReadOnlySpan<byte> chunk)
    {
        if (_length == 0)
        {
            _atStringStart = true;
        }
        for (var i = 0; i < chunk.Length; i++)
        {
            var b = chunk[i];
            var at = _length + i;
            if (_atStringStart)
            {
                _stringStart = at;
                _atStringStart = false;
                var isKey = _strings % 2 == 0;
                if (isKey && KeyProblem == XenstoreDataProblem.None)
                {
                    if (b == 0)
                    {
                        KeyProblem = XenstoreDataProblem.EmptyKey;
                        KeyProblemOffset = at;
                    }
                    else if (b == (byte)'/')
                    {
                        KeyProblem = XenstoreDataProblem.AbsoluteKey;
                        KeyProblemOffset = at;
                    }
                }
            }
            if (b == 0)
            {
                _strings++;
                _atStringStart = true;
            }
        }
        if (chunk.Length > 0)
        {
            _last = chunk[^1];
            _length += chunk.Length;
        }
    }

    /// <summary>verify-stream-v2's verdict on the payload fed so far (done right): NUL-terminated, even string count.</summary>
    public readonly XenstoreDataProblem FramingProblem => _length == 0
        ? XenstoreDataProblem.None
        : _last != 0 ? XenstoreDataProblem.NotNulTerminated
        : _strings % 2 != 0 ? XenstoreDataProblem.OddStringCount
        : XenstoreDataProblem.None;

    /// <summary>Payload offset of the last unterminated string (meaningful with <see cref="XenstoreDataProblem.NotNulTerminated"/>).</summary>
    public readonly long LastStringOffset => _stringStart;
}

/// <summary>Enumerates the key/value pairs of a complete EMULATOR_XENSTORE_DATA payload in memory.</summary>
public ref struct XenstorePairReader
{
    private ReadOnlySpan<byte> _rest;

    /// <summary>Reads pairs from <paramref name="payload"/> (the bytes after the emulator sub-header).</summary>
    public XenstorePairReader(ReadOnlySpan<byte> payload) => _rest = payload;

    /// <summary>The next key and value (without their NULs); false at the end or at a malformed tail.</summary>
    public bool TryNext(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = value = default;
        var k = _rest.IndexOf((byte)0);
        if (k < 0)
        {
            return false;
        }
        var afterKey = _rest[(k + 1)..];
        var v = afterKey.IndexOf((byte)0);
        if (v < 0)
        {
            return false;
        }
        key = _rest[..k];
        value = afterKey[..v];
        _rest = afterKey[(v + 1)..];
        return true;
    }
}

/// <summary>CHECKPOINT_STATE (FORMATS.md 2.3): <c>u32 control_id</c> (+ padding). The C reader dereferences it unchecked.</summary>
public readonly struct CheckpointStateBody
{
    /// <summary>0 CHECKPOINT_NEW, 1 SVM_SUSPENDED, 2 SVM_READY, 3 SVM_RESUMED.</summary>
    public uint ControlId { get; }

    private CheckpointStateBody(uint id) => ControlId = id;

    /// <summary>Decodes the first 4 bytes; false when fewer are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out CheckpointStateBody state)
    {
        if (body.Length < LibxlWire.CheckpointStateSize)
        {
            state = default;
            return false;
        }
        state = new CheckpointStateBody(BinaryPrimitives.ReadUInt32LittleEndian(body));
        return true;
    }

    /// <summary>Whether the id is one of the four defined ones.</summary>
    public bool IsKnown => ControlId <= (uint)CheckpointControlId.SvmResumed;
}
