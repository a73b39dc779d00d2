using System.Reflection;
using StreamBench.Engine.Restore;
using StreamBench.Formats.Verification;
using Xunit;

namespace StreamBench.Tests.Verification;

/// <summary>
/// The check catalog is an explicit list (trim-safe, no reflection at run time): here reflection proves that the list
/// holds every declared check exactly once, in declaration order, and that the engine's own checks do not collide
/// with the verifier's.
/// </summary>
public sealed class CatalogListTests
{
    private static readonly Type[] LayerClasses =
        [typeof(StreamChecks), typeof(XlChecks), typeof(LibxlChecks), typeof(LibxcChecks), typeof(PostcopyChecks), typeof(BackChannelChecks)];

    [Fact]
    public void The_explicit_catalog_lists_every_declared_check_in_declaration_order()
    {
        var declared = LayerClasses
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.FieldType == typeof(VerificationCheck))
            .Select(f => (VerificationCheck)f.GetValue(null)!)
            .ToList();

        Assert.Equal(declared.Select(c => c.Id), VerificationChecks.All.Select(c => c.Id));
        Assert.Equal(VerificationChecks.All.Count, VerificationChecks.All.Select(c => c.Id).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Each_check_is_declared_in_the_class_of_its_layer()
    {
        foreach (var c in VerificationChecks.All)
        {
            Assert.StartsWith(c.Layer.Name() + ".", c.Id, StringComparison.Ordinal);
        }
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
            else
            {
                Assert.Same(VerificationChecks.Find(c.Id), c);
            }
        }
    }
}
