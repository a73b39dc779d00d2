using StreamBench.Formats;
using StreamBench.Formats.Streams;
using Xunit;

namespace StreamBench.Tests.Streams;

/// <summary><see cref="StreamFormatException.Layer"/> is typed; messages print the names they printed as strings.</summary>
public sealed class ErrorLayerTests
{
    [Fact]
    public void Every_layer_has_the_name_messages_print()
    {
        var names = Enum.GetValues<ErrorLayer>().Select(l => l.Name()).ToList();
        Assert.Equal(["stream", "input", "capture", "zstd", "xl", "libxl", "libxc", "legacy", "back-channel", "migrate"], names);
    }

    [Fact]
    public void A_reader_layer_maps_to_its_error_layer_by_name()
    {
        foreach (var layer in Enum.GetValues<StreamLayer>().Where(l => l != StreamLayer.None))
        {
            Assert.Equal(XenStreamReader.LayerName(layer), ErrorLayers.Of(layer).Name());
        }
        Assert.Equal(ErrorLayer.Stream, ErrorLayers.Of(StreamLayer.None));
    }

    [Fact]
    public void The_message_names_the_layer()
    {
        var e = new StreamFormatException("bad", 16, ErrorLayer.BackChannel, 2, "CHECKPOINT_STATE", "control_id");
        Assert.Equal(ErrorLayer.BackChannel, e.Layer);
        Assert.Equal("offset 16 (0x10), back-channel record #2 CHECKPOINT_STATE, field control_id: bad", e.Message);
    }
}
