using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamBench.Domain;
using StreamBench.Formats;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Toolstack;

/// <summary>What the bench host offers a foreign domain config in place of the source host's paths and devices.</summary>
public sealed record ConfigAdaptOptions
{
    /// <summary>Folder for the HVM serial log (<c>serial="file:DIR/guest-NAME-serial.log"</c>), named like xenconsoled's logs.</summary>
    public string ConsoleDir { get; init; } = "/var/log/xen/console";

    /// <summary>When set, disks are mapped to scratch images in this folder; when null they are dropped.</summary>
    public string? ScratchDir { get; init; }

    /// <summary>Scratch image sizes in bytes by vdev (a config does not carry its disks' sizes).</summary>
    public IReadOnlyDictionary<string, long> DiskSizes { get; init; } = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Size of a scratch image whose vdev has no entry in <see cref="DiskSizes"/>.</summary>
    public long DefaultDiskSize { get; init; } = 1L << 30;

    /// <summary>When set, every vif goes to this bridge; when null vifs are dropped.</summary>
    public string? Bridge { get; init; }

    /// <summary>Replacement kernel / ramdisk paths (HVM direct kernel boot: QEMU opens them again on restore).</summary>
    public string? Kernel { get; init; }

    /// <summary>Replacement ramdisk path.</summary>
    public string? Ramdisk { get; init; }

    /// <summary>Replacement device model binary (<c>device_model_override</c>).</summary>
    public string? DeviceModel { get; init; }

    /// <summary>Physical CPUs for every vCPU's hard affinity; null drops the source host's affinity.</summary>
    public IReadOnlyList<int>? Cpus { get; init; }

    /// <summary>A new domain name; null keeps the carried one.</summary>
    public string? Name { get; init; }
}

/// <summary>One change the adapter made: the JSON path (or xl.cfg key), the value before and after, and why.</summary>
public sealed record ConfigChange(string Field, string? From, string? To, string Why);

/// <summary>A scratch image the bench host must provide for a mapped disk (<c>truncate -s SIZE PATH</c>).</summary>
public sealed record ScratchDisk(string Vdev, string Path, long SizeBytes, bool SizeKnown);

/// <summary>The result of <see cref="ConfigAdapter.Adapt"/>.</summary>
/// <param name="Original">The config as the stream carried it.</param>
/// <param name="Adapted">The adapted config in the stream's own form (libxl JSON or xl.cfg text), NUL-terminated as xl stores it.</param>
/// <param name="IsJson">Whether <paramref name="Adapted"/> is libxl JSON.</param>
/// <param name="XlCfg">The adapted config as xl.cfg text, for <c>xl restore CFG STREAM</c>.</param>
/// <param name="Changes">What was changed and why.</param>
/// <param name="Disks">Scratch images the host must create.</param>
/// <param name="Notes">Warnings and what the xl.cfg rendering does not carry.</param>
public sealed record AdaptedConfig(
    DomainConfig Original, byte[] Adapted, bool IsJson, string XlCfg, IReadOnlyList<ConfigChange> Changes,
    IReadOnlyList<ScratchDisk> Disks, IReadOnlyList<string> Notes);

/// <summary>
/// Rewrites the xl config a stream carries for another host (issue #19): serial/console paths to the bench's, disks
/// dropped or mapped to scratch images, vifs to the bench's bridge or none, hotplug scripts removed, CPU affinity
/// dropped or replaced; memory, vCPUs and guest type are kept (and checked to be kept). The stream itself is never
/// touched here: <see cref="RewriteXlHeader"/> writes a separate copy whose xl header carries the adapted config.
/// The JSON shape is libxl_domain_config's (tools/libs/light/libxl_types.idl, as xl's save header stores it).
/// </summary>
public static class ConfigAdapter
{
    /// <summary>The most optional data an xl header may claim before we refuse to hold it (xl keeps it in memory too).</summary>
    public const int MaxOptionalData = 16 << 20;

    /// <summary>The xl header of a stream: fields and optional data (bounded by <see cref="MaxOptionalData"/>).</summary>
    public sealed record XlHeaderInfo(uint ByteOrder, XlMandatoryFlags MandatoryFlags, uint OptionalFlags, byte[] OptionalData)
    {
        /// <summary>Whether the config is libxl JSON.</summary>
        public bool IsJson => (MandatoryFlags & XlMandatoryFlags.Json) != 0;

        /// <summary>The config bytes (after the u32 size), NUL included when present.</summary>
        public ReadOnlySpan<byte> Config =>
            OptionalData.Length < 4 ? default : OptionalData.AsSpan(4, (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(OptionalData), (uint)OptionalData.Length - 4));
    }

    /// <summary>Reads the xl header at the start of <paramref name="input"/>; the stream is left just after it.</summary>
    public static XlHeaderInfo ReadXlHeader(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var header = new byte[XlWire.HeaderSize];
        int got = ReadFull(input, header);
        if (got < XlWire.MagicSize || !header.AsSpan(0, XlWire.MagicSize).SequenceEqual(XlWire.Magic))
        {
            throw new StreamFormatException("no xl save-file header (magic \"Xen saved domain, xl format\"): the stream carries no xl config to adapt",
                0, ErrorLayer.Xl, field: "magic");
        }

        if (got < XlWire.HeaderSize)
        {
            throw new StreamFormatException($"the xl header is cut after {got} of {XlWire.HeaderSize} bytes", got, ErrorLayer.Xl, truncated: true);
        }

        uint order = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(XlWire.ByteOrderOffset));
        if (order != XlWire.ByteOrderMarker)
        {
            throw new StreamFormatException($"byteorder 0x{order:x8}: only little-endian xl headers are adapted", XlWire.ByteOrderOffset, ErrorLayer.Xl, field: "byteorder");
        }

        var mandatory = (XlMandatoryFlags)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(XlWire.MandatoryFlagsOffset));
        uint optionalFlags = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(XlWire.OptionalFlagsOffset));
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(XlWire.OptionalDataLengthOffset));
        if (length > MaxOptionalData)
        {
            throw new StreamFormatException($"optional_data_len {length} exceeds the {MaxOptionalData} bytes this tool holds", XlWire.OptionalDataLengthOffset,
                ErrorLayer.Xl, field: "optional_data_len");
        }

        var optional = new byte[length];
        int have = ReadFull(input, optional);
        if (have < optional.Length)
        {
            throw new StreamFormatException($"the xl optional data is cut after {have} of {length} bytes", XlWire.HeaderSize + have, ErrorLayer.Xl,
                field: "optional_data", truncated: true);
        }

        if (length is > 0 and < 4 || (length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(optional) > length - 4))
        {
            throw new StreamFormatException("the config size in the optional data exceeds the optional data", XlWire.HeaderSize, ErrorLayer.Xl, field: "config_len");
        }

        return new XlHeaderInfo(order, mandatory, optionalFlags, optional);
    }

    /// <summary>Adapts the config of an xl header for the bench host.</summary>
    public static AdaptedConfig Adapt(XlHeaderInfo header, ConfigAdaptOptions options)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(options);
        DomainConfig original = DomainConfig.ParseXlOptionalData(header.OptionalData, header.IsJson)
            ?? throw new StreamFormatException("the xl header carries no config", XlWire.HeaderSize, ErrorLayer.Xl, field: "config");
        var changes = new List<ConfigChange>();
        var disks = new List<ScratchDisk>();
        var notes = new List<string>();
        byte[] adapted;
        string xlcfg;
        if (header.IsJson)
        {
            JsonNode root = JsonNode.Parse(TrimNul(header.Config)) ?? throw new StreamFormatException("the JSON config is null", XlWire.HeaderSize + 4, ErrorLayer.Xl, field: "config");
            AdaptJson(root, original, options, changes, disks, notes);
            string text = root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            adapted = [.. Encoding.UTF8.GetBytes(text), 0];
            xlcfg = RenderXlCfg(root, notes);
        }
        else
        {
            xlcfg = AdaptXlCfg(Encoding.UTF8.GetString(TrimNul(header.Config)), original, options, changes, disks);
            adapted = [.. Encoding.UTF8.GetBytes(xlcfg), 0];
        }

        // Memory, vCPUs and type must come through unchanged: the stream was cut for them.
        byte[] sized = new byte[4 + adapted.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(sized, (uint)adapted.Length);
        adapted.CopyTo(sized, 4);
        DomainConfig after = DomainConfig.ParseXlOptionalData(sized, header.IsJson)!;
        DomainConfig fromCfg = DomainConfig.ParseXlOptionalData(SizedText(xlcfg), json: false)!;
        // (xl.cfg's memory is libxl's target_memkb, which for HVM includes video memory: compared by type and vCPUs)
        if (after.Type != original.Type || after.Vcpus != original.Vcpus || after.MemoryPages != original.MemoryPages
            || fromCfg.Type != original.Type || fromCfg.Vcpus != original.Vcpus)
        {
            throw new InvalidOperationException($"adaptation changed the domain ({original} -> {after} / {fromCfg}): a bug in the adapter");
        }

        return new AdaptedConfig(original, adapted, header.IsJson, xlcfg, changes, disks, notes);
    }

    /// <summary>
    /// Copies <paramref name="input"/> (positioned at its start) to <paramref name="output"/> with the xl header's config
    /// replaced by <paramref name="adapted"/>'s; everything after the header is copied byte for byte.
    /// </summary>
    public static long RewriteXlHeader(Stream input, Stream output, AdaptedConfig adapted)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(adapted);
        XlHeaderInfo header = ReadXlHeader(input);
        uint oldConfig = header.OptionalData.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(header.OptionalData) : 0;
        ReadOnlySpan<byte> rest = header.OptionalData.Length >= 4 ? header.OptionalData.AsSpan(4 + (int)oldConfig) : default;
        var head = new byte[XlWire.HeaderSize];
        XlWire.Magic.CopyTo(head);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.ByteOrderOffset), header.ByteOrder);
        var flags = adapted.IsJson ? header.MandatoryFlags | XlMandatoryFlags.Json : header.MandatoryFlags & ~XlMandatoryFlags.Json;
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.MandatoryFlagsOffset), (uint)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.OptionalFlagsOffset), header.OptionalFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.OptionalDataLengthOffset), (uint)(4 + adapted.Adapted.Length + rest.Length));
        output.Write(head);
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)adapted.Adapted.Length);
        output.Write(size);
        output.Write(adapted.Adapted);
        output.Write(rest);
        long written = XlWire.HeaderSize + 4 + adapted.Adapted.Length + rest.Length;
        var buffer = new byte[1 << 20];
        int n;
        while ((n = input.Read(buffer)) > 0)
        {
            output.Write(buffer, 0, n);
            written += n;
        }

        return written;
    }

    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "One branch per libxl domain-config key the adapter rewrites for this host (name, hotplug scripts, serial, VNC, VGA, kernel, disks, ...): a flat table in code.")]
    private static void AdaptJson(JsonNode root, DomainConfig original, ConfigAdaptOptions o, List<ConfigChange> changes, List<ScratchDisk> disks, List<string> notes)
    {
        JsonObject obj = root as JsonObject ?? throw new StreamFormatException("the JSON config is not an object", XlWire.HeaderSize + 4, ErrorLayer.Xl, field: "config");
        JsonObject? cInfo = obj["c_info"] as JsonObject;
        JsonObject? bInfo = obj["b_info"] as JsonObject;
        string name = o.Name ?? original.Name;
        if (o.Name is not null && cInfo is not null)
        {
            changes.Add(new ConfigChange("c_info.name", Str(cInfo["name"]), o.Name, "renamed on request"));
            cInfo["name"] = o.Name;
        }

        if (cInfo?["run_hotplug_scripts"] is JsonNode hp && Str(hp) != "False")
        {
            changes.Add(new ConfigChange("c_info.run_hotplug_scripts", Str(hp), "False", "scripts are removed: the bench host runs none of the source's"));
            cInfo["run_hotplug_scripts"] = "False";
        }

        if (bInfo is not null)
        {
            JsonObject? hvm = bInfo["type.hvm"] as JsonObject;
            if (hvm is not null)
            {
                string serial = $"file:{o.ConsoleDir.TrimEnd('/')}/guest-{name}-serial.log";
                if (hvm["serial"] is JsonNode s && Str(s) is string from && from != serial && from != "none")
                {
                    changes.Add(new ConfigChange("b_info.type.hvm.serial", from, serial, "the source host's serial target; the bench logs it with the consoles"));
                    hvm["serial"] = serial;
                }

                if (hvm["serial_list"] is JsonArray list && list.Count > 0)
                {
                    changes.Add(new ConfigChange("b_info.type.hvm.serial_list", string.Join(",", list.Select(Str)), serial, "the source host's serial targets"));
                    hvm.Remove("serial_list");
                    hvm["serial"] = serial;
                }

                if (hvm["vnc"] is JsonObject vnc && Str(vnc["listen"]) is string listen)
                {
                    changes.Add(new ConfigChange("b_info.type.hvm.vnc.listen", listen, null, "an address of the source host"));
                    vnc.Remove("listen");
                }

                if (Str(hvm["vga"]?["kind"]) is string vga && vga != "none")
                {
                    notes.Add($"HVM: QEMU's saved device state includes the {vga} VGA device: kept as it is");
                }
            }

            Replace(bInfo, "kernel", o.Kernel, "b_info.kernel", changes);
            Replace(bInfo, "ramdisk", o.Ramdisk, "b_info.ramdisk", changes);
            Replace(bInfo, "device_model", o.DeviceModel, "b_info.device_model", changes);
            foreach (string key in new[] { "vcpu_hard_affinity", "vcpu_soft_affinity", "cpumap", "nodemap" })
            {
                if (bInfo[key] is JsonNode aff)
                {
                    string from = aff.ToJsonString();
                    bInfo.Remove(key);
                    if (key == "vcpu_hard_affinity" && o.Cpus is { Count: > 0 } cpus)
                    {
                        var per = new JsonArray();
                        for (int i = 0; i < original.Vcpus; i++)
                        {
                            per.Add((JsonNode)new JsonArray(cpus.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()));
                        }

                        bInfo[key] = per;
                        if (from != per.ToJsonString())
                        {
                            changes.Add(new ConfigChange("b_info." + key, from, per.ToJsonString(), "pinned to the bench host's CPUs on request"));
                        }
                    }
                    else
                    {
                        changes.Add(new ConfigChange("b_info." + key, from, null, "CPUs of the source host"));
                    }
                }
            }

            if (o.Cpus is { Count: > 0 } want && bInfo["vcpu_hard_affinity"] is null)
            {
                var per = new JsonArray();
                for (int i = 0; i < original.Vcpus; i++)
                {
                    per.Add((JsonNode)new JsonArray(want.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()));
                }

                bInfo["vcpu_hard_affinity"] = per;
                changes.Add(new ConfigChange("b_info.vcpu_hard_affinity", null, per.ToJsonString(), "pinned to the bench host's CPUs on request"));
            }

            if (Str(bInfo["bootloader"]) is string bl)
            {
                notes.Add($"bootloader \"{bl}\" kept: a restore does not run it");
            }
        }

        if (obj["disks"] is JsonArray diskList && diskList.Count > 0)
        {
            if (o.ScratchDir is null)
            {
                foreach (JsonNode? d in diskList)
                {
                    changes.Add(new ConfigChange($"disks[{Str(d?["vdev"])}]", Str(d?["pdev_path"]), null, "a disk of the source host (no --scratch-dir: dropped)"));
                }

                obj.Remove("disks");
                if (original.Type.IsHvmContainer() && original.Type != GuestType.Pvh)
                {
                    notes.Add("HVM: disks were dropped; QEMU's saved device state may still name their emulated drives");
                }
            }
            else
            {
                foreach (JsonObject d in diskList.OfType<JsonObject>())
                {
                    string vdev = Str(d["vdev"]) ?? $"disk{disks.Count}";
                    bool known = o.DiskSizes.TryGetValue(vdev, out long size);
                    if (!known)
                    {
                        size = o.DefaultDiskSize;
                    }

                    string path = $"{o.ScratchDir.TrimEnd('/')}/{name}-{vdev}.img";
                    changes.Add(new ConfigChange($"disks[{vdev}].pdev_path", Str(d["pdev_path"]), path,
                        known ? $"scratch image of {size} bytes" : $"scratch image; the stream does not carry the disk's size: {size} bytes assumed"));
                    d["pdev_path"] = path;
                    d["format"] = "raw";
                    d["backend"] = "qdisk";
                    if (d["script"] is JsonNode sc)
                    {
                        changes.Add(new ConfigChange($"disks[{vdev}].script", Str(sc), null, "scripts are removed"));
                        d.Remove("script");
                    }

                    disks.Add(new ScratchDisk(vdev, path, size, known));
                }
            }
        }

        if (obj["nics"] is JsonArray nics && nics.Count > 0)
        {
            if (o.Bridge is null)
            {
                foreach (JsonNode? n in nics)
                {
                    changes.Add(new ConfigChange($"nics[{Str(n?["mac"])}]", Str(n?["bridge"]), null, "a network of the source host (no --bridge: dropped)"));
                }

                obj.Remove("nics");
                if (original.Type == GuestType.Hvm)
                {
                    notes.Add("HVM: vifs were dropped; QEMU's saved device state may still name their emulated NICs");
                }
            }
            else
            {
                foreach (JsonObject n in nics.OfType<JsonObject>())
                {
                    string mac = Str(n["mac"]) ?? "?";
                    if (Str(n["bridge"]) != o.Bridge)
                    {
                        changes.Add(new ConfigChange($"nics[{mac}].bridge", Str(n["bridge"]), o.Bridge, "the bench host's bridge"));
                        n["bridge"] = o.Bridge;
                    }

                    foreach (string key in new[] { "script", "gatewaydev", "ip" })
                    {
                        if (n[key] is JsonNode v)
                        {
                            changes.Add(new ConfigChange($"nics[{mac}].{key}", Str(v), null, key == "script" ? "scripts are removed" : "a setting of the source host's network"));
                            n.Remove(key);
                        }
                    }
                }
            }
        }

        foreach (string key in new[] { "pcidevs", "dtdevs", "usbctrls", "usbdevs", "vtpms", "p9s", "channels", "vdispls", "vsnds", "pvcallsifs", "rdms" })
        {
            if (obj[key] is JsonArray a && a.Count > 0)
            {
                changes.Add(new ConfigChange(key, a.ToJsonString(), null, "host devices or paths of the source host"));
                obj.Remove(key);
            }
        }
    }

    private static void Replace(JsonObject o, string key, string? value, string field, List<ConfigChange> changes)
    {
        if (value is not null && o[key] is JsonNode old && Str(old) != value)
        {
            changes.Add(new ConfigChange(field, Str(old), value, "a path of the source host (replaced on request)"));
            o[key] = value;
        }
    }

    // The adapted JSON as xl.cfg text: what `xl restore CFG STREAM` reads (xl parses a config file given on the
    // command line as xl.cfg, never as JSON).
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "One branch per xl.cfg line rendered from the adapted libxl JSON: a flat table in code.")]
    private static string RenderXlCfg(JsonNode root, List<string> notes)
    {
        var sb = new StringBuilder();
        void Line(string key, string value) => sb.Append(key).Append(" = ").Append(value).Append('\n');
        static string Q(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        sb.Append("# adapted by streambench config --adapt from the config the stream carries\n");
        JsonNode? c = root["c_info"];
        JsonNode? b = root["b_info"];
        string type = Str(c?["type"]) ?? "pv";
        Line("name", Q(Str(c?["name"]) ?? "restored"));
        Line("type", Q(type));
        if (Str(c?["uuid"]) is string uuid)
        {
            Line("uuid", Q(uuid));
        }

        long target = Num(b?["target_memkb"]) ?? Num(b?["max_memkb"]) ?? 0;
        long max = Num(b?["max_memkb"]) ?? target;
        long video = Num(b?["video_memkb"]) ?? 0;
        Line("memory", (target / 1024).ToString(CultureInfo.InvariantCulture));
        if (max != target)
        {
            Line("maxmem", (max / 1024).ToString(CultureInfo.InvariantCulture));
        }

        if (video > 0)
        {
            Line("videoram", (video / 1024).ToString(CultureInfo.InvariantCulture));
        }

        long maxVcpus = Num(b?["max_vcpus"]) ?? 1;
        int avail = b?["avail_vcpus"] is JsonArray av ? av.Count : (int)maxVcpus;
        Line("vcpus", avail.ToString(CultureInfo.InvariantCulture));
        if (avail != maxVcpus)
        {
            Line("maxvcpus", maxVcpus.ToString(CultureInfo.InvariantCulture));
        }

        if (b?["vcpu_hard_affinity"] is JsonArray aff && aff.Count > 0 && aff[0] is JsonArray first)
        {
            Line("cpus", Q(string.Join(",", first.Select(x => Num(x)?.ToString(CultureInfo.InvariantCulture)))));
        }

        foreach ((string json, string cfg) in new[] { ("kernel", "kernel"), ("ramdisk", "ramdisk"), ("cmdline", "extra"), ("bootloader", "bootloader") })
        {
            if (Str(b?[json]) is string v)
            {
                Line(cfg, Q(v));
            }
        }

        foreach (string on in new[] { "on_poweroff", "on_reboot", "on_watchdog", "on_crash", "on_soft_reset" })
        {
            if (Str(root[on]) is string v)
            {
                Line(on, Q(v.Replace('_', '-')));
            }
        }

        if (Str(b?["device_model_version"]) is string dmv)
        {
            Line("device_model_version", Q(dmv.Replace('_', '-')));
        }

        if (Str(b?["device_model"]) is string dm)
        {
            Line("device_model_override", Q(dm));
        }

        if (b?["type.hvm"] is JsonObject hvm)
        {
            if (Str(hvm["nographic"]) == "True")
            {
                Line("nographic", "1");
            }

            if (Str(hvm["vnc"]?["enable"]) is string vnc)
            {
                Line("vnc", vnc == "True" ? "1" : "0");
            }

            if (Str(hvm["vga"]?["kind"]) is string vga)
            {
                Line("vga", Q(vga switch { "std" => "stdvga", _ => vga }));
            }

            if (Str(hvm["serial"]) is string serial)
            {
                Line("serial", Q(serial));
            }

            foreach (string key in new[] { "acpi", "apic", "pae", "hpet", "viridian", "nx", "usb" })
            {
                if (Str(hvm[key]) is string v)
                {
                    Line(key, v == "True" ? "1" : "0");
                }
            }
        }

        if (root["disks"] is JsonArray disks && disks.Count > 0)
        {
            var specs = disks.OfType<JsonObject>().Select(d =>
                $"'format={Str(d["format"]) ?? "raw"}, vdev={Str(d["vdev"])}, access={(Num(d["readwrite"]) == 0 ? "ro" : "rw")}"
                + (Str(d["backend"]) is string be ? $", backendtype={be}" : "") + $", target={Str(d["pdev_path"])}'");
            Line("disk", "[ " + string.Join(", ", specs) + " ]");
        }

        if (root["nics"] is JsonArray nics && nics.Count > 0)
        {
            var specs = nics.OfType<JsonObject>().Select(n => "'" + string.Join(",", new[] { ("mac", Str(n["mac"])), ("bridge", Str(n["bridge"])), ("model", Str(n["model"])) }
                .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={p.Item2}")) + "'");
            Line("vif", "[ " + string.Join(", ", specs) + " ]");
        }

        var carried = new HashSet<string>(StringComparer.Ordinal)
        {
            "c_info", "b_info", "disks", "nics", "on_poweroff", "on_reboot", "on_watchdog", "on_crash", "on_soft_reset",
        };
        foreach (var (key, value) in root.AsObject())
        {
            if (!carried.Contains(key) && value is not null && !(value is JsonArray { Count: 0 }) && !(value is JsonObject { Count: 0 }))
            {
                notes.Add($"xl.cfg rendering does not carry '{key}' (the adapted JSON copy keeps it)");
            }
        }

        return sb.ToString();
    }

    // xl.cfg text (streams from xl before JSON configs): adapt line by line.
    private static string AdaptXlCfg(string text, DomainConfig original, ConfigAdaptOptions o, List<ConfigChange> changes, List<ScratchDisk> disks)
    {
        string name = o.Name ?? original.Name;
        var sb = new StringBuilder();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            string key = eq > 0 && !line.TrimStart().StartsWith('#') ? line[..eq].Trim() : "";
            string value = eq > 0 ? line[(eq + 1)..].Trim() : "";
            switch (key)
            {
                case "name" when o.Name is not null:
                    changes.Add(new ConfigChange("name", value, o.Name, "renamed on request"));
                    line = $"name = \"{o.Name}\"";
                    break;
                case "serial":
                    string serial = $"\"file:{o.ConsoleDir.TrimEnd('/')}/guest-{name}-serial.log\"";
                    changes.Add(new ConfigChange("serial", value, serial, "the source host's serial target"));
                    line = "serial = " + serial;
                    break;
                case "disk" when o.ScratchDir is null:
                case "vif" when o.Bridge is null:
                case "cpus" or "cpus_soft" or "pci" or "usbdev" or "vtpm" or "channel" or "p9" or "vnclisten":
                    changes.Add(new ConfigChange(key, value, null, "devices, paths or CPUs of the source host"));
                    continue;
                case "disk":
                    {
                        var specs = new List<string>();
                        foreach (string spec in SplitList(value))
                        {
                            // positional forms (xl-disk-configuration): target,format,vdev,access or the legacy target,vdev,access
                            string[] parts = spec.Split(',');
                            string vdev = Field(spec, "vdev") ?? (parts.Length >= 4 ? parts[2].Trim() : parts.Length >= 2 ? parts[1].Trim() : $"disk{disks.Count}");
                            bool known = o.DiskSizes.TryGetValue(vdev, out long size);
                            size = known ? size : o.DefaultDiskSize;
                            string path = $"{o.ScratchDir!.TrimEnd('/')}/{name}-{vdev}.img";
                            disks.Add(new ScratchDisk(vdev, path, size, known));
                            changes.Add(new ConfigChange($"disk[{vdev}]", spec, path, known ? $"scratch image of {size} bytes" : $"scratch image; size not in the stream: {size} bytes assumed"));
                            specs.Add($"'format=raw, vdev={vdev}, access=rw, backendtype=qdisk, target={path}'");
                        }

                        line = "disk = [ " + string.Join(", ", specs) + " ]";
                        break;
                    }

                case "vif":
                    {
                        var specs = SplitList(value).Select(spec => "'" + string.Join(",", spec.Split(',').Select(p => p.Trim())
                            .Where(p => !p.StartsWith("script=", StringComparison.Ordinal) && !p.StartsWith("bridge=", StringComparison.Ordinal) && p.Length > 0)
                            .Append($"bridge={o.Bridge}")) + "'").ToList();
                        changes.Add(new ConfigChange("vif", value, string.Join(", ", specs), "the bench host's bridge, scripts removed"));
                        line = "vif = [ " + string.Join(", ", specs) + " ]";
                        break;
                    }

                case "kernel" when o.Kernel is not null:
                case "ramdisk" when o.Ramdisk is not null:
                case "device_model_override" when o.DeviceModel is not null:
                    string with = key switch { "kernel" => o.Kernel!, "ramdisk" => o.Ramdisk!, _ => o.DeviceModel! };
                    changes.Add(new ConfigChange(key, value, with, "a path of the source host (replaced on request)"));
                    line = $"{key} = \"{with}\"";
                    break;
            }

            sb.Append(line).Append('\n');
        }

        if (o.Cpus is { Count: > 0 } cpus)
        {
            string v = "\"" + string.Join(",", cpus) + "\"";
            changes.Add(new ConfigChange("cpus", null, v, "pinned to the bench host's CPUs on request"));
            sb.Append("cpus = ").Append(v).Append('\n');
        }

        return sb.ToString().TrimEnd('\n') + "\n";
    }

    private static IEnumerable<string> SplitList(string value) =>
        value.Trim().TrimStart('[').TrimEnd(']').Split('\'', '"').Where((_, i) => i % 2 == 1);

    private static string? Field(string spec, string key) =>
        spec.Split(',').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..];

    private static string? Str(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out string? s) ? s : Num(node)?.ToString(CultureInfo.InvariantCulture);

    // parsed values hold a JsonElement, values this adapter created hold an int
    private static long? Num(JsonNode? node) =>
        node is not JsonValue v ? null : v.TryGetValue(out long l) ? l : v.TryGetValue(out int i) ? i : null;

    private static byte[] TrimNul(ReadOnlySpan<byte> config)
    {
        int nul = config.IndexOf((byte)0);
        return (nul >= 0 ? config[..nul] : config).ToArray();
    }

    private static byte[] SizedText(string text)
    {
        byte[] body = Encoding.UTF8.GetBytes(text);
        var sized = new byte[4 + body.Length + 1];
        BinaryPrimitives.WriteUInt32LittleEndian(sized, (uint)(body.Length + 1));
        body.CopyTo(sized, 4);
        return sized;
    }

    private static int ReadFull(Stream s, byte[] buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = s.Read(buffer, got, buffer.Length - got);
            if (n == 0)
            {
                break;
            }

            got += n;
        }

        return got;
    }
}
