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
                return true;
            case (uint)LibxcRecordType.CheckpointDirtyPfnList:
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
}
