using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace StreamBench.Capture.Recording;

/// <summary>HOST:PORT parsing and resolution for the proxy and the replayer.</summary>
public static class Endpoints
{
    /// <summary>Splits "HOST:PORT" (also "[v6]:PORT" and ":PORT" = any address).</summary>
    public static (string Host, int Port) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
        {
            throw new ArgumentException($"'{text}' is not HOST:PORT");
        }
        var host = text[..colon].Trim('[', ']');
        return (host.Length == 0 ? "0.0.0.0" : host, port);
    }

    /// <summary>Resolves HOST:PORT to one address (IPv4 first).</summary>
    public static IPEndPoint Resolve(string text)
    {
        var (host, port) = Parse(text);
        if (IPAddress.TryParse(host, out var ip))
        {
            return new IPEndPoint(ip, port);
        }
        var addresses = Dns.GetHostAddresses(host);
        var pick = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new ArgumentException($"'{host}' does not resolve");
        return new IPEndPoint(pick, port);
    }

    /// <summary>Large socket buffers and no Nagle delay: protocol messages go out at once, bulk data in big segments.</summary>
    public static void Tune(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
        socket.ReceiveBufferSize = 4 << 20;
        socket.SendBufferSize = 4 << 20;
    }
}
