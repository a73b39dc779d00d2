using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.LibxlChecks;

namespace StreamBench.Formats.Verification;

/// <summary>
/// The libxl layer (FORMATS.md 2): header and records, one method per record type behind a dispatch table.
/// verify-stream-v2's VerifyLibxl checks (items 3-14) are in every profile; libxl_stream_read.c's in restore;
/// stream-shape rules in strict.
/// </summary>
internal sealed class LibxlRules
{
    private readonly VerificationContext _ctx;
    private readonly Action?[] _handlers;
    private PostcopyRules? _postcopy;
    private bool _sawRecord;
    private bool _sawLibxcContext;
    private uint _previousType = uint.MaxValue;

    public LibxlRules(VerificationContext ctx)
    {
        _ctx = ctx;
        _handlers = new Action?[(int)LibxlPostcopyRecordType.PostcopyTransitionEnd + 1];
        _handlers[(int)LibxlRecordType.End] = End;
        _handlers[(int)LibxlRecordType.LibxcContext] = LibxcContext;
        _handlers[(int)LibxlRecordType.EmulatorXenstoreData] = EmulatorXenstoreData;
        _handlers[(int)LibxlRecordType.EmulatorContext] = EmulatorContext;
        _handlers[(int)LibxlRecordType.CheckpointEnd] = CheckpointEnd;
        _handlers[(int)LibxlRecordType.CheckpointState] = CheckpointState;
        if (ctx.Rfc)
        {
            _handlers[(int)LibxlPostcopyRecordType.PostcopyTransitionEnd] = PostcopyTransitionEnd;
        }
    }

    /// <summary>Connects the post-copy rules (RFC dialect), which own the post-copy phase.</summary>
    public void Attach(PostcopyRules postcopy) => _postcopy = postcopy;

    public void Header()
    {
        var h = _ctx.Reader.LibxlHeader!.Value;
        _ctx.Summary.LibxlVersion = h.Version;
        _ctx.Summary.LibxlOptions = h.Options;
        if (h.Ident != LibxlWire.Ident)
        {
            _ctx.ReportAtItem(Ident, 0, "ident", string.Create(CultureInfo.InvariantCulture,
                $"expected 0x{LibxlWire.Ident:x16} (\"LibxlFmt\"), found 0x{h.Ident:x16}"));
            return;
        }
        if (h.Version != LibxlWire.Version)
        {
            _ctx.ReportAtItem(LibxlChecks.Version, 8, "version", string.Create(CultureInfo.InvariantCulture, $"expected {LibxlWire.Version}, found {h.Version}"));
        }
        var reserved = (uint)h.Options & ~(uint)LibxlOptions.Known;
        if (reserved != 0)
        {
            _ctx.ReportAtItem(Options, 12, "options", string.Create(CultureInfo.InvariantCulture,
                $"expected reserved bits 2..31 clear, found 0x{reserved:x}"));
        }
        if ((h.Options & LibxlOptions.BigEndian) != 0)
        {
            _ctx.ReportAtItem(BigEndianIgnored, 12, "options", "endianness bit set (big-endian); verify-stream-v2 ignores it and reads the stream as little-endian");
            _ctx.ReportAtItem(BigEndian, 12, "options", "expected a little-endian stream (bit 0 clear), found the big-endian bit set");
        }
    }

    /// <summary>One libxl record. Returns whether its padding is to be checked.</summary>
    public bool Record()
    {
        var r = _ctx.Reader;
        var type = r.RecordType;
        _ctx.Summary.CountRecord(StreamLayer.Libxl, type, r.BodyLength);
        if (!_sawRecord)
        {
            _sawRecord = true;
            if (type != (uint)LibxlRecordType.LibxcContext)
            {
                _ctx.Report(LibxcContextFirst, null, "expected LIBXC_CONTEXT as the first libxl record, found " + r.RecordTypeName);
            }
        }
        if (_ctx.InCheckpointTail && type is not ((uint)LibxlRecordType.EmulatorXenstoreData or (uint)LibxlRecordType.EmulatorContext or (uint)LibxlRecordType.CheckpointEnd))
        {
            _ctx.Report(TailRecord, null, "expected EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT or CHECKPOINT_END after a libxc CHECKPOINT, found " + r.RecordTypeName);
        }
        else if (_ctx.InPostcopyTail && type is not ((uint)LibxlRecordType.EmulatorXenstoreData or (uint)LibxlRecordType.EmulatorContext
            or (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd))
        {
            _ctx.Report(TailRecord, null, "expected EMULATOR_XENSTORE_DATA, EMULATOR_CONTEXT or POSTCOPY_TRANSITION_END after POSTCOPY_TRANSITION, found " + r.RecordTypeName);
        }
        var handler = type < (uint)_handlers.Length ? _handlers[type] : null;
        if (handler is null)
        {
            _ctx.Report(UnknownType, "type", string.Create(CultureInfo.InvariantCulture,
                $"expected a libxl record type in {RecordDictionary.Libxl(_ctx.Reader.Dialect).KnownRange}, found 0x{type:x8}"));
        }
        else
        {
            handler();
        }
        _previousType = type;
        return true;
    }

    private void EmptyBody(VerificationCheck check)
    {
        var len = _ctx.Reader.BodyLength;
        if (len != 0)
        {
            _ctx.Report(check, "length", string.Create(CultureInfo.InvariantCulture, $"expected an empty body, found {len} bytes"));
        }
    }

    private void End()
    {
        EmptyBody(EndLength);
        if (!_sawLibxcContext)
        {
            _ctx.Report(LibxcContextMissing, null, "expected a LIBXC_CONTEXT before the libxl END, found none");
        }
    }

    private void LibxcContext()
    {
        EmptyBody(LibxcContextLength);
        if (_sawLibxcContext)
        {
            _ctx.Report(LibxcContextDuplicate, null, "expected one LIBXC_CONTEXT, found another");
        }
        _sawLibxcContext = true;
        _ctx.SawEmbeddedLibxc = true;
    }

    private void EmulatorXenstoreData()
    {
        if (!EmulatorSubHeader(XenstoreTooShort, XenstoreEmulator))
        {
            return;
        }
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len == LibxlWire.EmulatorSubHeaderSize)
        {
            return;
        }
        var scanner = default(XenstoreDataScanner);
        if (len <= _ctx.Window)
        {
            scanner.Add(r.BodyPrefix((int)len)[LibxlWire.EmulatorSubHeaderSize..]);
        }
        else
        {
            // Stream it: a libxl record has no length cap, and the check needs every byte.
            var buffer = _ctx.Scratch;
            var skip = LibxlWire.EmulatorSubHeaderSize;
            int n;
            while ((n = r.ReadBody(buffer)) > 0)
            {
                scanner.Add(buffer.AsSpan(skip, n - skip));
                skip = 0;
            }
        }
        const int payload = LibxlWire.EmulatorSubHeaderSize;
        switch (scanner.FramingProblem)
        {
            case XenstoreDataProblem.NotNulTerminated:
                _ctx.ReportInBody(XenstoreFraming, len - 1, "data", string.Create(CultureInfo.InvariantCulture,
                    $"expected the key/value data to end in NUL, found a last string starting at body offset {payload + scanner.LastStringOffset} with no NUL"));
                break;
            case XenstoreDataProblem.OddStringCount:
                _ctx.ReportInBody(XenstoreFraming, payload + scanner.LastStringOffset, "data", string.Create(CultureInfo.InvariantCulture,
                    $"expected an even number of strings (key, value pairs), found {scanner.Strings}"));
                break;
        }
        if (scanner.KeyProblem != XenstoreDataProblem.None)
        {
            _ctx.ReportInBody(XenstoreKey, payload + scanner.KeyProblemOffset, "key", scanner.KeyProblem == XenstoreDataProblem.EmptyKey
                ? "expected a non-empty key, found an empty one"
                : "expected a key relative to the device-model path, found one starting with '/'");
        }
    }

    private void EmulatorContext() => EmulatorSubHeader(EmulatorContextTooShort, EmulatorContextEmulator);

    private bool EmulatorSubHeader(VerificationCheck tooShort, VerificationCheck emulatorId)
    {
        var r = _ctx.Reader;
        if (_ctx.Guest is { } guest && guest != DomainType.X86Hvm)
        {
            _ctx.Report(EmulatorNotHvm, null, "expected " + r.RecordTypeName + " only for an HVM guest, found it in an x86 PV stream");
        }
        if (r.BodyLength < LibxlWire.EmulatorSubHeaderSize)
        {
            _ctx.Report(tooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least {LibxlWire.EmulatorSubHeaderSize} bytes (emulator_id, index), found {r.BodyLength}"));
            return false;
        }
        if (EmulatorBody.TryParse(r.BodyPrefix(LibxlWire.EmulatorSubHeaderSize), out var e) && !e.IsKnownEmulator)
        {
            _ctx.ReportInBody(emulatorId, 0, "emulator_id", string.Create(CultureInfo.InvariantCulture,
                $"expected 0 (unknown), 1 (qemu-traditional) or 2 (qemu-upstream), found {e.EmulatorId}"));
        }
        return true;
    }

    private void CheckpointEnd()
    {
        EmptyBody(CheckpointEndLength);
        if (_ctx.InCheckpointTail)
        {
            _ctx.OnCheckpointEnd();
        }
        else
        {
            _ctx.Report(CheckpointEndUnexpected, null, "expected CHECKPOINT_END only after a libxc CHECKPOINT, found it outside a checkpoint");
        }
    }

    private void CheckpointState()
    {
        // A COLO primary sends CHECKPOINT_NEW right after each CHECKPOINT_END (the reader's explicit Colo option).
        var coloNew = _ctx.Options.Reader.Colo && _previousType == (uint)LibxlRecordType.CheckpointEnd;
        if (!coloNew)
        {
            _ctx.Report(CheckpointStateUnexpected, null, _ctx.Options.Reader.Colo
                ? "expected CHECKPOINT_STATE on a COLO main stream only right after CHECKPOINT_END, found it elsewhere"
                : "expected CHECKPOINT_STATE only on the COLO back channel (or, with --colo, after CHECKPOINT_END), found it in the main stream");
        }
        CheckpointStateLayout();
        var r = _ctx.Reader;
        if (coloNew && r.BodyLength >= LibxlWire.CheckpointStateSize
            && CheckpointStateBody.TryParse(r.BodyPrefix(LibxlWire.CheckpointStateSize), out var state)
            && state.ControlId != (uint)CheckpointControlId.CheckpointNew)
        {
            _ctx.ReportInBody(ColoStateId, 0, "control_id", string.Create(CultureInfo.InvariantCulture,
                $"expected 0 (CHECKPOINT_NEW) on the main stream, found {state.ControlId}"));
        }
    }

    /// <summary>CHECKPOINT_STATE's body (also used on the back channel).</summary>
    public void CheckpointStateLayout()
    {
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len == 0)
        {
            _ctx.Report(CheckpointStateEmpty, "length", "expected a body (u32 control_id), found an empty one");
            return;
        }
        if (len < LibxlWire.CheckpointStateSize)
        {
            _ctx.Report(CheckpointStateTooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least {LibxlWire.CheckpointStateSize} bytes (u32 control_id), found {len}"));
            return;
        }
        if (CheckpointStateBody.TryParse(r.BodyPrefix(LibxlWire.CheckpointStateSize), out var state) && !state.IsKnown)
        {
            _ctx.ReportInBody(CheckpointStateId, 0, "control_id", string.Create(CultureInfo.InvariantCulture,
                $"expected 0 (CHECKPOINT_NEW), 1 (SVM_SUSPENDED), 2 (SVM_READY) or 3 (SVM_RESUMED), found {state.ControlId}"));
        }
    }

    private void PostcopyTransitionEnd()
    {
        EmptyBody(PostcopyTransitionEndLength);
        if (_ctx.InPostcopyTail)
        {
            _ctx.InPostcopyTail = false;
            _postcopy?.OnTransitionEnd();
        }
        else
        {
            _ctx.Report(PostcopyTransitionEndUnexpected, null, "expected POSTCOPY_TRANSITION_END only after a libxc POSTCOPY_TRANSITION, found it elsewhere");
        }
    }
}
