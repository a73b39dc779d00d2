using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.BackChannelChecks;

namespace StreamBench.Formats.Verification;

/// <summary>
/// The back channel (receiver → sender, no stream header; FORMATS.md 2.4, 9): COLO's CHECKPOINT_STATE and
/// CHECKPOINT_DIRTY_PFN_LIST, and the post-copy RFC's POSTCOPY_FAULT and POSTCOPY_COMPLETE. Nothing else.
/// </summary>
internal sealed class BackChannelRules
{
    // The secondary loop (secondary → primary): what comes next.
    private enum ColoNext
    {
        Ready,
        Resumed,
        Suspended,
        DirtyList,
    }

    private ColoNext _coloNext = ColoNext.Ready;
    private readonly VerificationContext _ctx;
    private readonly LibxlRules _libxl;
    private readonly PostcopyRules? _postcopy;

    public BackChannelRules(VerificationContext ctx, LibxlRules libxl, PostcopyRules? postcopy)
    {
        _ctx = ctx;
        _libxl = libxl;
        _postcopy = postcopy;
    }

    /// <summary>One back-channel record. Returns whether its padding is to be checked.</summary>
    public bool Record()
    {
        var r = _ctx.Reader;
        var type = r.RecordType;
        _ctx.Summary.CountRecord(StreamLayer.BackChannel, type, r.BodyLength);
        switch (type)
        {
            case (uint)LibxlRecordType.CheckpointState:
                _libxl.CheckpointStateLayout();
                if (r.BodyLength >= LibxlWire.CheckpointStateSize
                    && Records.CheckpointStateBody.TryParse(r.BodyPrefix(LibxlWire.CheckpointStateSize), out var state))
                {
                    ColoState(state.ControlId);
                }
                return true;
            case (uint)LibxcRecordType.CheckpointDirtyPfnList:
                ColoStep(ColoNext.DirtyList, "CHECKPOINT_DIRTY_PFN_LIST");
                if (r.BodyLength % 8 != 0)
                {
                    _ctx.Report(DirtyPfnListLength, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a multiple of 8 bytes (u64 pfns), found {r.BodyLength}"));
                }
                return true;
            case (uint)PostcopyRecordType.PostcopyFault when _postcopy is not null:
                _postcopy.FaultLayout();
                return true;
            case (uint)PostcopyRecordType.PostcopyComplete when _postcopy is not null:
                _postcopy.CompleteLayout();
                return true;
            default:
                _ctx.Report(RecordType, "type", string.Create(CultureInfo.InvariantCulture,
                    $"expected CHECKPOINT_STATE (5) or CHECKPOINT_DIRTY_PFN_LIST (0xf){(_postcopy is null ? "" : ", POSTCOPY_FAULT (0x15) or POSTCOPY_COMPLETE (0x16)")}, found 0x{type:x8}"));
                return true;
        }
    }

    private void ColoState(uint id)
    {
        switch (id)
        {
            case (uint)CheckpointControlId.CheckpointNew:
                _ctx.Report(ColoCheckpointNew, "control_id",
                    "expected SVM_READY, SVM_RESUMED or SVM_SUSPENDED from the secondary (secondary → primary), found CHECKPOINT_NEW, which only the primary sends (primary → secondary, on the main stream)");
                break;
            case (uint)CheckpointControlId.SvmReady:
                ColoStep(ColoNext.Ready, "SVM_READY");
                break;
            case (uint)CheckpointControlId.SvmResumed:
                ColoStep(ColoNext.Resumed, "SVM_RESUMED");
                break;
            case (uint)CheckpointControlId.SvmSuspended:
                ColoStep(ColoNext.Suspended, "SVM_SUSPENDED");
                break;
            default:
                break; // an unknown control_id is the layout check's finding
        }
    }

    // One message of the secondary loop: out of order is a finding; the machine then follows what was found, so a
    // single slip is reported once.
    private void ColoStep(ColoNext found, string name)
    {
        if (_postcopy is not null)
        {
            return; // the RFC's back channel carries post-copy messages; COLO is an upstream feature
        }

        if (found != _coloNext)
        {
            _ctx.Report(ColoOrder, "type", string.Create(CultureInfo.InvariantCulture,
                $"expected {Name(_coloNext)}{(_coloNext == ColoNext.Ready && _ctx.Reader.RecordIndex == 0 ? " (the secondary's first message)" : "")} next from the secondary (secondary → primary), found {name}"));
        }

        _coloNext = found switch
        {
            ColoNext.Ready => ColoNext.Resumed,
            ColoNext.Resumed => ColoNext.Suspended,
            ColoNext.Suspended => ColoNext.DirtyList,
            _ => ColoNext.Ready,
        };
    }

    private static string Name(ColoNext next) => next switch
    {
        ColoNext.Ready => "SVM_READY",
        ColoNext.Resumed => "SVM_RESUMED",
        ColoNext.Suspended => "SVM_SUSPENDED",
        _ => "CHECKPOINT_DIRTY_PFN_LIST",
    };
}
