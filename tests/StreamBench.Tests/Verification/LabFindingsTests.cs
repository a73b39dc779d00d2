using System.Globalization;
using StreamBench.Formats.Verification;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Verification;

/// <summary>
/// corpus/findings: the streams that made real Xen misbehave in the lab (docs/XENLAB.md, "Findings"), each a patch
/// spec of a corpus/real capture. Each line of its MANIFEST.tsv records our <c>verify --profile restore</c> verdict on
/// the stream (and, for INVALID, the check that rejects it, in brackets); this keeps those columns true to the
/// verifier without a lab boot. A stream fed to a Remus receiver (<c>remus-receive</c>) is verified as checkpointed,
/// as tools/xenlab/mkfuzz.py's triage does.
/// </summary>
public sealed class LabFindingsTests
{
    private static readonly string Folder = Path.Combine(Corpus.Root, "corpus", "findings");

    /// <summary>The manifest's finding names.</summary>
    public static IEnumerable<object[]> Names() => Rows().Select(r => new object[] { r.Name });

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_finding_gets_the_verdict_its_manifest_records(string name)
    {
        Row row = Rows().Single(r => r.Name == name);
        byte[] stream = Apply(Path.Combine(Folder, name + ".bad"), out string baseName);
        Assert.Equal(row.Base, baseName);

        CheckpointMode checkpoints = row.Command == "remus-receive" ? CheckpointMode.Checkpointed : CheckpointMode.Auto;
        VerifyResult result = Verifier.Verify(stream, VerifierOptions.Create(VerificationProfile.Restore, checkpoints: checkpoints));
        Assert.True(result.IsValid == (row.Verify == "VALID"), $"{name}: the manifest says {row.Verify}; {VerifierTests.Describe(result)}");
        if (row.Verify == "INVALID")
        {
            int open = row.Check.LastIndexOf('[');
            Assert.True(open >= 0 && row.Check.EndsWith(']'), $"{name}: verify_check names no [check] for an INVALID verdict");
            string check = row.Check[(open + 1)..^1];
            Assert.Contains(result.Findings, f => f.CheckId == check && f.Severity == FindingSeverity.Error);
        }
    }

    [Fact]
    public void Every_spec_has_a_manifest_line_and_every_line_a_spec()
    {
        var specs = Directory.EnumerateFiles(Folder, "*.bad").Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal);
        var lines = Rows().Select(r => r.Name).Order(StringComparer.Ordinal);
        Assert.Equal(specs, lines);
    }

    private sealed record Row(string Name, string Base, string Xen, string Command, string Class, string Verify, string Check);

    private static List<Row> Rows()
    {
        string[] lines = File.ReadAllLines(Path.Combine(Folder, "MANIFEST.tsv"));
        string[] header = lines[0].Split('\t');
        int Col(string column) => Array.IndexOf(header, column);
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t')).Select(c => new Row(
            c[Col("name")], c[Col("base")], c[Col("xen")], c[Col("command")], c[Col("class")], c[Col("verify")], c[Col("verify_check")])).ToList();
    }

    /// <summary>mkfuzz.py's spec format: <c>base NAME</c>, then <c>truncate LENGTH</c> and <c>poke OFFSET HEX</c> lines.</summary>
    private static byte[] Apply(string spec, out string baseName)
    {
        string? name = null;
        long? truncate = null;
        var pokes = new List<(long Offset, byte[] Bytes)>();
        foreach (string raw in File.ReadAllLines(spec))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            string[] w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (w[0])
            {
                case "base": name = w[1]; break;
                case "truncate": truncate = long.Parse(w[1], CultureInfo.InvariantCulture); break;
                case "poke": pokes.Add((long.Parse(w[1], CultureInfo.InvariantCulture), Convert.FromHexString(w[2]))); break;
                default: throw new InvalidDataException($"{spec}: unknown line '{line}'");
            }
        }
        baseName = name ?? throw new InvalidDataException($"{spec}: no base line");
        byte[] bytes = File.ReadAllBytes(Corpus.Get("real/" + baseName + ".zst").Path);
        if (truncate is long cut)
        {
            Array.Resize(ref bytes, checked((int)cut));
        }
        foreach ((long offset, byte[] poke) in pokes)
        {
            poke.CopyTo(bytes, checked((int)offset));
        }
        return bytes;
    }
}
