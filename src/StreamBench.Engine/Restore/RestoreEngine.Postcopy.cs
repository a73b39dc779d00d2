using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using WirePageType = StreamBench.Formats.Wire.PageType;
using StreamBench.Formats.Verification;

namespace StreamBench.Engine.Restore;

/// <summary>The post-copy RFC dialect's records (FORMATS.md 9; seed 004): the destination side.</summary>
public sealed partial class RestoreEngine
{
    private PostcopyDestination? _postcopyState;
    private bool _postcopyBegun;
    private bool _postcopyPfnsBegun;
    private bool _awaitTransitionEnd;
    private bool _postcopyTransitioned;

    private bool Rfc => _options.Reader.Dialect == StreamDialect.PostcopyRfc;

    // The caller's destination, or a silent one for a replay (pages applied, nothing sent, the guest does not run).
    private PostcopyDestination _postcopy => _postcopyState ??= _options.Postcopy ?? new PostcopyDestination(null);

    /// <summary>The post-copy state of this restore (RFC dialect), if it reached POSTCOPY_BEGIN.</summary>
    internal PostcopyDestination? PostcopyState => _postcopyState;

    private void HandlePostcopyRecord(IncomingRecord record)
    {
        switch ((PostcopyRecordType)record.Type)
        {
            case PostcopyRecordType.PostcopyBegin:
                RequireEmpty(record, PostcopyChecks.BeginLength);
                if (_postcopyBegun)
                {
                    throw Fail(record, RestoreChecks.PostcopyOrder, "a second POSTCOPY_BEGIN", "type");
                }

                _postcopyBegun = true;
                _result.Postcopy = _postcopy;
                break;
            case PostcopyRecordType.PostcopyPfnsBegin:
                RequireEmpty(record, PostcopyChecks.PfnsBeginLength);
                if (!_postcopyBegun || _postcopyPfnsBegun)
                {
                    throw Fail(record, RestoreChecks.PostcopyOrder, "POSTCOPY_PFNS_BEGIN must follow POSTCOPY_BEGIN and its CPU context, once", "type");
                }

                _postcopyPfnsBegun = true;
                break;
            case PostcopyRecordType.PostcopyPfns:
                if (!_postcopyPfnsBegun || _postcopyTransitioned || _awaitTransitionEnd)
                {
                    throw Fail(record, RestoreChecks.PostcopyOrder, "POSTCOPY_PFNS outside POSTCOPY_PFNS_BEGIN .. POSTCOPY_TRANSITION", "type");
                }

                HandlePostcopyPfns(record);
                break;
            case PostcopyRecordType.PostcopyTransition:
                RequireEmpty(record, PostcopyChecks.TransitionLength);
                if (!_postcopyPfnsBegun || _postcopyTransitioned || _awaitTransitionEnd)
                {
                    throw Fail(record, RestoreChecks.PostcopyOrder, "POSTCOPY_TRANSITION must follow POSTCOPY_PFNS_BEGIN, once", "type");
                }

                if (_libxcEmbedded)
                {
                    _awaitTransitionEnd = true; // libxl's device-model records come first, up to POSTCOPY_TRANSITION_END
                }
                else
                {
                    Transition(record);
                }

                break;
            case PostcopyRecordType.PostcopyPageData:
                if (!_postcopyTransitioned)
                {
                    throw Fail(record, RestoreChecks.PostcopyOrder, "POSTCOPY_PAGE_DATA before the transition", "type");
                }

                HandlePageData(record, postcopy: true);
                _postcopy.AfterRecord(_domain!);
                break;
            default:
                throw Fail(record, PostcopyChecks.BackChannelOnly, $"{record.TypeName} travels on the back channel (destination to source), not in the main stream", "type");
        }
    }

    // POSTCOPY_PFNS: the PAGE_DATA layout without contents. Each pfn is populated now and absent until its page arrives.
    private void HandlePostcopyPfns(IncomingRecord record)
    {
        Span<byte> header = stackalloc byte[LibxcBodySizes.PageDataHeader];
        if (record.Length < LibxcBodySizes.PageDataHeader)
        {
            throw Fail(record, RestoreChecks.PostcopyPfnsLength, $"POSTCOPY_PFNS is {record.Length} bytes, shorter than its 8-byte header", "body_length");
        }

        record.ReadExact(header);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (record.Length != LibxcBodySizes.PageDataHeader + ((long)count * LibxcBodySizes.PfnWord))
        {
            throw Fail(record, RestoreChecks.PostcopyPfnsLength, $"POSTCOPY_PFNS length {record.Length}, expected 8 + 8 x {count} (count)", "count", record.At(0));
        }

        ulong[] words = ReadWords(record, count);
        GuestDomain domain = _domain!;
        for (int i = 0; i < (int)count; i++)
        {
            ulong pfn = PageWord.PfnOf(words[i]);
            WirePageType type = PageWord.TypeOf(words[i]);
            long at = record.At(LibxcBodySizes.PageDataHeader + (8L * i));
            if (!_ops!.PfnIsValid(pfn))
            {
                throw Fail(record, LibxcChecks.PageDataPfnRange, $"pfn 0x{pfn:x} (index {i}) outside domain maximum (max_pfn 0x{_ops.MaxPfn:x})", $"pfn[{i}]", at);
            }

            if (!PageWord.HasData(type))
            {
                throw Fail(record, RestoreChecks.PostcopyPfnType, $"pfn 0x{pfn:x} (index {i}) has type 0x{(byte)type:x}: only pages with data are sent after the transition", $"pfn[{i}]", at);
            }

            if (!domain.IsPopulated(pfn))
            {
                try
                {
                    domain.Populate(pfn);
                }
                catch (DomainException e)
                {
                    throw Fail(record, RestoreChecks.Populate, $"Failed to populate pfn 0x{pfn:x} (index {i}): {e.Message}", $"pfn[{i}]", at);
                }
            }

            _ops.SetPageType(record, pfn, type, i);
            if (!_postcopy.Announce(pfn))
            {
                throw Fail(record, RestoreChecks.PostcopyPfnsDuplicate, $"pfn 0x{pfn:x} (index {i}) was announced before", $"pfn[{i}]", at);
            }
        }
    }

    private void CheckPostcopyPage(IncomingRecord record, ulong pfn, WirePageType type, int i, long at, HashSet<ulong> batch)
    {
        if (!PageWord.HasData(type))
        {
            throw Fail(record, RestoreChecks.PostcopyPfnType, $"POSTCOPY_PAGE_DATA pfn 0x{pfn:x} (index {i}) has type 0x{(byte)type:x}: XTAB, BROKEN and XALLOC are forbidden", $"pfn[{i}]", at);
        }

        if (!_postcopy.IsAnnounced(pfn))
        {
            throw Fail(record, RestoreChecks.PostcopyUnannounced, $"POSTCOPY_PAGE_DATA for pfn 0x{pfn:x} (index {i}), which POSTCOPY_PFNS never announced", $"pfn[{i}]", at);
        }

        if (!_postcopy.IsAbsent(pfn) || !batch.Add(pfn))
        {
            throw Fail(record, RestoreChecks.PostcopyDuplicate, $"pfn 0x{pfn:x} (index {i}) arrived before: a page arrives once", $"pfn[{i}]", at);
        }
    }

    // libxl's POSTCOPY_TRANSITION_END: control returns to libxc for the post-copy memory phase.
    private void PostcopyTransitionEnd(IncomingRecord record)
    {
        if (!_awaitTransitionEnd)
        {
            throw Fail(record, RestoreChecks.PostcopyOrder, "POSTCOPY_TRANSITION_END without a libxc POSTCOPY_TRANSITION before it", "type");
        }

        _awaitTransitionEnd = false;
        Transition(record);
    }

    // The transition: stream_complete now, and the guest resumes here with its absent pages.
    private void Transition(IncomingRecord record)
    {
        StreamComplete(record);
        _postcopyTransitioned = true;
        _postcopy.Transition(_domain!);
    }

    // END in a post-copy stream: every announced page must have arrived; the vCPU then finishes its run.
    private void PostcopyEnd(IncomingRecord record)
    {
        if (!_postcopyBegun)
        {
            return;
        }

        if (!_postcopyTransitioned)
        {
            throw Fail(record, RestoreChecks.PostcopyOrder, "END after POSTCOPY_BEGIN without a transition", "type");
        }

        if (_postcopy.Outstanding > 0)
        {
            throw Fail(record, RestoreChecks.PostcopyIncomplete,
                $"END with {_postcopy.Outstanding} announced page(s) outstanding: {_postcopy.AbsentRanges()}", "type");
        }

        _postcopy.Finish(_domain!);
    }

    // The input ended after the transition: the guest ran here with pages that will never come; it is lost.
    private void PostcopyEndOfInput(StreamFormatException? truncation)
    {
        if (!_postcopyTransitioned || _libxcEnded)
        {
            return;
        }

        PostcopyDestination p = _postcopy;
        if (p.Outstanding == 0)
        {
            p.Finish(_domain!);
            Warn("the stream ended after every post-copy page arrived but before END");
            _done = true;
            return;
        }

        throw new StreamFormatException(
            $"the stream broke after the post-copy transition: the guest is lost, {p.Outstanding} of {p.Announced} announced pfn(s) never arrived: {p.AbsentRanges()} [{RestoreChecks.PostcopyGuestLost}]",
            truncation?.Offset ?? _reader.Source.Position, ErrorLayer.Libxc, truncation?.RecordIndex ?? -1, truncation?.RecordType, truncation?.Field, truncated: true, inner: truncation,
            check: RestoreChecks.PostcopyGuestLost);
    }
}
