using System.Buffers.Binary;

namespace StreamBench.Fuzz.Tests.CmpSamples;

/// <summary>Sample code for the comparison-feedback tests: multi-byte magic comparisons (a branch and a ceq)
/// and nested one-byte comparisons.</summary>
public static class Magic
{
    public static int Check4(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) == 0x54381286u)
        {
            return 1;
        }
        return 0;
    }

    public static bool Check8(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Length >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(data) == 0x1122334455667788UL;
    }

    public static bool CheckBytes(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Length >= 3 && data[1] == 0x5a && data[2] == 0x7e;
    }
}
