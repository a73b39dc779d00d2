namespace Kaitai;

/// <summary>
/// The base of every generated parser class. Same shape as KaitaiStruct in KaitaiStruct.Runtime.CSharp:
/// a protected <c>m_io</c> that the generated <c>_read()</c> reads from, and <see cref="M_Io"/>.
/// </summary>
public abstract class KaitaiStruct
{
    /// <summary>The stream this structure is read from (named as the compiler's output expects).</summary>
    protected KaitaiStream m_io;

    /// <summary>Creates the structure over <paramref name="io"/>.</summary>
    protected KaitaiStruct(KaitaiStream io)
    {
        ArgumentNullException.ThrowIfNull(io);
        m_io = io;
    }

    /// <summary>The stream this structure was read from (<c>_io</c> in .ksy expressions).</summary>
    public KaitaiStream M_Io => m_io;
}

/// <summary>
/// A user-supplied decoder for <c>process: my_decoder(args)</c> in a .ksy. The generated code constructs it with
/// the process arguments and calls <see cref="Decode"/> on the raw bytes.
/// </summary>
public interface CustomDecoder
{
    /// <summary>Decodes <paramref name="src"/> and returns the decoded bytes.</summary>
    byte[] Decode(byte[] src);
}
