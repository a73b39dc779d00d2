using System.Text;

namespace Kaitai;

/// <summary>
/// The common ancestor of the errors a generated parser throws. The message starts with the .ksy path of the
/// element at fault (e.g. <c>/types/libxc_record/seq/1</c>).
/// </summary>
public class KaitaiStructError : Exception
{
    /// <summary>Creates an error for the .ksy element at <paramref name="srcPath"/>.</summary>
    public KaitaiStructError(string msg, string srcPath)
        : base(srcPath + ": " + msg)
    {
        SrcPath = srcPath;
    }

    /// <summary>The .ksy path of the element at fault.</summary>
    public string SrcPath { get; }
}

/// <summary>A <c>valid:</c> check failed. The message names the stream position.</summary>
public class ValidationFailedError : KaitaiStructError
{
    /// <summary>Creates a validation error at <paramref name="io"/>'s current position.</summary>
    public ValidationFailedError(string msg, KaitaiStream io, string srcPath)
        : base("at pos " + (io ?? throw new ArgumentNullException(nameof(io))).Pos + ": validation failed: " + msg, srcPath)
    {
        Io = io;
    }

    /// <summary>The stream that was being read.</summary>
    public KaitaiStream Io { get; }

    /// <summary>Formats bytes as <c>[0A 1B ...]</c>.</summary>
    protected static string ByteArrayToHex(byte[]? arr)
    {
        if (arr is null)
        {
            return "null";
        }

        var sb = new StringBuilder("[");
        for (var i = 0; i < arr.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            sb.Append(arr[i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.Append(']').ToString();
    }

    /// <summary>Formats a value for a message: bytes as hex, anything else with ToString.</summary>
    protected static string Show(object? value) => value switch
    {
        null => "null",
        byte[] bytes => ByteArrayToHex(bytes),
        _ => value.ToString() ?? string.Empty,
    };
}

/// <summary><c>valid: expected</c> (or <c>contents:</c>) failed.</summary>
public class ValidationNotEqualError : ValidationFailedError
{
    /// <summary>Bytes differ from the expected bytes.</summary>
    public ValidationNotEqualError(byte[] expected, byte[] actual, KaitaiStream io, string srcPath)
        : base("not equal, expected " + ByteArrayToHex(expected) + ", but got " + ByteArrayToHex(actual), io, srcPath)
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>A value differs from the expected value.</summary>
    public ValidationNotEqualError(object? expected, object? actual, KaitaiStream io, string srcPath)
        : base("not equal, expected " + Show(expected) + ", but got " + Show(actual), io, srcPath)
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The expected value.</summary>
    public object? Expected { get; }

    /// <summary>The value read.</summary>
    public object? Actual { get; }
}

/// <summary><c>valid: min:</c> failed.</summary>
public class ValidationLessThanError : ValidationFailedError
{
    /// <summary>Bytes sort before the minimum.</summary>
    public ValidationLessThanError(byte[] min, byte[] actual, KaitaiStream io, string srcPath)
        : base("not in range, min " + ByteArrayToHex(min) + ", but got " + ByteArrayToHex(actual), io, srcPath)
    {
        Min = min;
        Actual = actual;
    }

    /// <summary>A value is below the minimum.</summary>
    public ValidationLessThanError(object? min, object? actual, KaitaiStream io, string srcPath)
        : base("not in range, min " + Show(min) + ", but got " + Show(actual), io, srcPath)
    {
        Min = min;
        Actual = actual;
    }

    /// <summary>The minimum.</summary>
    public object? Min { get; }

    /// <summary>The value read.</summary>
    public object? Actual { get; }
}

/// <summary><c>valid: max:</c> failed.</summary>
public class ValidationGreaterThanError : ValidationFailedError
{
    /// <summary>Bytes sort after the maximum.</summary>
    public ValidationGreaterThanError(byte[] max, byte[] actual, KaitaiStream io, string srcPath)
        : base("not in range, max " + ByteArrayToHex(max) + ", but got " + ByteArrayToHex(actual), io, srcPath)
    {
        Max = max;
        Actual = actual;
    }

    /// <summary>A value is above the maximum.</summary>
    public ValidationGreaterThanError(object? max, object? actual, KaitaiStream io, string srcPath)
        : base("not in range, max " + Show(max) + ", but got " + Show(actual), io, srcPath)
    {
        Max = max;
        Actual = actual;
    }

    /// <summary>The maximum.</summary>
    public object? Max { get; }

    /// <summary>The value read.</summary>
    public object? Actual { get; }
}

/// <summary><c>valid: any-of:</c> failed.</summary>
public class ValidationNotAnyOfError : ValidationFailedError
{
    /// <summary>The value is none of the allowed ones.</summary>
    public ValidationNotAnyOfError(object? actual, KaitaiStream io, string srcPath)
        : base("not any of the list, got " + Show(actual), io, srcPath)
    {
        Actual = actual;
    }

    /// <summary>The value read.</summary>
    public object? Actual { get; }
}

/// <summary><c>valid: in-enum: true</c> failed.</summary>
public class ValidationNotInEnumError : ValidationFailedError
{
    /// <summary>The value is not a member of the field's enum.</summary>
    public ValidationNotInEnumError(object? actual, KaitaiStream io, string srcPath)
        : base("not in the enum, got " + Show(actual), io, srcPath)
    {
        Actual = actual;
    }

    /// <summary>The value read.</summary>
    public object? Actual { get; }
}

/// <summary><c>valid: expr:</c> failed.</summary>
public class ValidationExprError : ValidationFailedError
{
    /// <summary>The value does not satisfy the expression.</summary>
    public ValidationExprError(object? actual, KaitaiStream io, string srcPath)
        : base("not matching the expression, got " + Show(actual), io, srcPath)
    {
        Actual = actual;
    }

    /// <summary>The value read.</summary>
    public object? Actual { get; }
}

/// <summary>A switched default endianness (<c>meta/endian/switch-on</c>) matched no case.</summary>
public class UndecidedEndiannessError : Exception
{
    /// <summary>Creates the error with the default message.</summary>
    public UndecidedEndiannessError()
        : base("Unable to decide on endianness")
    {
    }

    /// <summary>Creates the error with <paramref name="msg"/>.</summary>
    public UndecidedEndiannessError(string msg)
        : base(msg)
    {
    }

    /// <summary>Creates the error with <paramref name="msg"/> and its cause.</summary>
    public UndecidedEndiannessError(string msg, Exception inner)
        : base(msg, inner)
    {
    }
}
