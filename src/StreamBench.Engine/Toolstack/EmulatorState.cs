using System.Buffers.Binary;
using System.Text;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Toolstack;

/// <summary>
/// The device model's saved state that libxl carries in EMULATOR_CONTEXT (FORMATS.md 2.3): for qemu-upstream a
/// QEMU savevm image starting with "QEVM" v3. The simulated HVM guest has no real device model, so the saver
/// sends a small deterministic image (magic, version, the machine configuration section, EOF) that names the
/// machine and the vCPU count; the restore keeps whatever blob arrives and hands it back in its result.
/// </summary>
public static class EmulatorState
{
    /// <summary>QEMU_VM_FILE_MAGIC, "QEVM" read big-endian.</summary>
    public const uint QemuVmMagic = 0x5145_564D;

    /// <summary>QEMU_VM_FILE_VERSION.</summary>
    public const uint QemuVmVersion = 3;

    private const byte SectionConfiguration = 0x07;
    private const byte SectionEof = 0x00;

    /// <summary>The emulator sub-header's emulator_id the saver writes (qemu-upstream).</summary>
    public const EmulatorId Emulator = EmulatorId.QemuUpstream;

    /// <summary>The deterministic QEVM image for a guest with <paramref name="vcpus"/> vCPUs.</summary>
    public static byte[] CreateQemuImage(int vcpus)
    {
        byte[] machine = Encoding.ASCII.GetBytes($"xenfv;streambench;vcpus={vcpus}");
        var image = new byte[8 + 1 + 4 + machine.Length + 1];
        BinaryPrimitives.WriteUInt32BigEndian(image, QemuVmMagic);
        BinaryPrimitives.WriteUInt32BigEndian(image.AsSpan(4), QemuVmVersion);
        image[8] = SectionConfiguration;
        BinaryPrimitives.WriteUInt32BigEndian(image.AsSpan(9), (uint)machine.Length);
        machine.CopyTo(image, 13);
        image[^1] = SectionEof;
        return image;
    }

    /// <summary>The EMULATOR_CONTEXT body: emulator sub-header (id, index 0), then the image.</summary>
    public static byte[] CreateRecordBody(int vcpus) => CreateRecordBody(CreateQemuImage(vcpus));

    /// <summary>The EMULATOR_CONTEXT body for a given device model image: emulator sub-header (id, index 0), then it.</summary>
    public static byte[] CreateRecordBody(ReadOnlySpan<byte> image)
    {
        var body = new byte[LibxlWire.EmulatorSubHeaderSize + image.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)Emulator);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), 0);
        image.CopyTo(body.AsSpan(LibxlWire.EmulatorSubHeaderSize));
        return body;
    }

    /// <summary>True if <paramref name="image"/> starts like a QEMU savevm image ("QEVM", version 3).</summary>
    public static bool IsQemuImage(ReadOnlySpan<byte> image) =>
        image.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(image) == QemuVmMagic
        && BinaryPrimitives.ReadUInt32BigEndian(image[4..]) == QemuVmVersion;
}
