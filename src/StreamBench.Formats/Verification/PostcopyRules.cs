using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.PostcopyChecks;

namespace StreamBench.Formats.Verification;

/// <summary>
/// The post-copy RFC dialect (FORMATS.md 9): records 0x10..0x16 per their layouts (every profile, like the upstream
/// records' layouts), the phase order the RFC's restore follows (restore), and pfn announcement (strict).
/// <code>
/// PAGE_DATA*, POSTCOPY_BEGIN, TSC_INFO, HVM_CONTEXT, HVM_PARAMS, POSTCOPY_PFNS_BEGIN, POSTCOPY_PFNS*,
/// POSTCOPY_TRANSITION, ⟨libxl: EMULATOR_*, POSTCOPY_TRANSITION_END⟩, POSTCOPY_PAGE_DATA*, END
/// </code>
/// </summary>
internal sealed class PostcopyRules
{
    private enum Phase
    {
        Precopy,
        Context,
        Pfns,
        Transition,
        Postcopy,
    }

    private const int ContextRecordsMask = (1 << (int)LibxcRecordType.X86TscInfo) | (1 << (int)LibxcRecordType.HvmContext)
        | (1 << (int)LibxcRecordType.HvmParams) | (1 << (int)LibxcRecordType.SharedInfo) | (1 << (int)LibxcRecordType.X86PvVcpuBasic)
        | (1 << (int)LibxcRecordType.X86PvVcpuExtended) | (1 << (int)LibxcRecordType.X86PvVcpuXsave) | (1 << (int)LibxcRecordType.X86PvVcpuMsrs);

    private readonly VerificationContext _ctx;
    private readonly LibxcRules _libxc;
    private readonly SparsePfnSet? _announced;
    private readonly PfnWordSink _announce;
    private readonly PfnWordSink _deliver;
    private Phase _phase;
    private bool _trackingReported;
    private bool _unannouncedReported;
    private long _forbiddenIndex;
    private ulong _forbiddenWord;
    private long _unannouncedIndex;
    private ulong _unannouncedPfn;

    public PostcopyRules(VerificationContext ctx, LibxcRules libxc)
    {
        _ctx = ctx;
        _libxc = libxc;
        if (ctx.On(Unannounced))
        {
            _announced = new SparsePfnSet();
        }
        _announce = Announce;
        _deliver = Deliver;
    }

    /// <summary>POSTCOPY_BEGIN was seen.</summary>
    public bool Begun => _phase != Phase.Precopy;

    /// <summary>A POSTCOPY_PAGE_DATA was seen.</summary>
    public bool SawPostcopyPages { get; private set; }

    /// <summary>Puts the RFC's record methods into the libxc dispatch table.</summary>
    public void Register(Action?[] handlers)
    {
        handlers[(int)PostcopyRecordType.PostcopyBegin] = PostcopyBegin;
        handlers[(int)PostcopyRecordType.PostcopyPfnsBegin] = PostcopyPfnsBegin;
        handlers[(int)PostcopyRecordType.PostcopyPfns] = PostcopyPfns;
        handlers[(int)PostcopyRecordType.PostcopyTransition] = PostcopyTransition;
        handlers[(int)PostcopyRecordType.PostcopyPageData] = PostcopyPageData;
        handlers[(int)PostcopyRecordType.PostcopyFault] = ForwardBackChannelRecord;
        handlers[(int)PostcopyRecordType.PostcopyComplete] = ForwardBackChannelRecord;
    }

    private string PhaseName => _phase switch
    {
        Phase.Precopy => "the pre-copy phase",
        Phase.Context => "the CPU context after POSTCOPY_BEGIN",
        Phase.Pfns => "the pfn announcements after POSTCOPY_PFNS_BEGIN",
        Phase.Transition => "the transition",
        _ => "the post-copy phase",
    };

    /// <summary>Phase rules for the upstream record types (the RFC's own check their order themselves).</summary>
    public void BeforeRecord(uint type)
    {
        if (type is >= (uint)PostcopyRecordType.PostcopyBegin and <= (uint)PostcopyRecordType.PostcopyComplete || _phase == Phase.Precopy)
        {
            return;
        }
        var name = _ctx.Reader.RecordTypeName;
        switch (_phase)
        {
            case Phase.Context when type >= 32 || ((1 << (int)type) & ContextRecordsMask) == 0:
                _ctx.Report(OrderPhaseRecord, null, "expected CPU context records (TSC_INFO, HVM_CONTEXT, HVM_PARAMS) or POSTCOPY_PFNS_BEGIN after POSTCOPY_BEGIN, found " + name);
                break;
            case Phase.Pfns:
                _ctx.Report(OrderPhaseRecord, null, "expected POSTCOPY_PFNS or POSTCOPY_TRANSITION after POSTCOPY_PFNS_BEGIN, found " + name);
                break;
            case Phase.Transition or Phase.Postcopy when type != (uint)LibxcRecordType.End:
                _ctx.Report(OrderPhaseRecord, null, "expected POSTCOPY_PAGE_DATA or END in the post-copy phase, found " + name);
                break;
        }
    }

    private void EmptyBody(VerificationCheck check)
    {
        var len = _ctx.Reader.BodyLength;
        if (len != 0)
        {
            _ctx.Report(check, "length", string.Create(CultureInfo.InvariantCulture, $"expected an empty body, found {len} bytes"));
        }
    }

    private void PostcopyBegin()
    {
        EmptyBody(BeginLength);
        if (_phase != Phase.Precopy)
        {
            _ctx.Report(OrderBegin, null, "expected one POSTCOPY_BEGIN at the end of the pre-copy phase, found another in " + PhaseName);
        }
        _phase = Phase.Context;
    }

    private void PostcopyPfnsBegin()
    {
        EmptyBody(PfnsBeginLength);
        if (_phase != Phase.Context)
        {
            _ctx.Report(OrderPfnsBegin, null, "expected POSTCOPY_PFNS_BEGIN right after POSTCOPY_BEGIN's CPU context records, found it in " + PhaseName);
        }
        _phase = Phase.Pfns;
    }

    private void PostcopyPfns()
    {
        if (_phase != Phase.Pfns)
        {
            _ctx.Report(OrderPfns, null, "expected POSTCOPY_PFNS between POSTCOPY_PFNS_BEGIN and POSTCOPY_TRANSITION, found it in " + PhaseName);
        }
        _libxc.PageDataLayout(withPages: false, countPages: false, _announced is null ? null : _announce, out _);
    }

    private void PostcopyTransition()
    {
        EmptyBody(TransitionLength);
        if (_phase != Phase.Pfns)
        {
            _ctx.Report(OrderTransition, null, "expected POSTCOPY_TRANSITION after POSTCOPY_PFNS_BEGIN and the pfn announcements, found it in " + PhaseName);
        }
        if (_ctx.Reader.LibxcEmbedded)
        {
            _phase = Phase.Transition;
            _ctx.InPostcopyTail = true;
        }
        else
        {
            _phase = Phase.Postcopy;
        }
    }

    /// <summary>libxl's POSTCOPY_TRANSITION_END handed the stream back to libxc.</summary>
    public void OnTransitionEnd() => _phase = Phase.Postcopy;

    private void PostcopyPageData()
    {
        if (_phase != Phase.Postcopy)
        {
            _ctx.Report(OrderPageData, null, "expected POSTCOPY_PAGE_DATA only after the post-copy transition, found it in " + PhaseName);
        }
        _forbiddenIndex = -1;
        _unannouncedIndex = -1;
        if (_libxc.PageDataLayout(withPages: true, countPages: true, _deliver, out _))
        {
            if (_forbiddenIndex >= 0)
            {
                var i = _forbiddenIndex;
                _ctx.ReportInBody(PageDataType, 8 + (i * 8), string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]"), string.Create(CultureInfo.InvariantCulture,
                    $"expected a page type that carries data, found {PageWord.TypeName(PageWord.TypeOf(_forbiddenWord))} in word 0x{_forbiddenWord:x16}"));
            }
            if (_unannouncedIndex >= 0 && !_unannouncedReported)
            {
                _unannouncedReported = true;
                var i = _unannouncedIndex;
                _ctx.ReportInBody(Unannounced, 8 + (i * 8), string.Create(CultureInfo.InvariantCulture, $"pfn[{i}]"), string.Create(CultureInfo.InvariantCulture,
                    $"expected pfn 0x{_unannouncedPfn:x} to have been announced in POSTCOPY_PFNS, found it unannounced"));
            }
        }
        SawPostcopyPages = true;
    }

    private void Announce(ReadOnlySpan<byte> words, long firstIndex)
    {
        var set = _announced!;
        for (var i = 0; i < words.Length / 8; i++)
        {
            if (!set.Add(PageWord.PfnOf(BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * 8, 8)))) && !_trackingReported)
            {
                _trackingReported = true;
                _ctx.ReportInBody(TrackingLimit, 8 + ((firstIndex + i) * 8), null, string.Create(CultureInfo.InvariantCulture,
                    $"announced-pfn tracking is capped at {SparsePfnSet.MaxChunks} chunks of {SparsePfnSet.ChunkPfns} pfns; later pfns are not checked"));
            }
        }
    }

    private void Deliver(ReadOnlySpan<byte> words, long firstIndex)
    {
        for (var i = 0; i < words.Length / 8; i++)
        {
            var w = BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * 8, 8));
            var type = PageWord.TypeOf(w);
            if (_forbiddenIndex < 0 && type is PageType.XTab or PageType.Broken or PageType.XAlloc)
            {
                _forbiddenIndex = firstIndex + i;
                _forbiddenWord = w;
            }
            if (_announced is not null && _unannouncedIndex < 0 && !_announced.Full && !_announced.Contains(PageWord.PfnOf(w)))
            {
                _unannouncedIndex = firstIndex + i;
                _unannouncedPfn = PageWord.PfnOf(w);
            }
        }
    }

    private void ForwardBackChannelRecord() => _ctx.Report(BackChannelOnly, null,
        "expected " + _ctx.Reader.RecordTypeName + " only on the back channel (destination → source), found it in the main stream");

    /// <summary>libxc END: a stream that began post-copy must have reached the post-copy phase.</summary>
    public void OnEnd()
    {
        if (_phase is Phase.Context or Phase.Pfns or Phase.Transition)
        {
            _ctx.Report(OrderIncomplete, null, "expected the post-copy transition before END, found END in " + PhaseName);
        }
    }

    /// <summary>POSTCOPY_FAULT on the back channel: the POSTCOPY_PFNS layout with bare pfns.</summary>
    public void FaultLayout()
    {
        if (_libxc.PageDataLayout(withPages: false, countPages: false, null, out var stats) && stats.Types[0] != stats.Words)
        {
            _ctx.ReportInBody(FaultTypeBits, 8, "pfn", string.Create(CultureInfo.InvariantCulture,
                $"expected bare pfns (bits 60..63 clear), found {stats.Words - stats.Types[0]} words with type bits set"));
        }
    }

    /// <summary>POSTCOPY_COMPLETE on the back channel.</summary>
    public void CompleteLayout() => EmptyBody(CompleteLength);
}
