using StreamBench.Domain;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace StreamBench.Tests.Engine;

/// <summary>
/// Real Xen 4.17 captures (corpus/real, when present): each save stream restores into the simulation and saves back
/// into a stream that verifies strict, and that second stream restores to the same domain. Runs over whatever
/// corpus/real holds; with no captures it says so and passes.
/// </summary>
public sealed class RealStreamTests(ITestOutputHelper output)
{
    private const string None = "(no real captures)";

    public static TheoryData<string> RealStreams()
    {
        var data = new TheoryData<string>();
        foreach (object[] row in Corpus.Names("real"))
        {
            CorpusStream s = Corpus.Get((string)row[0]);
            if (s.Format is OuterFormat.Auto or OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc)
            {
                data.Add(s.Name);
            }
        }

        if (data.Count == 0)
        {
            data.Add(None);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RealStreams))]
    public void A_real_stream_restores_and_saves_back_into_a_strictly_valid_stream(string name)
    {
        if (name == None)
        {
            output.WriteLine("corpus/real holds no captures yet: nothing to restore.");
            return;
        }

        CorpusStream s = Corpus.Get(name);
        OuterFormat detected;
        using (ByteSource probe = ByteSource.Open(s.Path))
        {
            detected = XenStreamReader.DetectFormat(probe);
        }

        if (detected is not (OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc))
        {
            output.WriteLine($"{name}: {detected} is not a save stream (the receiving side of a migration?): nothing to restore.");
            return;
        }

        // Real guests: 128 MiB (the config is in the xl header; libxc/libxl captures take the lab's size and may use holes).
        var options = new RestoreOptions
        {
            Reader = s.ReaderOptions,
            MemoryPages = detected == OuterFormat.Xl ? null : 128 * 256,
            OpenMemoryMap = detected == OuterFormat.Xl ? null : true,
        };

        // The restore refuses exactly what the verifier's restore profile refuses (a capture of a failed migration, say).
        VerifyResult profile = Verifier.Verify(s.Path, new VerifierOptions { Profile = VerificationProfile.Restore, Reader = s.ReaderOptions });
        if (!profile.IsValid)
        {
            StreamBench.Formats.StreamFormatException refused = Assert.Throws<StreamBench.Formats.StreamFormatException>(() => RestoreEngine.Restore(s.Path, options));
            output.WriteLine($"{name}: refused, as the restore profile does ({profile.FirstError}): {refused.Message}");
            return;
        }

        RestoreResult restored = RestoreEngine.Restore(s.Path, options);
        using GuestDomain domain = restored.Domain;
        output.WriteLine($"{name}: {restored.Config}, Xen {restored.XenVersion.Major}.{restored.XenVersion.Minor}, {restored.Records} records, " +
            $"{restored.DataPages} pages, checkpoints {restored.CheckpointsApplied}{(restored.FailedOver ? " (failover)" : "")}");

        using var again = new MemoryStream();
        SaveEngine.Save(domain, again, new SaveOptions { Format = SaveFormat.Xl });
        VerifyResult verdict = Verifier.Verify(again.ToArray(), VerifierOptions.Create(VerificationProfile.Strict));
        Assert.True(verdict.IsValid, $"{name} saved back: {verdict.FirstError}");

        RestoreResult second = EngineTestSupport.Restore(again.ToArray());
        using GuestDomain copy = second.Domain;
        Assert.Equal(domain.ComputeDigest(), copy.ComputeDigest());

        if (detected == OuterFormat.Xl)
        {
            // `restore --save-to` (the lab's engine-roundtrip, which real xl restores): the save file's own config
            // text goes back into the xl header unchanged, so xl recreates the same domain.
            using var roundTrip = new MemoryStream();
            SaveEngine.Save(domain, roundTrip, new SaveOptions { Format = SaveFormat.Xl, Config = restored.Config, XenVersion = restored.XenVersion, EmulatorContext = restored.EmulatorContext });
            if (name.Contains("/save-", StringComparison.Ordinal))
            {
                Assert.Equal(new FileInfo(s.Path).Length, roundTrip.Length); // one pass, same records: only page contents may differ
            }

            Assert.Equal(XlOptionalData(File.ReadAllBytes(s.Path)), XlOptionalData(roundTrip.ToArray()));
            Assert.True(Verifier.Verify(roundTrip.ToArray(), VerifierOptions.Create(VerificationProfile.Strict)).IsValid);
        }
    }

    private static byte[] XlOptionalData(byte[] stream)
    {
        using var reader = XenStreamReader.FromMemory(stream, new XenStreamReaderOptions { Format = OuterFormat.Xl });
        Assert.True(reader.Read());
        Assert.NotNull(reader.XlHeader);
        return reader.GetBody().ToArray();
    }
}
