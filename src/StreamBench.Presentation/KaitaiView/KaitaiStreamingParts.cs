// Hand-written halves of two generated parsers (the generated halves are in ../Generated): what the streaming
// `dump --kaitai` (KaitaiStreamingDump) needs to read a container's head without its record list. Each mirrors the
// first statements of the generated _read(); KaitaiStreamingDumpTests checks the streaming tree against the eager
// one on every corpus stream, so a change to ksy/ that these lines do not follow fails there.
namespace Kaitai;

/// <summary>Selects the head-only constructors below (so they cannot collide with the generated ones).</summary>
internal enum StreamingHead
{
    /// <summary>Read the head, not the record list.</summary>
    Only,
}

public partial class XlSaveFile
{
    /// <summary>The xl header and optional data only (the generated _read() up to the libxl stream); Libxl, LegacyPayload and Trailer stay null.</summary>
    internal XlSaveFile(StreamingHead head, KaitaiStream p__io) : base(p__io)
    {
        _ = head;
        m_root = this;
        _magic = m_io.ReadBytes(32);
        byte[] magic = [88, 101, 110, 32, 115, 97, 118, 101, 100, 32, 100, 111, 109, 97, 105, 110, 44, 32, 120, 108, 32, 102, 111, 114, 109, 97, 116, 10, 32, 0, 32, 13];
        if (KaitaiStream.ByteArrayCompare(_magic, magic) != 0)
        {
            throw new ValidationNotEqualError(magic, _magic, m_io, "/seq/0");
        }
        _byteOrder = m_io.ReadU4le();
        _mandatoryFlags = m_io.ReadU4le();
        _optionalFlags = m_io.ReadU4le();
        _optionalDataLen = m_io.ReadU4le();
        __raw_optionalData = m_io.ReadBytes(OptionalDataLen);
        _optionalData = new ConfigData(new KaitaiStream(__raw_optionalData), this, m_root);
    }
}

public partial class LibxcStream
{
    public partial class LibxcSegment
    {
        /// <summary>The image and domain headers only (when <paramref name="withHeaders"/>); the records are read by the caller, one at a time.</summary>
        internal LibxcSegment(StreamingHead head, bool withHeaders, KaitaiStream p__io) : base(p__io)
        {
            _ = head;
            _withHeaders = withHeaders;
            if (WithHeaders)
            {
                _imageHeader = new Ihdr(m_io, this, m_root);
                _domainHeader = new Dhdr(m_io, this, m_root);
            }
        }

        /// <summary>
        /// Gives the segment its last record, so that the generated instances that look at <c>records.last</c>
        /// (EndsWithCheckpoint) work; <see cref="Records"/> then holds that one record, not the whole list.
        /// </summary>
        internal void SetLastRecord(LibxcRecord last) => _records = [last];
    }
}
