using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Verification;

/// <summary>The xl save-file header (FORMAT.md 1): verify-stream-v2's magic check, and what xl's restore checks.</summary>
internal sealed class XlRules(VerificationContext ctx)
{
    internal static readonly VerificationCheck Magic = new("xl.magic", ProfileSet.All, FindingSeverity.Error,
        "The first 32 bytes are the xl magic \"Xen saved domain, xl format\\n \\0 \\r\".", "verify 1 (\"No xl header\"); xl_vmcontrol.c", fatal: true);
    internal static readonly VerificationCheck BigEndian = new("xl.big-endian", ProfileSet.All, FindingSeverity.Error,
        "The xl header is not big-endian (byteorder 0x01020304 stored big-endian): verify-stream-v2 reads its fields as little-endian and misframes the rest; xl refuses it.",
        "verify 1 (reads \"=IIII\" natively); xl_vmcontrol.c (\"File has wrong byte order\")");
    internal static readonly VerificationCheck ByteOrder = new("xl.byteorder", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "byteorder is 0x01020304 in little-endian order (xl refuses other byte orders).", "xl_vmcontrol.c (\"File has wrong byte order\")");
    internal static readonly VerificationCheck MandatoryFlags = new("xl.mandatory-flags", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "mandatory_flags has no bits but JSON (0) and STREAMv2 (1).", "xl_vmcontrol.c (\"Savefile has mandatory flag(s) ... need newer xl\")");
    internal static readonly VerificationCheck OptionalData = new("xl.optional-data", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "Non-empty optional data holds a u32 config size and that many config bytes.", "xl_vmcontrol.c WITH_OPTDATA (\"Savefile truncated\")");
    internal static readonly VerificationCheck LegacyFlag = new("xl.legacy-flag", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "Without STREAMv2, libxl runs convert-legacy-stream on the rest, so a XENF image must not follow.",
        "libxl_create.c / libxl_convert_callout.c; FORMAT.md 6.4");
    internal static readonly VerificationCheck OptionalFlags = new("xl.optional-flags", ProfileSet.Strict, FindingSeverity.Warning,
        "optional_flags is zero (xl 4.17 defines no optional flag and ignores them).", "tools/xl/xl.h");
    internal static readonly VerificationCheck ConfigMissing = new("xl.config-missing", ProfileSet.Strict, FindingSeverity.Warning,
        "The save file carries the domain config (else xl restore needs one on its command line).", "xl_vmcontrol.c (\"Config file not specified and none in save file\")");

    /// <summary>The xl header item; its body is the optional data.</summary>
    public void Header()
    {
        var r = ctx.Reader;
        var h = r.XlHeader!.Value;
        ctx.Summary.XlHeader = h;
        if (!ctx.XlMagicOk)
        {
            ctx.ReportAtItem(Magic, 0, "magic", "expected the xl save-file magic \"Xen saved domain, xl format\\n \\0 \\r\", found other bytes");
            return;
        }
        if (h.BigEndian)
        {
            ctx.ReportAtItem(BigEndian, XlWire.ByteOrderOffset, "byteorder",
                "expected a little-endian header (byteorder bytes 04 03 02 01), found a big-endian one (01 02 03 04)");
        }
        else if (h.ByteOrder != XlWire.ByteOrderMarker)
        {
            ctx.ReportAtItem(ByteOrder, XlWire.ByteOrderOffset, "byteorder",
                string.Create(CultureInfo.InvariantCulture, $"expected 0x{XlWire.ByteOrderMarker:x8} (little-endian), found 0x{h.ByteOrder:x8}"));
        }
        var unknown = (uint)h.MandatoryFlags & ~(uint)XlMandatoryFlags.Known;
        if (unknown != 0)
        {
            ctx.ReportAtItem(MandatoryFlags, XlWire.MandatoryFlagsOffset, "mandatory_flags",
                string.Create(CultureInfo.InvariantCulture, $"expected only bits 0 (JSON) and 1 (STREAMv2), found unknown bits 0x{unknown:x}"));
        }
        if (h.OptionalFlags != 0)
        {
            ctx.ReportAtItem(OptionalFlags, XlWire.OptionalFlagsOffset, "optional_flags",
                string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{h.OptionalFlags:x}"));
        }
        var optLength = r.BodyLength;
        if (optLength == 0)
        {
            ctx.ReportAtItem(ConfigMissing, XlWire.OptionalDataLengthOffset, "optional_data_len",
                "expected the domain config in the optional data, found optional_data_len 0");
        }
        else
        {
            var prefix = r.BodyPrefix(4);
            if (prefix.Length < 4)
            {
                ctx.ReportInBody(OptionalData, 0, "config_size",
                    string.Create(CultureInfo.InvariantCulture, $"expected at least 4 bytes of optional data for the config size, found {optLength}"));
            }
            else
            {
                var size = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
                ctx.Summary.XlConfigSize = size;
                if (!XlOptionalData.ConfigFitsIn(size, optLength))
                {
                    ctx.ReportInBody(OptionalData, 0, "config_size", string.Create(CultureInfo.InvariantCulture,
                        $"expected a config size of at most {optLength - 4} (optional_data_len {optLength} - 4), found {size}"));
                }
            }
        }
    }

    /// <summary>Called when the first item after the xl header is known: a libxc image while STREAMv2 is clear.</summary>
    public void LibxcFollows()
    {
        var h = ctx.Summary.XlHeader;
        if (h is { } header && (header.MandatoryFlags & XlMandatoryFlags.StreamV2) == 0)
        {
            ctx.ReportAtItem(LegacyFlag, 0, null,
                "expected a legacy image after an xl header without STREAMv2 (libxl converts it), found a XENF v2/v3 image header");
        }
    }
}
