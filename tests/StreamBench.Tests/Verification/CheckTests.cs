using StreamBench.Formats.Verification;
using Xunit;

namespace StreamBench.Tests.Verification;

/// <summary>
/// One test per check: a valid stream passes every profile (<see cref="VerifierTests"/>); a stream with exactly that
/// defect is reported by the profiles that make the check, at the right offset, record index and field, and the
/// profiles that do not make it accept the stream (unless the case names other rejecting profiles).
/// </summary>
public sealed class CheckTests
{
    private static readonly string[] XenOnly = ["libxc.record.unknown-type", "libxl.header.big-endian-ignored", "libxc.image.big-endian-ignored"];

    public static TheoryData<string> Cases => new(CheckCases.All_.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_stream_with_one_defect_is_reported_by_exactly_the_profiles_that_make_the_check(string name)
    {
        var c = CheckCases.All_[name];
        var check = VerificationChecks.Find(c.Check);
        Assert.True(check is not null, $"no check {c.Check} in the catalog");
        var rejectedBy = c.RejectedBy ?? (check.Severity == FindingSeverity.Error ? check.Profiles : ProfileSet.None);
        var stream = c.Build();
        foreach (var profile in VerifierTests.Profiles)
        {
            var r = c.Run is not null ? c.Run(stream, profile) : VerifierTests.Verify(stream, profile, c.Mode);
            var found = r.Of(c.Check).ToList();
            var context = $"{name} [{profile}]\n{VerifierTests.Describe(r)}";
            if (((c.ReportedBy ?? check.Profiles) & profile.Bit()) != 0)
            {
                Assert.True(found.Count > 0, "expected a finding of " + c.Check + ": " + context);
                var f = found[0];
                Assert.Equal(check.Severity, f.Severity);
                if (c.Offset is not null)
                {
                    Assert.True(c.Offset(stream) == f.Offset, $"offset: expected {c.Offset(stream)}, found {f.Offset}: {context}");
                }
                if (c.Index is not null)
                {
                    Assert.True(c.Index(stream) == f.RecordIndex, $"record index: expected {c.Index(stream)}, found {f.RecordIndex}: {context}");
                }
                if (c.Field is not null)
                {
                    Assert.True(c.Field == f.Field, $"field: expected {c.Field}, found {f.Field}: {context}");
                }
                if (f.Severity == FindingSeverity.Error)
                {
                    Assert.Contains("expected", f.Message, StringComparison.Ordinal);
                }
            }
            else
            {
                Assert.True(found.Count == 0, "expected no finding of " + c.Check + ": " + context);
            }
            var rejects = (rejectedBy & profile.Bit()) != 0;
            Assert.True(rejects != r.IsValid, $"expected the {profile} profile to {(rejects ? "reject" : "accept")} the stream: {context}");
            foreach (var f in r.Findings)
            {
                Assert.InRange(f.Offset, 0, stream.Length);
            }
        }
    }

    [Fact]
    public void Every_check_in_the_catalog_has_a_defect_case()
    {
        var covered = CheckCases.All_.Values.Select(c => c.Check).ToHashSet();
        var missing = VerificationChecks.All.Where(c => !covered.Contains(c.Id)).Select(c => c.Id).ToList();
        Assert.True(missing.Count == 0, "checks without a case: " + string.Join(", ", missing));
    }

    [Fact]
    public void Check_ids_are_unique_and_every_profile_has_checks()
    {
        var ids = VerificationChecks.All.Select(c => c.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var xen = VerificationChecks.For(VerificationProfile.Xen);
        var restore = VerificationChecks.For(VerificationProfile.Restore);
        var strict = VerificationChecks.For(VerificationProfile.Strict);
        Assert.NotEmpty(xen);
        // restore adds checks and drops only verify-stream-v2's quirks (unknown optional records, the BE dead code).
        Assert.All(xen.Except(restore), c => Assert.Contains(c.Id, XenOnly));
        Assert.True(restore.Count > xen.Count);
        // strict is restore plus more, except that it reports trailing data as an error instead of an info.
        Assert.All(restore.Except(strict), c => Assert.Equal("stream.trailing-data-ignored", c.Id));
        Assert.True(strict.Count > restore.Count);
    }
}
