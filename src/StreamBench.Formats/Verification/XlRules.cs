using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.XlChecks;

namespace StreamBench.Formats.Verification;

/// <summary>The xl save-file header (FORMATS.md 1): verify-stream-v2's magic check, and what xl's restore checks.</summary>
internal sealed class XlRules(VerificationContext ctx)
{
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
