using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using StreamBench.X86;

namespace StreamBench.Domain.Hvm.Context;

/// <summary>Walks an HVM context blob, checking each descriptor; one check per line, each message says expected vs found.</summary>
internal static class HvmContextReader
{
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification =
        "One walk over the descriptors, as Xen's hvm_load: each branch is one check of the current entry, in order, and "
        + "the walk's state (offset, index, instances seen, stop-at-first) would otherwise be spread over several methods.")]
    public static void Read(ReadOnlySpan<byte> blob, int vcpuCount, HvmContextParseOptions options, HvmContext? into,
        List<HvmContextProblem> problems, bool stopAtFirst)
    {
        var seen = new HashSet<(ushort, ushort)>();
        int at = 0;
        int index = 0;

        bool Report(int entry, int offset, ushort type, ushort instance, string message)
        {
            problems.Add(new HvmContextProblem(entry, offset, type, instance, message));
            return stopAtFirst;
        }

        if (blob.IsEmpty)
        {
            Report(-1, 0, 0, 0, "the blob is empty (expected at least a HEADER and an END entry)");
            return;
        }

        while (true)
        {
            int remaining = blob.Length - at;
            if (remaining < HvmSaveTypes.DescriptorSize)
            {
                Report(index, at, 0, 0, remaining == 0
                    ? "save did not end with an END entry (ran out of data)"
                    : $"save did not end with an END entry ({remaining} stray byte(s), less than a descriptor)");
                return;
            }

            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(blob[at..]);
            ushort instance = BinaryPrimitives.ReadUInt16LittleEndian(blob[(at + 2)..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(blob[(at + 4)..]);
            int bodyAt = at + HvmSaveTypes.DescriptorSize;
            long available = blob.Length - bodyAt;

            if (index == 0 && type != (ushort)HvmSaveType.Header)
            {
                if (Report(index, at, type, instance, $"the first entry is {HvmSaveTypes.Name(type)}, expected HEADER"))
                {
                    return;
                }
            }

            if (type == (ushort)HvmSaveType.End)
            {
                if (length != 0 && !options.AllowNonEmptyEnd && Report(index, at, type, instance, $"END has length {length}, expected 0"))
                {
                    return;
                }

                long endOfEnd = bodyAt + (options.AllowNonEmptyEnd ? 0 : Math.Min(length, available));
                if (!options.AllowTrailingData && endOfEnd < blob.Length)
                {
                    Report(index, at, type, instance, $"{blob.Length - endOfEnd} byte(s) after the END entry (expected none)");
                }

                return;
            }

            if (length > available)
            {
                Report(index, at, type, instance, $"length {length} overruns the blob ({available} byte(s) left after the descriptor)");
                return;
            }

            ReadOnlySpan<byte> body = blob.Slice(bodyAt, (int)length);
            at = bodyAt + (int)length;
            int thisIndex = index++;

            if (type > HvmSaveTypes.MaxCode)
            {
                if (Report(thisIndex, bodyAt - HvmSaveTypes.DescriptorSize, type, instance, $"unknown typecode {type} (HVM_SAVE_CODE_MAX is {HvmSaveTypes.MaxCode})"))
                {
                    return;
                }

                continue;
            }

            var kind = (HvmSaveType)type;
            int descAt = bodyAt - HvmSaveTypes.DescriptorSize;
            if (kind == HvmSaveType.Header && thisIndex != 0)
            {
                if (Report(thisIndex, descAt, type, instance, "HEADER appears again (it must be first and only once)"))
                {
                    return;
                }

                continue;
            }

            string? lengthProblem = CheckLength(kind, body);
            if (lengthProblem is not null)
            {
                if (Report(thisIndex, descAt, type, instance, lengthProblem))
                {
                    return;
                }

                continue;
            }

            int limit = HvmSaveTypes.IsPerVcpu(kind) ? vcpuCount : HvmSaveTypes.DomainInstances(kind);
            if (instance >= limit)
            {
                string what = HvmSaveTypes.IsPerVcpu(kind) ? $"the vCPU count {vcpuCount}" : $"{limit} (instances of a per-domain record)";
                if (Report(thisIndex, descAt, type, instance, $"instance {instance} is not below {what}"))
                {
                    return;
                }

                continue;
            }

            if (!seen.Add((type, instance)) && !options.AllowDuplicates)
            {
                if (Report(thisIndex, descAt, type, instance, "duplicate entry (this type and instance appeared earlier)"))
                {
                    return;
                }

                continue;
            }

            if (kind == HvmSaveType.Header)
            {
                uint magic = BinaryPrimitives.ReadUInt32LittleEndian(body);
                uint version = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
                if (magic != HvmSaveTypes.FileMagic && Report(thisIndex, descAt, type, instance, $"bad magic 0x{magic:x8}, expected 0x{HvmSaveTypes.FileMagic:x8}"))
                {
                    return;
                }

                if (version != HvmSaveTypes.FileVersion && Report(thisIndex, descAt, type, instance, $"unsupported version {version}, expected {HvmSaveTypes.FileVersion}"))
                {
                    return;
                }
            }

            into?.SetParsed(kind, instance, HvmSaveEntryFactory.Create(kind, body.ToArray()));
        }
    }

    private static string? CheckLength(HvmSaveType kind, ReadOnlySpan<byte> body)
    {
        switch (kind)
        {
            case HvmSaveType.CpuXsave:
                return body.Length < HvmSaveTypes.CpuXsaveMinLength
                    ? $"length {body.Length} is below the minimum {HvmSaveTypes.CpuXsaveMinLength} (24-byte header + 576-byte XSAVE area)"
                    : null;
            case HvmSaveType.CpuMsr:
                if (body.Length < HvmSaveTypes.CpuMsrHeaderLength)
                {
                    return $"length {body.Length} is below the {HvmSaveTypes.CpuMsrHeaderLength}-byte header";
                }

                uint count = BinaryPrimitives.ReadUInt32LittleEndian(body);
                long expected = HvmSaveTypes.CpuMsrHeaderLength + ((long)count * HvmSaveTypes.CpuMsrEntryLength);
                return expected != body.Length ? $"count {count} needs length {expected}, found {body.Length}" : null;
            case HvmSaveType.Lapic:
                return body.Length is HvmSaveTypes.LapicLength or HvmSaveTypes.LapicLengthWithX2ApicId
                    ? null
                    : $"length {body.Length}, expected {HvmSaveTypes.LapicLength} (Xen up to 4.19) or {HvmSaveTypes.LapicLengthWithX2ApicId} (4.20: x2apic_id, rsvd_zero)";
            default:
                int fixedLength = HvmSaveTypes.FixedLength(kind);
                return body.Length != fixedLength ? $"length {body.Length}, expected {fixedLength}" : null;
        }
    }
}
