namespace StreamBench.Formats.Verification;

/// <summary>
/// The checks of the xl save-file header, in catalog order. Every check is a typed value: the verifier reports it, the restore engine
/// refuses with it (<see cref="StreamFormatException.Check"/>), and a misspelt name does not compile.
/// </summary>
public static class XlChecks
{
    public static readonly VerificationCheck Magic = new("xl.magic", ProfileSet.All, FindingSeverity.Error,
        "The first 32 bytes are the xl magic \"Xen saved domain, xl format\\n \\0 \\r\".", "verify 1 (\"No xl header\"); xl_vmcontrol.c", fatal: true);
    public static readonly VerificationCheck BigEndian = new("xl.big-endian", ProfileSet.All, FindingSeverity.Error,
        "The xl header is not big-endian (byteorder 0x01020304 stored big-endian): verify-stream-v2 reads its fields as little-endian and misframes the rest; xl refuses it.",
        "verify 1 (reads \"=IIII\" natively); xl_vmcontrol.c (\"File has wrong byte order\")");
    public static readonly VerificationCheck ByteOrder = new("xl.byteorder", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "byteorder is 0x01020304 in little-endian order (xl refuses other byte orders).", "xl_vmcontrol.c (\"File has wrong byte order\")");
    public static readonly VerificationCheck MandatoryFlags = new("xl.mandatory-flags", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "mandatory_flags has no bits but JSON (0) and STREAMv2 (1).", "xl_vmcontrol.c (\"Savefile has mandatory flag(s) ... need newer xl\")");
    public static readonly VerificationCheck OptionalData = new("xl.optional-data", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "Non-empty optional data holds a u32 config size and that many config bytes.", "xl_vmcontrol.c WITH_OPTDATA (\"Savefile truncated\")");
    public static readonly VerificationCheck LegacyFlag = new("xl.legacy-flag", ProfileSet.RestoreAndStrict, FindingSeverity.Error,
        "Without STREAMv2, libxl runs convert-legacy-stream on the rest, so a XENF image must not follow.",
        "libxl_create.c / libxl_convert_callout.c; FORMATS.md 6.4");
    public static readonly VerificationCheck OptionalFlags = new("xl.optional-flags", ProfileSet.Strict, FindingSeverity.Warning,
        "optional_flags is zero (xl 4.17 defines no optional flag and ignores them).", "tools/xl/xl.h");
    public static readonly VerificationCheck ConfigMissing = new("xl.config-missing", ProfileSet.Strict, FindingSeverity.Warning,
        "The save file carries the domain config (else xl restore needs one on its command line).", "xl_vmcontrol.c (\"Config file not specified and none in save file\")");
}
