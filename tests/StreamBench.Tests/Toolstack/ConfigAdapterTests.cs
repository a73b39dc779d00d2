using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Capture;
using Xunit;

namespace StreamBench.Tests.Toolstack;

/// <summary>
/// <c>streambench config --adapt</c> (issue #19): the xl config a foreign stream carries, rewritten for the bench host.
/// The HVM config is the shape real xl 4.17 writes (corpus/real/save-hvm.xl), with what an operator's host adds: a serial
/// log path, disks and vifs with scripts, CPU pinning.
/// </summary>
public sealed class ConfigAdapterTests
{
    private const string ForeignHvm = """
        {
            "c_info": { "type": "hvm", "name": "hvm-prod-7", "uuid": "3aff5528-e60a-11f1-ad88-dd5c213573bf", "run_hotplug_scripts": "True" },
            "b_info": {
                "max_vcpus": 2, "avail_vcpus": [0, 1], "vcpu_hard_affinity": [[8, 9], [8, 9]],
                "max_memkb": 1048576, "target_memkb": 1048576, "video_memkb": 0,
                "device_model_version": "qemu_xen", "device_model": "/opt/xen/bin/qemu-system-i386",
                "kernel": "/srv/images/vmlinuz-6.1", "cmdline": "console=ttyS0 root=/dev/xvda1", "ramdisk": "/srv/images/initrd",
                "type.hvm": { "nographic": "True", "vga": { "kind": "none" }, "vnc": { "enable": "False", "listen": "192.0.2.10" },
                              "serial": "file:/root/out/hvm-prod-7/ttyS0.log" }
            },
            "disks": [ { "backend_domid": 0, "pdev_path": "/dev/vg0/prod7-root", "vdev": "xvda", "backend": "phy", "format": "raw",
                         "script": "/etc/xen/scripts/block-drbd", "readwrite": 1 } ],
            "nics": [ { "devid": 0, "mac": "00:16:3e:11:22:33", "bridge": "br-prod", "script": "/etc/xen/scripts/vif-openvswitch" } ],
            "channels": [ { "name": "org.qemu.guest_agent.0", "connection": "socket", "path": "/run/qga.sock" } ],
            "on_reboot": "restart", "on_crash": "coredump_destroy"
        }
        """;

    private static byte[] Stream(string config, bool json = true, byte[]? tail = null)
    {
        byte[] text = [.. Encoding.UTF8.GetBytes(config), 0];
        var head = new byte[XlWire.HeaderSize + 4];
        XlWire.Magic.CopyTo(head);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.ByteOrderOffset), XlWire.ByteOrderMarker);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.MandatoryFlagsOffset), (uint)(XlMandatoryFlags.StreamV2 | (json ? XlMandatoryFlags.Json : 0)));
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.OptionalDataLengthOffset), (uint)(4 + text.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(XlWire.HeaderSize), (uint)text.Length);
        return [.. head, .. text, .. tail ?? "LibxlFmt\0\0\0\0 the rest of the stream"u8.ToArray()];
    }

    private static AdaptedConfig Adapt(byte[] stream, ConfigAdaptOptions? options = null) =>
        ConfigAdapter.Adapt(ConfigAdapter.ReadXlHeader(new MemoryStream(stream)), options ?? new ConfigAdaptOptions());

    [Fact]
    public void A_foreign_hvm_config_loses_the_source_hosts_paths_devices_scripts_and_cpus_and_keeps_the_domain()
    {
        AdaptedConfig r = Adapt(Stream(ForeignHvm));
        var adapted = JsonNode.Parse(Encoding.UTF8.GetString(r.Adapted.AsSpan(0, r.Adapted.Length - 1)))!;
        Assert.Equal(0, r.Adapted[^1]);
        Assert.Equal("file:/var/log/xen/console/guest-hvm-prod-7-serial.log", (string?)adapted["b_info"]!["type.hvm"]!["serial"]);
        Assert.Null(adapted["disks"]);
        Assert.Null(adapted["nics"]);
        Assert.Null(adapted["channels"]);
        Assert.Null(adapted["b_info"]!["vcpu_hard_affinity"]);
        Assert.Null(adapted["b_info"]!["type.hvm"]!["vnc"]!["listen"]);
        Assert.Equal("False", (string?)adapted["c_info"]!["run_hotplug_scripts"]);
        Assert.Equal("3aff5528-e60a-11f1-ad88-dd5c213573bf", (string?)adapted["c_info"]!["uuid"]);
        string[] fields = r.Changes.Select(c => c.Field).ToArray();
        Assert.Contains("b_info.type.hvm.serial", fields);
        Assert.Contains("disks[xvda]", fields);
        Assert.Contains("nics[00:16:3e:11:22:33]", fields);
        Assert.Contains("b_info.vcpu_hard_affinity", fields);
        Assert.Contains("channels", fields);
        Assert.Equal("file:/root/out/hvm-prod-7/ttyS0.log", r.Changes.Single(c => c.Field == "b_info.type.hvm.serial").From);
        Assert.Equal((StreamBench.Domain.GuestType.Hvm, 2, 1024UL), (r.Original.Type, r.Original.Vcpus, r.Original.MemoryMiB));

        // the xl.cfg beside the stream: what `xl restore CFG STREAM` reads
        Assert.Contains("name = \"hvm-prod-7\"\n", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("type = \"hvm\"\n", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("memory = 1024\n", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("vcpus = 2\n", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("serial = \"file:/var/log/xen/console/guest-hvm-prod-7-serial.log\"\n", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("device_model_version = \"qemu-xen\"\n", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("on_crash = \"coredump-destroy\"\n", r.XlCfg, StringComparison.Ordinal);
        Assert.DoesNotContain("\ndisk", r.XlCfg, StringComparison.Ordinal);
        Assert.DoesNotContain("\nvif", r.XlCfg, StringComparison.Ordinal);
        Assert.DoesNotContain("\ncpus", r.XlCfg, StringComparison.Ordinal);
        Assert.DoesNotContain("/root/out", r.XlCfg, StringComparison.Ordinal);
    }

    [Fact]
    public void Disks_map_to_scratch_images_vifs_to_the_bench_bridge_and_paths_and_cpus_are_replaced_on_request()
    {
        AdaptedConfig r = Adapt(Stream(ForeignHvm), new ConfigAdaptOptions
        {
            ScratchDir = "/scratch/", Bridge = "xenbr0", Cpus = [1], Kernel = "/guest/vmlinuz", Ramdisk = "/guest/initrd",
            DeviceModel = "/usr/libexec/xen-qemu-system-i386", DiskSizes = new Dictionary<string, long> { ["xvda"] = 8L << 30 },
        });
        var adapted = JsonNode.Parse(Encoding.UTF8.GetString(r.Adapted.AsSpan(0, r.Adapted.Length - 1)))!;
        JsonNode disk = adapted["disks"]![0]!;
        Assert.Equal("/scratch/hvm-prod-7-xvda.img", (string?)disk["pdev_path"]);
        Assert.Equal("qdisk", (string?)disk["backend"]);
        Assert.Null(disk["script"]);
        Assert.Equal(new ScratchDisk("xvda", "/scratch/hvm-prod-7-xvda.img", 8L << 30, true), Assert.Single(r.Disks));
        JsonNode nic = adapted["nics"]![0]!;
        Assert.Equal("xenbr0", (string?)nic["bridge"]);
        Assert.Null(nic["script"]);
        Assert.Equal("00:16:3e:11:22:33", (string?)nic["mac"]);
        Assert.Equal("[[1],[1]]", adapted["b_info"]!["vcpu_hard_affinity"]!.ToJsonString());
        Assert.Equal("/guest/vmlinuz", (string?)adapted["b_info"]!["kernel"]);
        Assert.Equal("/usr/libexec/xen-qemu-system-i386", (string?)adapted["b_info"]!["device_model"]);
        Assert.Contains("cpus = \"1\"\n", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("target=/scratch/hvm-prod-7-xvda.img'", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("vif = [ 'mac=00:16:3e:11:22:33,bridge=xenbr0' ]", r.XlCfg, StringComparison.Ordinal);
        Assert.Contains("kernel = \"/guest/vmlinuz\"\n", r.XlCfg, StringComparison.Ordinal);
    }

    [Fact]
    public void The_rewritten_copy_carries_the_adapted_config_and_the_rest_of_the_stream_byte_for_byte()
    {
        byte[] tail = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        byte[] original = Stream(ForeignHvm, tail: tail);
        byte[] before = original.ToArray();
        AdaptedConfig r = Adapt(original);
        using var copy = new MemoryStream();
        long written = ConfigAdapter.RewriteXlHeader(new MemoryStream(original), copy, r);
        byte[] rewritten = copy.ToArray();
        Assert.Equal(before, original);
        Assert.Equal(rewritten.Length, written);
        Assert.Equal(tail, rewritten[^tail.Length..]);
        ConfigAdapter.XlHeaderInfo header = ConfigAdapter.ReadXlHeader(new MemoryStream(rewritten));
        Assert.True(header.IsJson);
        Assert.Equal(r.Adapted, header.Config.ToArray());
        DomainConfig again = DomainConfig.ParseXlOptionalData(header.OptionalData, json: true)!;
        Assert.Equal((r.Original.Type, r.Original.Vcpus, r.Original.MemoryPages, r.Original.Name), (again.Type, again.Vcpus, again.MemoryPages, again.Name));
        // adapting the adapted copy again changes nothing more
        Assert.Empty(Adapt(rewritten).Changes);
    }

    [Fact]
    public void An_xl_cfg_text_config_is_adapted_line_by_line()
    {
        const string cfg = "name = \"old-pv\"\nmemory = 256\nvcpus = 2\nkernel = \"/boot/vmlinuz\"\ndisk = [ 'phy:/dev/vg/x,xvda,w' ]\n"
            + "vif = [ 'mac=00:16:3e:00:00:01,bridge=br9,script=vif-bridge' ]\ncpus = \"4-7\"\nserial = 'pty'\n";
        AdaptedConfig dropped = Adapt(Stream(cfg, json: false));
        Assert.False(dropped.IsJson);
        Assert.DoesNotContain("\ndisk", dropped.XlCfg, StringComparison.Ordinal);
        Assert.DoesNotContain("\nvif", dropped.XlCfg, StringComparison.Ordinal);
        Assert.DoesNotContain("\ncpus", dropped.XlCfg, StringComparison.Ordinal);
        Assert.Contains("memory = 256\n", dropped.XlCfg, StringComparison.Ordinal);
        Assert.Contains("serial = \"file:/var/log/xen/console/guest-old-pv-serial.log\"", dropped.XlCfg, StringComparison.Ordinal);
        AdaptedConfig mapped = Adapt(Stream(cfg, json: false), new ConfigAdaptOptions { ScratchDir = "/s", Bridge = "xenbr0" });
        Assert.Contains("disk = [ 'format=raw, vdev=xvda, access=rw, backendtype=qdisk, target=/s/old-pv-xvda.img' ]", mapped.XlCfg, StringComparison.Ordinal);
        Assert.Contains("vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]", mapped.XlCfg, StringComparison.Ordinal);
        Assert.False(Assert.Single(mapped.Disks).SizeKnown);
    }

    [Fact]
    public void A_stream_without_an_xl_header_or_with_a_huge_optional_length_is_refused_by_offset_and_field()
    {
        var none = Assert.Throws<StreamFormatException>(() => ConfigAdapter.ReadXlHeader(new MemoryStream(new byte[100])));
        Assert.Equal(("magic", 0L), (none.Field, none.Offset));
        byte[] huge = Stream(ForeignHvm);
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(XlWire.OptionalDataLengthOffset), 0xFFFF_FFF0u);
        var big = Assert.Throws<StreamFormatException>(() => ConfigAdapter.ReadXlHeader(new MemoryStream(huge)));
        Assert.Equal(("optional_data_len", (long)XlWire.OptionalDataLengthOffset), (big.Field, big.Offset));
        byte[] cut = Stream(ForeignHvm)[..60];
        Assert.True(Assert.Throws<StreamFormatException>(() => ConfigAdapter.ReadXlHeader(new MemoryStream(cut))).IsTruncation);
    }

    [Fact]
    public void The_cli_writes_the_config_beside_the_stream_a_named_copy_and_a_json_report_and_never_touches_the_input()
    {
        using var dir = new TempDir();
        string input = dir.File("foreign.s2r");
        File.WriteAllBytes(input, Stream(ForeignHvm));
        byte[] before = File.ReadAllBytes(input);
        string cfg = dir.File("foreign.cfg"), copy = dir.File("foreign.adapted.s2r"), report = dir.File("foreign.adapt.json");
        var (code, stdout, stderr) = CaptureTestSupport.RunCli(null, "config", "--adapt", input, "-o", cfg, "--rewrite", copy, "--report", report, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(before, File.ReadAllBytes(input));
        Assert.Contains("serial = \"file:/var/log/xen/console/guest-hvm-prod-7-serial.log\"", File.ReadAllText(cfg), StringComparison.Ordinal);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal(File.ReadAllText(report), Encoding.UTF8.GetString(stdout).TrimEnd('\n'));
        Assert.Equal("hvm-prod-7", (string?)json["name"]);
        Assert.Contains(json["changes"]!.AsArray(), c => (string?)c!["field"] == "disks[xvda]" && (string?)c["to"] is null);
        Assert.Equal(new FileInfo(copy).Length, (long)json["rewrittenBytes"]!);
        Assert.Contains("changed b_info.type.hvm.serial: file:/root/out/hvm-prod-7/ttyS0.log -> file:/var/log/xen/console/guest-hvm-prod-7-serial.log", stderr, StringComparison.Ordinal);

        var (same, _, sameErr) = CaptureTestSupport.RunCli(null, "config", "--adapt", input, "-o", cfg, "--rewrite", input);
        Assert.Equal(2, same);
        Assert.Contains("never altered", sameErr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(input));

        string notXl = dir.File("libxc.bin");
        File.WriteAllBytes(notXl, new byte[64]);
        var (bad, _, badErr) = CaptureTestSupport.RunCli(null, "config", notXl);
        Assert.Equal(1, bad);
        Assert.Contains("no xl save-file header", badErr, StringComparison.Ordinal);

        var (show, shown, _) = CaptureTestSupport.RunCli(null, "config", input);
        Assert.Equal(0, show);
        Assert.Contains("/root/out/hvm-prod-7/ttyS0.log", Encoding.UTF8.GetString(shown), StringComparison.Ordinal);
    }
}
