using StreamBench.Cli.Commands;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Golden;

/// <summary>Golden snapshots of <c>streambench dump</c> for every stream in corpus/ (DumpGoldenTests.*.verified.txt).</summary>
public sealed class DumpGoldenTests
{
    public static IEnumerable<object[]> Streams => Corpus.Names();

    [Theory]
    [MemberData(nameof(Streams))]
    public void Dump_of_every_corpus_stream_matches_its_snapshot(string name)
    {
        var stream = Corpus.Get(name);
        using var text = new StringWriter();
        text.WriteLine($"# {stream.Name}: {stream.What}");
        var source = ByteSource.Open(stream.Path);
        if (stream.Format == OuterFormat.Legacy || (stream.Format == OuterFormat.Auto && XenStreamReader.DetectFormat(source) == OuterFormat.Legacy))
        {
            using var legacy = new LegacyStreamReader(source, ownsSource: true);
            DumpCommand.WriteLegacyText(legacy, text);
        }
        else
        {
            using var reader = new XenStreamReader(source, stream.ReaderOptions, ownsSource: true);
            DumpCommand.WriteText(reader, text);
        }
        Snapshot.Match(text.ToString(), name.Replace('/', '_'));
    }
}
