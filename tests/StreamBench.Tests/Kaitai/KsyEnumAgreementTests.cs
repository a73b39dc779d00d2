using System.Reflection;
using Kaitai;
using StreamBench.Formats.Wire;
using Xunit;
using StreamBench.X86;

namespace StreamBench.Tests.Kaitai;

/// <summary>
/// The .ksy enums (read from ksy/ at test time) and the C# wire enums in StreamBench.Formats.Wire agree value by
/// value and name by name, and so do the enums of the generated parsers. The ksy name maps to the C# name
/// mechanically: snake_case parts capitalised (<c>x86_pv_info</c> → <c>X86PvInfo</c>, <c>l1_tab_pinned</c> →
/// <c>L1TabPinned</c>). For [Flags] enums only the single-bit members are wire values (None and masks such as
/// Known are not).
/// </summary>
public class KsyEnumAgreementTests
{
    /// <summary>Every ksy enum with a C# counterpart: (file, enum, C# type).</summary>
    public static TheoryData<string, string, Type> Pairs => new()
    {
        { "libxc_stream.ksy", "libxc_record_type", typeof(LibxcRecordType) },
        { "libxc_stream.ksy", "page_type", typeof(PageType) },
        { "libxc_stream.ksy", "domain_type", typeof(DomainType) },
        { "libxc_stream.ksy", "image_option_bits", typeof(LibxcImageOptions) },
        { "libxc_stream.ksy", "hvm_save_code", typeof(HvmSaveType) },
        { "libxc_stream.ksy", "hvm_param", typeof(HvmParam) },
        { "libxl_stream.ksy", "libxl_record_type", typeof(LibxlRecordType) },
        { "libxl_stream.ksy", "libxl_option_bits", typeof(LibxlOptions) },
        { "libxl_stream.ksy", "emulator_id", typeof(EmulatorId) },
        { "libxl_stream.ksy", "checkpoint_control_id", typeof(CheckpointControlId) },
        { "postcopy_rfc.ksy", "postcopy_record_type", typeof(PostcopyRecordType) },
        { "postcopy_rfc.ksy", "libxl_postcopy_record_type", typeof(LibxlPostcopyRecordType) },
        { "legacy_stream.ksy", "legacy_chunk_id", typeof(LegacyChunkId) },
        { "xl_save_file.ksy", "xl_mandatory_flags", typeof(XlMandatoryFlags) },
    };

    /// <summary>ksy enums with no C# wire enum, and why.</summary>
    private static readonly Dictionary<(string File, string Enum), string> KsyOnly = new()
    {
        [("libxc_stream.ksy", "tsc_mode")] = "X86_TSC_INFO mode (Xen's TSC_MODE_*); StreamBench.Formats.Wire has no enum for it yet",
        [("legacy_stream.ksy", "guest_type")] = "a parser parameter (convert-legacy-stream -g), not a value on the wire",
    };

    /// <summary>C# wire enums with no ksy enum, and why.</summary>
    private static readonly Dictionary<Type, string> WireOnly = new()
    {
        [typeof(StreamDialect)] = "chooses the record dictionary; it is not a value on the wire",
        [typeof(GuestKinds)] = "the record dictionary's guest kinds that may carry a record; not a value on the wire",
        [typeof(RecordBodyShape)] = "the record dictionary's body shapes (decoder and describer); not a value on the wire",
    };

    private static readonly string[] KsyFiles = ["legacy_stream.ksy", "libxc_stream.ksy", "libxl_stream.ksy", "postcopy_rfc.ksy", "xl_save_file.ksy"];

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Ksy_enum_matches_the_wire_enum(string file, string ksyEnum, Type wireEnum)
    {
        var enums = KsyEnumReader.ReadFile(file);
        Assert.True(enums.ContainsKey(ksyEnum), $"{file} has no enum {ksyEnum}");
        var fromKsy = enums[ksyEnum].Select(v => $"{KsyEnumReader.PascalCase(v.Id)} = {v.Value}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(WireMembers(wireEnum), fromKsy);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Generated_enum_matches_the_wire_enum(string file, string ksyEnum, Type wireEnum)
    {
        var generated = GeneratedEnum(file, ksyEnum);
        var members = Enum.GetNames(generated)
            .Select(n => $"{n} = {Convert.ToInt64(Enum.Parse(generated, n), System.Globalization.CultureInfo.InvariantCulture)}")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(WireMembers(wireEnum), members);
    }

    [Fact]
    public void Every_wire_enum_has_a_ksy_enum()
    {
        var paired = Pairs.Select(row => (Type)row[2]).ToHashSet();
        var missing = typeof(LibxcRecordType).Assembly.GetExportedTypes()
            .Where(t => t.IsEnum && t.Namespace == typeof(LibxcRecordType).Namespace)
            .Where(t => !paired.Contains(t) && !WireOnly.ContainsKey(t))
            .Select(t => t.Name)
            .ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_ksy_enum_has_a_wire_enum()
    {
        var paired = Pairs.Select(row => ((string)row[0], (string)row[1])).ToHashSet();
        var missing = KsyFiles
            .SelectMany(f => KsyEnumReader.ReadFile(f).Keys.Select(e => (File: f, Enum: e)))
            .Where(k => !paired.Contains(k) && !KsyOnly.ContainsKey(k))
            .Select(k => $"{k.File}:{k.Enum}")
            .ToList();
        Assert.Empty(missing);
        Assert.Equal(
            KsyFiles.Order(StringComparer.Ordinal),
            Directory.GetFiles(KsyEnumReader.KsyDirectory(), "*.ksy").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Postcopy_rfc_types_live_in_their_own_enum_though_their_numbers_collide_with_v3()
    {
        var upstream = KsyEnumReader.ReadFile("libxc_stream.ksy")["libxc_record_type"].ToDictionary(v => v.Value, v => v.Id);
        var rfcFile = KsyEnumReader.ReadFile("postcopy_rfc.ksy");
        Assert.False(rfcFile.ContainsKey("libxc_record_type"));
        var rfc = rfcFile["postcopy_record_type"].ToDictionary(v => v.Value, v => v.Id);

        Assert.Equal("static_data_end", upstream[0x10]);
        Assert.Equal("postcopy_begin", rfc[0x10]);
        Assert.Equal("x86_cpuid_policy", upstream[0x11]);
        Assert.Equal("postcopy_pfns_begin", rfc[0x11]);
        Assert.Equal("x86_msr_policy", upstream[0x12]);
        Assert.Equal("postcopy_pfns", rfc[0x12]);
        Assert.All(rfc.Keys, k => Assert.InRange(k, 0x10, 0x16));
    }

    [Fact]
    public void Enum_reader_understands_both_value_forms_and_rejects_what_it_cannot_read()
    {
        const string ksy = """
            meta:
              id: x
            enums:
              first:
                0x0a: ten   # comment
                -2:
                  id: minus_two
                  doc: |
                    id: not_this
                  -orig-id: X_MINUS_TWO
                '3': three
              second:
                1: "one"
            types: {}
            """;
        var enums = KsyEnumReader.Read(ksy);
        Assert.Equal([new KsyEnumValue(10, "ten"), new KsyEnumValue(-2, "minus_two"), new KsyEnumValue(3, "three")], enums["first"]);
        Assert.Equal([new KsyEnumValue(1, "one")], enums["second"]);
        Assert.Equal("X86PvInfo", KsyEnumReader.PascalCase("x86_pv_info"));
        Assert.Equal("L1TabPinned", KsyEnumReader.PascalCase("l1_tab_pinned"));

        Assert.Throws<FormatException>(() => KsyEnumReader.Read("enums:\n  e:\n    1:\n      doc: no id\n"));
        Assert.Throws<FormatException>(() => KsyEnumReader.Read("enums:\n  e:\n    one: x\n"));
        Assert.Throws<FormatException>(() => KsyEnumReader.Read("enums:\n  e:\n    1: a\n    1: b\n"));
    }

    private static List<string> WireMembers(Type wireEnum)
    {
        var isFlags = wireEnum.GetCustomAttribute<FlagsAttribute>() is not null;
        return Enum.GetNames(wireEnum)
            .Select(n => (Name: n, Value: ToInt64(Enum.Parse(wireEnum, n))))
            .Where(m => !isFlags || (m.Value > 0 && (m.Value & (m.Value - 1)) == 0))
            .Select(m => $"{m.Name} = {m.Value}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static long ToInt64(object enumValue) => Type.GetTypeCode(Enum.GetUnderlyingType(enumValue.GetType())) switch
    {
        TypeCode.UInt64 => checked((long)Convert.ToUInt64(enumValue, System.Globalization.CultureInfo.InvariantCulture)),
        _ => Convert.ToInt64(enumValue, System.Globalization.CultureInfo.InvariantCulture),
    };

    private static Type GeneratedEnum(string file, string ksyEnum)
    {
        var className = $"{typeof(KaitaiStruct).Namespace}.{KsyEnumReader.PascalCase(Path.GetFileNameWithoutExtension(file))}";
        var parser = typeof(LibxcStream).Assembly.GetType(className)
            ?? throw new InvalidOperationException($"no generated class {className} for {file}");
        return parser.GetNestedType(KsyEnumReader.PascalCase(ksyEnum))
            ?? throw new InvalidOperationException($"{className} has no enum {KsyEnumReader.PascalCase(ksyEnum)}");
    }
}
