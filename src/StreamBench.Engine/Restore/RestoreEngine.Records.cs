using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using StreamBench.Domain;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Engine.Restore;

public sealed partial class RestoreEngine
{
    // ------------------------------------------------------------------ libxc: the record loop

    // restore(): the length cap first (read_record), then buffer (Remus, after the first checkpoint) or process.
    private void HandleLibxcRecord(IncomingRecord record)
    {
        if (_ops is null)
        {
            throw Fail(record, RestoreChecks.NoLibxcStream, "a libxc record before the domain header", null);
        }

        if (record.Length > LibxcWire.RecordLengthMax)
        {
            throw Fail(record, LibxcChecks.LengthMax,
                $"Record (0x{record.Type:x8}, {record.TypeName}) length 0x{record.Length:x} exceeds max (0x{LibxcWire.RecordLengthMax:x})", "body_length");
        }

        _last = record;
        var type = (LibxcRecordType)record.Type;
        if (_coloAwaitNew)
        {
            throw Fail(record, LibxlChecks.ColoStateId, $"invalid section: {record.TypeName} where the secondary waits for CHECKPOINT_NEW", "type");
        }

        if (Buffering && type is not (LibxcRecordType.End or LibxcRecordType.Checkpoint))
        {
            BufferRecord(record);
            FinishRecord(record);
            return;
        }

        ProcessLibxcRecord(record);
        FinishRecord(record);
    }

    // process_record: the common records here, the rest to the guest type's ops.
    private void ProcessLibxcRecord(IncomingRecord record)
    {
        if (Rfc && record.Type is >= (uint)PostcopyRecordType.PostcopyBegin and <= (uint)PostcopyRecordType.PostcopyComplete)
        {
            HandlePostcopyRecord(record);
            return;
        }

        switch ((LibxcRecordType)record.Type)
        {
            case LibxcRecordType.End:
                RequireEmpty(record, LibxcChecks.EndLength);
                PostcopyEnd(record);
                _libxcEnded = true;
                if (_options.Colo is { } colo && _coloResumed)
                {
                    // COLO: END is processed at once; stream_complete already ran (the guest runs): a failover.
                    DropBuffer();
                    _result.FailedOver = true;
                    colo.FailoverReason = $"the primary sent END after checkpoint {_result.CheckpointsApplied}";
                    colo.FailoverDigest = _domain!.ComputeDigest();
                    _complete = true;
                    _done = !_libxcEmbedded;
                    break;
                }

                if (Buffering)
                {
                    DropBuffer(); // Xen processes END directly; what was buffered since the last checkpoint is dropped.
                }

                StreamComplete(record);
                if (!_libxcEmbedded)
                {
                    _done = true;
                }

                break;
            case LibxcRecordType.PageData:
                HandlePageData(record);
                break;
            case LibxcRecordType.Verify:
                RequireEmpty(record, LibxcChecks.VerifyLength);
                _verify = true; // later pages are compared, not copied
                _result.VerifyMode = true;
                break;
            case LibxcRecordType.Checkpoint:
                RequireEmpty(record, LibxcChecks.CheckpointLength);
                HandleCheckpoint(record);
                break;
            case LibxcRecordType.StaticDataEnd:
                if (StreamVersion < 3)
                {
                    throw Fail(record, LibxcChecks.StaticDataEndV2, $"STATIC_DATA_END found in a v{StreamVersion} stream (it exists from v3)", "type");
                }

                RequireEmpty(record, LibxcChecks.StaticDataEndLength);
                HandleStaticDataEnd(record);
                break;
            case LibxcRecordType.Toolstack:
                throw Fail(record, LibxcChecks.Toolstack, "TOOLSTACK records are deprecated and not handled (Mandatory record 0xb (TOOLSTACK) not handled)", "type");
            case LibxcRecordType.CheckpointDirtyPfnList:
                throw Fail(record, LibxcChecks.DirtyPfnListForward,
                    "CHECKPOINT_DIRTY_PFN_LIST belongs to the COLO back channel (secondary to primary), not to the main stream", "type");
            default:
                if (_ops!.ProcessRecord(record))
                {
                    break;
                }

                if (RecordDictionary.Libxc(_options.Reader.Dialect).Find(record.Type) is { IsGuestSpecific: true } definition)
                {
                    throw Fail(record, LibxcChecks.GuestTypeMismatch,
                        $"Mandatory record 0x{record.Type:x} ({record.TypeName}) not handled: it belongs to {definition.GuestLabel} streams, this is {(_domain is Domain.Pv.PvDomain ? "a PV" : "an HVM")} one", "type");
                }

                if (Framing.IsOptional(record.Type))
                {
                    _result.IgnoredOptionalRecords++; // Ignoring optional record
                    break;
                }

                throw Fail(record, LibxcChecks.UnknownMandatory, $"Mandatory record 0x{record.Type:x} ({record.TypeName}) not handled", "type");
        }
    }

    private void RequireEmpty(IncomingRecord record, VerificationCheck check)
    {
        if (record.Length != 0)
        {
            throw Fail(record, check, $"{record.TypeName} has a {record.Length}-byte body, expected none", "body_length");
        }
    }

    // handle_checkpoint.
    private void HandleCheckpoint(IncomingRecord record)
    {
        if (_options.Checkpoints == CheckpointMode.Plain)
        {
            throw Fail(record, LibxcChecks.CheckpointInPlainStream, "Found checkpoint in non-checkpointed stream", "type");
        }

        _result.Checkpointed = true;
        if (_options.Colo is not null && !_libxcEmbedded)
        {
            throw Fail(record, RestoreChecks.ColoLibxl, "a COLO stream needs the libxl layer (CHECKPOINT_END and CHECKPOINT_STATE are libxl records)", "type");
        }

        if (_libxcEmbedded)
        {
            _awaitCheckpointEnd = true; // libxl reads the checkpoint's own records up to CHECKPOINT_END first
        }
        else
        {
            CompleteCheckpoint();
        }
    }

    // handle_static_data_end: once; applies the CPU policy (static_data_complete).
    private void HandleStaticDataEnd(IncomingRecord record)
    {
        if (_seenStaticDataEnd)
        {
            throw Fail(record, LibxcChecks.StaticDataEndDuplicate, "Multiple STATIC_DATA_END records found", "type");
        }

        _seenStaticDataEnd = true;
        _ops!.StaticDataComplete();
    }

    /// <summary>v2 compat: the first PAGE_DATA / P2M_FRAMES stands for STATIC_DATA_END; v3 requires it before them.</summary>
    internal void InferOrRequireStaticDataEnd(IncomingRecord record, VerificationCheck check)
    {
        if (StreamVersion < 3 && !_seenStaticDataEnd)
        {
            HandleStaticDataEnd(record);
        }

        if (!_seenStaticDataEnd)
        {
            throw Fail(record, check, "No STATIC_DATA_END seen", "type");
        }
    }

    // ------------------------------------------------------------------ PAGE_DATA

    // handle_page_data + process_page_data, in Xen's three steps: validate the header and every pfn word, populate the
    // batch (each pfn once) and record the types, then stream each page of data into its guest page (or compare it,
    // after VERIFY).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void HandlePageData(IncomingRecord record, bool postcopy = false)
    {
        InferOrRequireStaticDataEnd(record, LibxcChecks.PageDataNoStaticDataEnd);
        uint count = ReadPageDataHeader(record);
        ulong[] words = ReadWords(record, count);
        HashSet<ulong>? batch = postcopy ? [] : null;
        long dataPages = ValidatePageWords(record, words, count, batch);
        GuestDomain domain = _domain!;
        PopulatePageData(record, domain, words, count);
        ApplyPageData(record, domain, words, count);
        if (_streamingDigest is not null && !_verify && !postcopy)
        {
            StreamPages(words, count);
        }

        _result.PageDataRecords++;
        _result.Pfns += count;
        _result.DataPages += dataPages;
        if (postcopy)
        {
            foreach (ulong pfn in batch!)
            {
                _postcopy.PageArrived(pfn);
            }
        }
    }

    // The header: the record is long enough for it and its pfn words, reserved is 0, count is not 0.
    private uint ReadPageDataHeader(IncomingRecord record)
    {
        if (record.Length <= LibxcBodySizes.PageDataHeader)
        {
            throw Fail(record, LibxcChecks.PageDataTooShort,
                $"PAGE_DATA record truncated: length {record.Length}, at least {LibxcBodySizes.PageDataHeader + LibxcBodySizes.PfnWord} needed for one pfn", "body_length");
        }

        Span<byte> header = stackalloc byte[LibxcBodySizes.PageDataHeader];
        record.ReadExact(header);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint reserved = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (reserved != 0 && CheckReserved)
        {
            throw Fail(record, LibxcChecks.PageDataReserved, $"reserved field is 0x{reserved:x}, expected 0", "reserved", record.At(4));
        }

        if (count == 0)
        {
            throw Fail(record, LibxcChecks.PageDataLength, "Expected at least 1 pfn in PAGE_DATA record (count is 0)", "count", record.At(0));
        }

        long wordBytes = (long)count * LibxcBodySizes.PfnWord;
        if (record.Length < LibxcBodySizes.PageDataHeader + wordBytes)
        {
            throw Fail(record, LibxcChecks.PageDataPfnWords,
                $"PAGE_DATA record (length {record.Length}) too short to contain {count} pfns worth of information", "count", record.At(0));
        }

        return count;
    }

    // Every pfn word (reserved bits, range, type; post-copy's batch rules), then the length their data pages need.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long ValidatePageWords(IncomingRecord record, ulong[] words, uint count, HashSet<ulong>? batch)
    {
        long wordBytes = (long)count * LibxcBodySizes.PfnWord;
        long dataPages = 0;
        for (int i = 0; i < (int)count; i++)
        {
            ulong word = words[i];
            ulong pfn = PageWord.PfnOf(word);
            WirePageType type = PageWord.TypeOf(word);
            long at = record.At(PageDataOffsetOfWord(i));
            if (batch is not null)
            {
                CheckPostcopyPage(record, pfn, type, i, at, batch);
            }

            if ((word & PageWord.ReservedMask) != 0 && CheckReserved)
            {
                throw Fail(record, LibxcChecks.PageDataPfnReserved, $"pfn word 0x{word:x16} has reserved bits 52..59 set", $"pfn[{i}]", at);
            }

            if (!_ops!.PfnIsValid(pfn))
            {
                throw Fail(record, LibxcChecks.PageDataPfnRange, $"pfn 0x{pfn:x} (index {i}) outside domain maximum (max_pfn 0x{_ops.MaxPfn:x})", $"pfn[{i}]", at);
            }

            if (!PageWord.IsValidType(type))
            {
                throw Fail(record, LibxcChecks.PageDataPfnType, $"Unknown type 0x{(byte)type:x} for pfn 0x{pfn:x} (index {i})", $"pfn[{i}]", at);
            }

            if (PageWord.HasData(type))
            {
                dataPages++;
            }
        }

        long expected = LibxcBodySizes.PageDataHeader + wordBytes + (dataPages * LibxcWire.PageSize);
        if (record.Length != expected)
        {
            throw Fail(record, LibxcChecks.PageDataLength,
                $"PAGE_DATA record wrong size: length {record.Length}, expected {LibxcBodySizes.PageDataHeader} + {wordBytes} + {dataPages * LibxcWire.PageSize}", "body_length");
        }

        return dataPages;
    }

    // populate_pfns, then each pfn's type (the guest's ops: PV page-table types).
    private void PopulatePageData(IncomingRecord record, GuestDomain domain, ulong[] words, uint count)
    {
        // populate_pfns: every pfn whose type populates, once (duplicates in a batch are tolerated).
        for (int i = 0; i < (int)count; i++)
        {
            WirePageType type = PageWord.TypeOf(words[i]);
            ulong pfn = PageWord.PfnOf(words[i]);
            if (PageWord.IsPopulated(type) && !domain.IsPopulated(pfn))
            {
                try
                {
                    domain.Populate(pfn);
                }
                catch (DomainException e)
                {
                    throw Fail(record, RestoreChecks.Populate, $"Failed to populate pfn 0x{pfn:x} (index {i}): {e.Message}", $"pfn[{i}]", record.At(PageDataOffsetOfWord(i)));
                }
            }
        }

        for (int i = 0; i < (int)count; i++)
        {
            _ops!.SetPageType(record, PageWord.PfnOf(words[i]), PageWord.TypeOf(words[i]), i);
        }
    }

    // process_page_data: each page of data into its guest page, or compared with it after VERIFY.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyPageData(IncomingRecord record, GuestDomain domain, ulong[] words, uint count)
    {
        for (int i = 0; i < (int)count; i++)
        {
            WirePageType type = PageWord.TypeOf(words[i]);
            if (!PageWord.HasData(type))
            {
                continue;
            }

            ulong pfn = PageWord.PfnOf(words[i]);
            if (!_verify && TryWriteInPlace(record, domain, pfn, type, i))
            {
                continue;
            }

            Span<byte> page = _verify || !domain.IsPopulated(pfn) ? _scratch : WritablePage(record, domain, pfn, i);
            record.ReadExact(page);
            if (_ops!.Localises(type))
            {
                _ops.LocalisePage(record, pfn, type, page, i);
            }

            if (_verify)
            {
                // Verify mode: compare the incoming data with what is already there.
                _result.VerifiedPages++;
                if (!domain.IsPopulated(pfn) || !page.SequenceEqual(domain.ReadPage(pfn)))
                {
                    if (_result.VerifyMismatchCount++ < _options.MaxVerifyMismatchesKept)
                    {
                        _result.MismatchList.Add(pfn);
                    }
                }
            }
            else if (!page.ContainsAnyExcept((byte)0))
            {
                domain.ClearPage(pfn); // a zero page needs no buffer
            }
        }
    }

    // The batch's pfns to the digest hashed ahead (StreamingDigest), which checks their order itself.
    private void StreamPages(ulong[] words, uint count)
    {
        if (_streamPfns.Length < count)
        {
            _streamPfns = new ulong[Math.Max(count, 2 * (uint)_streamPfns.Length)];
        }

        for (int i = 0; i < (int)count; i++)
        {
            _streamPfns[i] = PageWord.PfnOf(words[i]);
        }

        _streamingDigest!.PagesApplied(_streamPfns.AsSpan(0, (int)count));
    }

    // A page that needs no localisation, whole in the reader's window: written straight from there (WritePage: an
    // all-zero page releases the buffer without being copied into one first, as half of a typical save's pages are).
    // False when the bytes are not at hand in one piece; ApplyPageData then reads them as before.
    private bool TryWriteInPlace(IncomingRecord record, GuestDomain domain, ulong pfn, WirePageType type, int index)
    {
        if (_ops!.Localises(type) || !domain.IsPopulated(pfn))
        {
            return false;
        }

        ReadOnlySpan<byte> data = record.Peek(LibxcWire.PageSize);
        if (data.IsEmpty)
        {
            return false;
        }

        try
        {
            domain.WritePage(pfn, data);
        }
        catch (DomainException e)
        {
            throw Fail(record, RestoreChecks.PageType, $"pfn 0x{pfn:x} (index {index}): {e.Message}", $"pfn[{index}]", record.At(PageDataOffsetOfWord(index)));
        }

        record.Skip(LibxcWire.PageSize);
        return true;
    }

    // A page of data for a pfn the batch also marked BROKEN (a later word wins the type) cannot be written.
    private Span<byte> WritablePage(IncomingRecord record, GuestDomain domain, ulong pfn, int index)
    {
        try
        {
            return domain.GetWritablePage(pfn);
        }
        catch (DomainException e)
        {
            throw Fail(record, RestoreChecks.PageType, $"pfn 0x{pfn:x} (index {index}): {e.Message}", $"pfn[{index}]", record.At(PageDataOffsetOfWord(index)));
        }
    }

    private static long PageDataOffsetOfWord(int index) => LibxcBodySizes.PageDataHeader + (8L * index);

    // The pfn words, read in chunks; a huge count allocates only as its bytes actually arrive.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ulong[] ReadWords(IncomingRecord record, uint count)
    {
        ulong[] words = count <= (uint)_words.Length ? _words : new ulong[Math.Min(count, 1u << 16)];
        int filled = 0;
        while (filled < (int)count)
        {
            if (filled == words.Length)
            {
                Array.Resize(ref words, (int)Math.Min(count, (uint)words.Length * 2));
            }

            int take = Math.Min(words.Length, (int)count) - filled;
            Span<ulong> chunk = words.AsSpan(filled, take);
            record.ReadExact(AsBytes(chunk));
            FixEndianness(chunk);
            filled += take;
        }

        return words;
    }

    // ------------------------------------------------------------------ libxl records

    // libxl_stream_read.c process_record, with the verifier's restore-profile checks.
    private void HandleLibxlRecord(IncomingRecord record)
    {
        _last = record;
        var type = (LibxlRecordType)record.Type;
        LibxlRecordType previous = _previousLibxlType;
        _previousLibxlType = type;
        if (Rfc && record.Type == (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd)
        {
            RequireEmpty(record, LibxlChecks.PostcopyTransitionEndLength);
            FinishRecord(record);
            PostcopyTransitionEnd(record);
            return;
        }

        if (_coloAwaitNew && type != LibxlRecordType.CheckpointState)
        {
            throw Fail(record, LibxlChecks.ColoStateId, $"invalid section: {record.TypeName} where the secondary waits for CHECKPOINT_NEW", "type");
        }

        if (_awaitCheckpointEnd && type is not (LibxlRecordType.EmulatorXenstoreData or LibxlRecordType.EmulatorContext or LibxlRecordType.CheckpointEnd))
        {
            throw Fail(record, LibxlChecks.TailRecord,
                $"{record.TypeName} inside a checkpoint's libxl records (only EMULATOR_* and CHECKPOINT_END belong there)", "type");
        }

        switch (type)
        {
            case LibxlRecordType.End:
                RequireEmpty(record, LibxlChecks.EndLength);
                if (!_libxcEnded)
                {
                    throw Fail(record, RestoreChecks.NoLibxcStream, "libxl END before the libxc stream ended: there is no guest to restore", "type");
                }

                FinishRecord(record);
                _done = true;
                return;
            case LibxlRecordType.LibxcContext:
                RequireEmpty(record, LibxlChecks.LibxcContextLength);
                if (_libxcSeen)
                {
                    throw Fail(record, RestoreChecks.SecondLibxcStream, "a second LIBXC_CONTEXT: the libxc stream was already restored", "type");
                }

                break;
            case LibxlRecordType.EmulatorXenstoreData:
                CheckEmulatorRecord(record, LibxlChecks.XenstoreTooShort, LibxlChecks.XenstoreEmulator);
                CheckXenstoreData(record);
                BufferOrApplyLibxl(record);
                break;
            case LibxlRecordType.EmulatorContext:
                CheckEmulatorRecord(record, LibxlChecks.EmulatorContextTooShort, LibxlChecks.EmulatorContextEmulator);
                BufferOrApplyLibxl(record);
                break;
            case LibxlRecordType.CheckpointEnd:
                RequireEmpty(record, LibxlChecks.CheckpointEndLength);
                if (!_awaitCheckpointEnd)
                {
                    throw Fail(record, LibxlChecks.CheckpointEndUnexpected, "Unexpected CHECKPOINT_END (no libxc CHECKPOINT before it)", "type");
                }

                _awaitCheckpointEnd = false;
                FinishRecord(record);
                CompleteCheckpoint();
                ColoCheckpointComplete(record);
                return;
            case LibxlRecordType.CheckpointState:
                if (record.Length == 0)
                {
                    throw Fail(record, LibxlChecks.CheckpointStateEmpty, "CHECKPOINT_STATE has an empty body", "body_length");
                }

                if (record.Length < LibxlWire.CheckpointStateSize)
                {
                    throw Fail(record, LibxlChecks.CheckpointStateTooShort, $"CHECKPOINT_STATE is {record.Length} bytes, the control_id needs {LibxlWire.CheckpointStateSize}", "body_length");
                }

                if (!_options.Reader.Colo || previous != LibxlRecordType.CheckpointEnd)
                {
                    throw Fail(record, LibxlChecks.CheckpointStateUnexpected, "Unexpected CHECKPOINT_STATE: it belongs to the COLO back channel", "type");
                }

                // A COLO main stream: CHECKPOINT_NEW right after CHECKPOINT_END (libxl_colo_restore.c's wait_checkpoint).
                uint id = BinaryPrimitives.ReadUInt32LittleEndian(record.Body);
                if (id != (uint)CheckpointControlId.CheckpointNew)
                {
                    throw Fail(record, LibxlChecks.ColoStateId, $"invalid section: {id}, expected: {(uint)CheckpointControlId.CheckpointNew} (CHECKPOINT_NEW)", "control_id", record.At(0));
                }

                _result.ColoCheckpointNewRecords++;
                FinishRecord(record);
                ColoCheckpointNew();
                return;
            default:
                throw Fail(record, LibxlChecks.UnknownType, $"Unrecognised record 0x{record.Type:x}", "type");
        }

        FinishRecord(record);
    }

    private void CheckEmulatorRecord(IncomingRecord record, VerificationCheck tooShort, VerificationCheck emulatorId)
    {
        if (record.Length < LibxlWire.EmulatorSubHeaderSize)
        {
            throw Fail(record, tooShort, $"{record.TypeName} is {record.Length} bytes, shorter than the {LibxlWire.EmulatorSubHeaderSize}-byte emulator sub-header", "body_length");
        }

        uint id = BinaryPrimitives.ReadUInt32LittleEndian(record.Body);
        if (id > (uint)EmulatorId.QemuUpstream)
        {
            throw Fail(record, emulatorId, $"emulator_id is {id}, expected 0, 1 or 2", "emulator_id", record.At(0));
        }

        if (_domain is Domain.Pv.PvDomain)
        {
            throw Fail(record, LibxlChecks.EmulatorNotHvm, $"{record.TypeName} when none was expected (a PV guest has no device model)", "type");
        }
    }

    // Pairs of NUL-terminated strings, keys relative to the device model's xenstore directory.
    private void CheckXenstoreData(IncomingRecord record)
    {
        ReadOnlySpan<byte> data = record.Body[LibxlWire.EmulatorSubHeaderSize..];
        if (data.IsEmpty)
        {
            return;
        }

        if (data[^1] != 0)
        {
            throw Fail(record, LibxlChecks.XenstoreFraming, "xenstore data is not NUL terminated", "data", record.At(record.Length - 1));
        }

        string[] parts = Encoding.UTF8.GetString(data[..^1]).Split('\0');
        if (parts.Length % 2 != 0)
        {
            throw Fail(record, LibxlChecks.XenstoreFraming, $"xenstore data holds {parts.Length} strings, expected key/value pairs", "data", record.At(LibxlWire.EmulatorSubHeaderSize));
        }

        for (int i = 0; i < parts.Length; i += 2)
        {
            if (parts[i].Length == 0 || parts[i][0] == '/')
            {
                throw Fail(record, LibxlChecks.XenstoreKey, $"xenstore key '{parts[i]}' is empty or absolute", "data", record.At(LibxlWire.EmulatorSubHeaderSize));
            }
        }
    }

    private void BufferOrApplyLibxl(IncomingRecord record)
    {
        if (Buffering && _awaitCheckpointEnd)
        {
            BufferRecord(record); // libxl's BUFFERING phase: applied at CHECKPOINT_END
            return;
        }

        ApplyLibxlRecord(record);
    }

    private void ApplyLibxlRecord(IncomingRecord record)
    {
        ReadOnlySpan<byte> body = record.Body;
        if ((LibxlRecordType)record.Type == LibxlRecordType.EmulatorContext)
        {
            _pendingEmulatorContext = body[LibxlWire.EmulatorSubHeaderSize..].ToArray();
            if (_complete)
            {
                _result.EmulatorContext = _pendingEmulatorContext;
            }
        }
        else
        {
            string[] parts = Encoding.UTF8.GetString(body[LibxlWire.EmulatorSubHeaderSize..]).TrimEnd('\0').Split('\0');
            for (int i = 0; i + 1 < parts.Length; i += 2)
            {
                _result.XenstoreMap[parts[i]] = parts[i + 1];
            }
        }
    }
}
