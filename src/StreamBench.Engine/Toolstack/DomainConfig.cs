using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;

namespace StreamBench.Engine.Toolstack;

/// <summary>
/// What the toolstack knows about a domain before its stream is read: guest kind, vCPUs and memory. Xen's
/// restore never learns these from the libxc stream (libxl creates the domain from its config first, and
/// <c>xl restore</c> takes the config from the save file or refuses: "Config file not specified and none in
/// save file"). The saver writes it into the xl header as libxl-style JSON; <see cref="ParseXlOptionalData"/>
/// reads that back, and also real xl's JSON or xl.cfg text.
/// </summary>
/// <param name="Type">pv, pv32, hvm or pvh. A PV restore starts 64-bit and follows X86_PV_INFO (set_address_size).</param>
/// <param name="Vcpus">max_vcpus.</param>
/// <param name="MemoryPages">Guest RAM in 4 KiB pages (PV: the p2m size; HVM: RAM excluding holes, before the VGA hole).</param>
public sealed record DomainConfig(GuestType Type, int Vcpus, ulong MemoryPages)
{
    /// <summary>The b_info key naming the memory map ("libxl" or "open"); real xl configs have none.</summary>
    public const string MemoryMapKey = "streambench_memory_map";

    /// <summary>Pages a restored domain may populate beyond <see cref="MemoryPages"/> (Xen's max_pages slack).</summary>
    public const ulong DefaultSlackPages = 256;

    /// <summary>The domain's name (c_info.name).</summary>
    public string Name { get; init; } = "streambench";

    /// <summary>Pages the domain may populate in all (max_memkb, plus video memory); null means memory + <see cref="DefaultSlackPages"/>.</summary>
    public ulong? MaxPages { get; init; }

    /// <summary>
    /// HVM/PVH: the guest may populate any pfn below the special pages, holes included. Xen itself has no holes (libxl's
    /// map only says where it put RAM), and real guests do populate inside them (PVH ACPI tables at 0xFC000, device
    /// model memory): restores of foreign streams need this. Off: libxl's default map, whose holes refuse population.
    /// </summary>
    public bool OpenMemoryMap { get; init; }

    /// <summary>Guest RAM in MiB (rounded down).</summary>
    public ulong MemoryMiB => MemoryPages / 256;

    /// <summary>
    /// The config exactly as an xl header carried it (the text after the u32 size, its NUL included), when the
    /// domain came from a real save file. A save of the restored domain writes it back unchanged, as xl does with the
    /// config it restored from, so that <c>xl restore</c> on a real host recreates the same domain (name, kernel,
    /// console, on_* actions: everything this model does not keep).
    /// </summary>
    public ReadOnlyMemory<byte> XlConfigText { get; init; }

    /// <summary>Whether <see cref="XlConfigText"/> is libxl JSON (the xl header's JSON mandatory flag) or xl.cfg text.</summary>
    public bool XlConfigIsJson { get; init; } = true;

    /// <summary>Equal when every field is, the config text compared byte for byte.</summary>
    public bool Equals(DomainConfig? other) =>
        other is not null && Type == other.Type && Vcpus == other.Vcpus && MemoryPages == other.MemoryPages && Name == other.Name
        && MaxPages == other.MaxPages && OpenMemoryMap == other.OpenMemoryMap && XlConfigIsJson == other.XlConfigIsJson
        && XlConfigText.Span.SequenceEqual(other.XlConfigText.Span);

    /// <summary>Hash of the fields that <see cref="Equals(DomainConfig?)"/> compares (the config text by length).</summary>
    public override int GetHashCode() => HashCode.Combine(Type, Vcpus, MemoryPages, Name, MaxPages, OpenMemoryMap, XlConfigText.Length);

    /// <summary>The config bytes an xl header gets: the original text when there is one, else this model's JSON.</summary>
    public byte[] XlHeaderConfig() => XlConfigText.IsEmpty ? ToJson() : XlConfigText.ToArray();

    /// <summary>
    /// The smallest domain made for a restore: the builder's smallest guest given in pages
    /// (<see cref="DomainSpec.MinPvPages"/> for PV, <see cref="DomainSpec.MinPages"/> for HVM and PVH), whose tiny guests
    /// (<see cref="DomainSpec.Tiny"/>) make the fuzz seeds. An xl config names at least 1 MiB anyway.
    /// </summary>
    public static ulong MinPages(GuestType type) => type.IsHvmContainer() ? DomainSpec.MinPages : DomainSpec.MinPvPages;

    /// <summary>The least memory an xl config may name: 1 MiB (xl's own rule; restore checks it first).</summary>
    public const ulong MinXlConfigPages = 256;

    /// <summary>The configuration of an existing domain (what a saver writes for it).</summary>
    public static DomainConfig FromDomain(GuestDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ulong pages = domain switch
        {
            PvDomain pv => pv.P2mSize,
            HvmDomain hvm => hvm.Layout.LowMemEndPfn + (hvm.Layout.HighMemEndPfn - HvmMemoryLayout.FourGiBPfn),
            _ => throw new ArgumentException($"unknown domain class {domain.GetType().Name}", nameof(domain)),
        };
        bool open = domain is HvmDomain h && h.Layout == OpenLayout(h.Layout.LowMemEndPfn + (h.Layout.HighMemEndPfn - HvmMemoryLayout.FourGiBPfn));
        return new DomainConfig(domain.Type, domain.MaxVcpus, pages) { MaxPages = domain.MemoryLimitPages, OpenMemoryMap = open };
    }

    /// <summary>The configuration a <see cref="DomainSpec"/> builds.</summary>
    public static DomainConfig FromSpec(DomainSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new DomainConfig(spec.Type, spec.Vcpus, spec.MemoryPages);
    }

    /// <summary>An empty (Building) domain of this configuration for a restore to fill.</summary>
    public GuestDomain CreateEmpty(MachineFrameAllocator? host = null)
    {
        if (Vcpus is < 1 or > GuestDomain.MaxVcpuLimit)
        {
            throw new InvalidOperationException($"vCPU count {Vcpus} is not within 1..{GuestDomain.MaxVcpuLimit}");
        }

        if (MemoryPages < MinPages(Type))
        {
            throw new InvalidOperationException($"{MemoryPages} pages of memory are too few: a {Type.ToName()} domain needs at least {MinPages(Type)}");
        }

        GuestDomain domain = OpenMemoryMap && Type.IsHvmContainer()
            ? new HvmDomain(Type == GuestType.Pvh, Vcpus, OpenLayout(MemoryPages),
                MemoryPages + HvmMemoryLayout.SpecialPageCount + HvmMemoryLayout.IoreqServerPageCount + DefaultSlackPages)
            : DomainBuilder.CreateEmpty(Type, Vcpus, MemoryPages, host, DefaultSlackPages);
        if (MaxPages is ulong max && max > domain.MemoryLimitPages)
        {
            domain.MemoryLimitPages = max + DefaultSlackPages;
        }

        return domain;
    }

    /// <summary>libxl's RAM placement with no holes but the top of the special region (and no VGA hole).</summary>
    public static HvmMemoryLayout OpenLayout(ulong memoryPages) =>
        HvmMemoryLayout.ForMemory(memoryPages, vgaHole: false) with { MmioHoleStartPfn = HvmMemoryLayout.IoreqServerStartPfn };

    /// <summary>
    /// The config as libxl's JSON (libxl_domain_config: c_info.type/name, b_info.max_vcpus/max_memkb/target_memkb),
    /// NUL-terminated as xl stores it. 32-bit PV is "pv": the guest's width travels in X86_PV_INFO.
    /// </summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("c_info");
            json.WriteString("type", Type is GuestType.Pv32 ? "pv" : Type.ToName());
            json.WriteString("name", Name);
            json.WriteEndObject();
            json.WriteStartObject("b_info");
            json.WriteNumber("max_vcpus", Vcpus);
            json.WriteNumber("max_memkb", (MaxPages ?? MemoryPages) * 4);
            json.WriteNumber("target_memkb", MemoryPages * 4);
            json.WriteString(MemoryMapKey, OpenMemoryMap ? "open" : "libxl");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        buffer.WriteByte(0);
        return buffer.ToArray();
    }

    /// <summary>
    /// Reads the config from an xl header's optional data (u32 size, then the config: JSON when
    /// <paramref name="json"/>, xl.cfg text otherwise). Returns null when there is none; throws
    /// <see cref="FormatException"/> when the optional data is malformed or names no usable guest.
    /// </summary>
    public static DomainConfig? ParseXlOptionalData(ReadOnlySpan<byte> optionalData, bool json)
    {
        if (optionalData.IsEmpty)
        {
            return null;
        }

        if (optionalData.Length < 4)
        {
            throw new FormatException($"optional data is {optionalData.Length} bytes, too short for the u32 config size");
        }

        uint size = BinaryPrimitives.ReadUInt32LittleEndian(optionalData);
        if (size > optionalData.Length - 4)
        {
            throw new FormatException($"config size {size} exceeds the {optionalData.Length - 4} bytes of optional data after it (Savefile truncated)");
        }

        ReadOnlySpan<byte> text = optionalData.Slice(4, (int)size);
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }

        if (text.IsEmpty)
        {
            return null;
        }

        try
        {
            DomainConfig config = (json ? ParseJson(text) : ParseXlCfg(Encoding.UTF8.GetString(text))) with
            {
                XlConfigText = optionalData.Slice(4, (int)size).ToArray(),
                XlConfigIsJson = json,
            };
            if (config.Vcpus is < 1 or > GuestDomain.MaxVcpuLimit)
            {
                throw new FormatException($"the config names {config.Vcpus} vCPUs (1..{GuestDomain.MaxVcpuLimit} allowed)");
            }

            if (config.MemoryPages < MinXlConfigPages || config.MemoryPages >= PageGeometry.PfnLimit)
            {
                throw new FormatException($"the config names {config.MemoryPages} pages of memory (at least 1 MiB, below the 52-bit limit)");
            }

            return config;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or OverflowException or KeyNotFoundException)
        {
            throw new FormatException($"the config cannot be used: {e.Message}", e);
        }
    }

    private static DomainConfig ParseJson(ReadOnlySpan<byte> text)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text.ToArray());
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new FormatException($"the config is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            string? type = Member(root, "c_info", "type") is { ValueKind: JsonValueKind.String } t ? t.GetString() : null;
            JsonElement? bInfo = Member(root, "b_info");
            int vcpus = Number(bInfo, "max_vcpus") is long v ? (int)Math.Clamp(v, int.MinValue, int.MaxValue) : 1;
            long? target = Number(bInfo, "target_memkb");
            long? max = Number(bInfo, "max_memkb");
            long video = Number(bInfo, "video_memkb") ?? 0;
            if (type is null)
            {
                throw new FormatException("the JSON config has no c_info.type");
            }

            GuestType guest = GuestTypeExtensions.Parse(type);
            long ramKiB = (target ?? max) ?? throw new FormatException("the JSON config has no b_info.target_memkb or max_memkb");
            if (ramKiB <= 0 || video < 0)
            {
                throw new FormatException($"the JSON config names {ramKiB} KiB of memory and {video} KiB of video memory");
            }

            if (guest.IsHvmContainer() && video > 0 && ramKiB > video)
            {
                ramKiB -= video; // libxl__build_hvm: guest RAM = target - video memory (video is populated on top).
            }

            ulong? maxPages = max is long m && m > 0 ? (ulong)m / 4 : null;
            JsonElement? map = Member(root, "b_info", MemoryMapKey);
            return new DomainConfig(guest, vcpus, (ulong)ramKiB / 4)
            {
                Name = Member(root, "c_info", "name") is { ValueKind: JsonValueKind.String } n ? n.GetString() ?? "restored" : "restored",
                MaxPages = maxPages,
                // A config this engine did not write comes from real xl: its guest may use the holes.
                OpenMemoryMap = map is not { ValueKind: JsonValueKind.String } || map.Value.GetString() == "open",
            };
        }
    }

    // xl.cfg: type/builder, memory/maxmem (MiB), vcpus/maxvcpus, name. Enough to size a domain.
    private static DomainConfig ParseXlCfg(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Split('#')[0].Trim();
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim(';').Trim().Trim('"', '\'');
            }
        }

        string type = values.GetValueOrDefault("type") ?? values.GetValueOrDefault("builder") ?? "pv";
        if (type == "generic")
        {
            type = "pv";
        }

        if (!values.TryGetValue("memory", out string? memory) || !ulong.TryParse(memory, NumberStyles.None, CultureInfo.InvariantCulture, out ulong mib))
        {
            throw new FormatException("the xl.cfg config has no numeric 'memory'");
        }

        int vcpus = int.TryParse(values.GetValueOrDefault("maxvcpus") ?? values.GetValueOrDefault("vcpus"), NumberStyles.None,
            CultureInfo.InvariantCulture, out int n) ? n : 1;
        ulong? maxPages = ulong.TryParse(values.GetValueOrDefault("maxmem"), NumberStyles.None, CultureInfo.InvariantCulture, out ulong maxMiB)
            ? maxMiB * 256
            : null;
        return new DomainConfig(GuestTypeExtensions.Parse(type), vcpus, mib * 256)
        {
            Name = values.GetValueOrDefault("name") ?? "restored",
            MaxPages = maxPages,
            OpenMemoryMap = true,
        };
    }

    private static JsonElement? Member(JsonElement element, params string[] path)
    {
        foreach (string name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out JsonElement next))
            {
                return null;
            }

            element = next;
        }

        return element;
    }

    private static long? Number(JsonElement? element, string name) =>
        element is JsonElement e && e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v)
            && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n)
            ? n
            : null;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Type.ToName()}, {Vcpus} vCPU(s), {MemoryPages / 256} MiB";
}
