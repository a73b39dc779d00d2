using System.Reflection;
using StreamBench.Engine.Restore;
using StreamBench.Formats.Verification;
using Xunit;

namespace StreamBench.Tests.Verification;

/// <summary>
/// Each typed check sits in the class of its layer, and the engine's own checks (RestoreChecks) are either restore
/// checks no verifier profile makes or the verifier's own check objects. (VerificationCatalogListTests proves the
/// explicit catalog list.)
/// </summary>
public sealed class CatalogListTests
{
    public static TheoryData<Type, CheckLayer> LayerClasses() => new()
    {
        { typeof(StreamChecks), CheckLayer.Stream },
        { typeof(XlChecks), CheckLayer.Xl },
        { typeof(LibxlChecks), CheckLayer.Libxl },
        { typeof(LibxcChecks), CheckLayer.Libxc },
        { typeof(PostcopyChecks), CheckLayer.Postcopy },
        { typeof(BackChannelChecks), CheckLayer.BackChannel },
    };

    [Theory]
    [MemberData(nameof(LayerClasses))]
    public void Each_check_is_declared_in_the_class_of_its_layer(Type checks, CheckLayer layer)
    {
        var declared = checks.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(VerificationCheck))
            .Select(f => (VerificationCheck)f.GetValue(null)!)
            .ToList();

        Assert.NotEmpty(declared);
        Assert.All(declared, c => Assert.Equal(layer, c.Layer));
    }

    [Fact]
    public void The_engines_own_checks_are_restore_checks_and_the_rest_come_from_the_catalog()
    {
        var engine = typeof(RestoreChecks).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(VerificationCheck))
            .Select(f => (VerificationCheck)f.GetValue(null)!)
            .ToList();

        Assert.NotEmpty(engine);
        foreach (var c in engine)
        {
            if (c.Layer == CheckLayer.Restore)
            {
                Assert.Null(VerificationChecks.Find(c.Id));
                Assert.Equal(ProfileSet.None, c.Profiles);
            }
            else if (VerificationChecks.Find(c.Id) is { } catalogued)
            {
                Assert.Same(catalogued, c);
            }
        }
    }
}
