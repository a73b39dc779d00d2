namespace StreamBench.Fuzz.Smoke.Toy;

/// <summary>One record of a toy document.</summary>
internal readonly record struct ToyRecord(byte Tag, int Length, int Value);

/// <summary>
/// A toy length-prefixed format, the smoke target's parser:
/// <code>
/// "SBFZ"  magic, checked one byte at a time (so coverage can lead afl-fuzz to it byte by byte)
/// u8      version, 1 or 2
/// u8      record count
/// record* u8 tag ('A', 'B', 'C', or 'X' in version 2), u8 length, length bytes of payload
/// </code>
/// Everything malformed throws <see cref="ToyFormatException"/>. It has one planted bug: the bound check for
/// 'X' records is off by one, so an 'X' record of length 33 overruns the 32-byte scratch buffer and throws
/// <see cref="ArgumentException"/> — reachable only with the magic, version 2, tag 'X' and that exact length.
/// </summary>
internal static class ToyParser
{
    private const int MaxExtended = 32;

    public static List<ToyRecord> Parse(Stream input)
    {
        if (Next(input) != 'S')
        {
            throw new ToyFormatException("bad magic byte 0");
        }
        if (Next(input) != 'B')
        {
            throw new ToyFormatException("bad magic byte 1");
        }
        if (Next(input) != 'F')
        {
            throw new ToyFormatException("bad magic byte 2");
        }
        if (Next(input) != 'Z')
        {
            throw new ToyFormatException("bad magic byte 3");
        }
        var version = Next(input);
        if (version is not (1 or 2))
        {
            throw new ToyFormatException($"unsupported version {version}");
        }
        var count = Next(input);
        var records = new List<ToyRecord>(count);
        Span<byte> payload = stackalloc byte[255];
        var scratch = new byte[MaxExtended];
        for (var i = 0; i < count; i++)
        {
            var tag = Next(input);
            var length = Next(input);
            switch (tag)
            {
                case (byte)'A':
                    {
                        var p = Payload(input, payload, length);
                        var sum = 0;
                        foreach (var b in p)
                        {
                            sum += b;
                        }
                        records.Add(new ToyRecord(tag, length, sum % 7 == 3 ? -sum : sum));
                        break;
                    }
                case (byte)'B':
                    {
                        var p = Payload(input, payload, length);
                        if (p.Length < 2)
                        {
                            throw new ToyFormatException("B record shorter than 2");
                        }
                        records.Add(new ToyRecord(tag, length, p[0] == p[1] ? p[0] : p[0] - p[1]));
                        break;
                    }
                case (byte)'C':
                    {
                        var p = Payload(input, payload, length);
                        var zeros = 0;
                        foreach (var b in p)
                        {
                            if (b == 0)
                            {
                                zeros++;
                            }
                        }
                        records.Add(new ToyRecord(tag, length, zeros));
                        break;
                    }
                case (byte)'X':
                    {
                        if (version != 2)
                        {
                            throw new ToyFormatException("X records need version 2");
                        }
                        // PLANTED BUG: should be `length > MaxExtended`.
                        if (length > MaxExtended + 1)
                        {
                            throw new ToyFormatException($"X record too long: {length}");
                        }
                        if (input.Length - input.Position < length)
                        {
                            throw new ToyFormatException("truncated X record");
                        }
                        input.ReadExactly(scratch, 0, length);
                        records.Add(new ToyRecord(tag, length, scratch[0]));
                        break;
                    }
                default:
                    throw new ToyFormatException($"unknown record tag {tag}");
            }
        }
        return records;
    }

    private static byte Next(Stream input)
    {
        var b = input.ReadByte();
        return b < 0 ? throw new ToyFormatException("truncated") : (byte)b;
    }

    private static Span<byte> Payload(Stream input, Span<byte> buffer, int length)
    {
        var p = buffer[..length];
        if (input.Read(p) != length)
        {
            throw new ToyFormatException("truncated payload");
        }
        return p;
    }
}
