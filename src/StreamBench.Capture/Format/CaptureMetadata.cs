using System.Buffers.Binary;
using System.Text;

namespace StreamBench.Capture.Format;

/// <summary>
/// Key/value metadata of a capture. A metadata chunk holds pairs encoded as <c>u16 key_length, key, u32 value_length,
/// value</c> (UTF-8); later chunks add keys or override earlier values (the recorder adds what it learns from the
/// stream, such as the Xen version in the domain header).
/// </summary>
public sealed class CaptureMetadata
{
    /// <summary>Well-known keys.</summary>
    public const string Source = "source", XenVersion = "xen.version", CommandLine = "command", Host = "host",
        StartTime = "start.utc", Tool = "tool", RecordedCommand = "child.command", StreamFormat = "stream.format",
        StreamGuest = "stream.guest", Scrubbed = "scrubbed", Mode = "mode";

    private readonly List<KeyValuePair<string, string>> _pairs = [];

    /// <summary>The pairs in insertion order (keys unique).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Pairs => _pairs;

    /// <summary>A value, or null.</summary>
    public string? this[string key]
    {
        get => _pairs.FirstOrDefault(p => p.Key == key).Value;
        set
        {
            var i = _pairs.FindIndex(p => p.Key == key);
            if (value is null)
            {
                if (i >= 0)
                {
                    _pairs.RemoveAt(i);
                }
                return;
            }
            if (i >= 0)
            {
                _pairs[i] = new(key, value);
            }
            else
            {
                _pairs.Add(new(key, value));
            }
        }
    }

    /// <summary>Adds or overrides every pair of <paramref name="other"/>.</summary>
    public void Merge(CaptureMetadata other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (k, v) in other._pairs)
        {
            this[k] = v;
        }
    }

    /// <summary>The chunk payload.</summary>
    public byte[] ToPayload()
    {
        using var ms = new MemoryStream();
        Span<byte> n = stackalloc byte[4];
        foreach (var (k, v) in _pairs)
        {
            var key = Encoding.UTF8.GetBytes(k);
            var value = Encoding.UTF8.GetBytes(v);
            if (key.Length > CaptureWire.MaxMetadataKey || value.Length > CaptureWire.MaxMetadataValue)
            {
                throw new ArgumentException($"metadata key '{k}' or its value is too long");
            }
            BinaryPrimitives.WriteUInt16LittleEndian(n, (ushort)key.Length);
            ms.Write(n[..2]);
            ms.Write(key);
            BinaryPrimitives.WriteUInt32LittleEndian(n, (uint)value.Length);
            ms.Write(n);
            ms.Write(value);
        }
        return ms.ToArray();
    }

    /// <summary>Parses a payload; null when a length runs past the payload or over a limit.</summary>
    public static CaptureMetadata? Parse(ReadOnlySpan<byte> payload)
    {
        var m = new CaptureMetadata();
        while (!payload.IsEmpty)
        {
            if (payload.Length < 2)
            {
                return null;
            }
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(payload);
            if (keyLength > CaptureWire.MaxMetadataKey || payload.Length < 2 + keyLength + 4)
            {
                return null;
            }
            var key = Encoding.UTF8.GetString(payload.Slice(2, keyLength));
            var valueLength = BinaryPrimitives.ReadUInt32LittleEndian(payload[(2 + keyLength)..]);
            var at = 2 + keyLength + 4;
            if (valueLength > CaptureWire.MaxMetadataValue || valueLength > (uint)(payload.Length - at))
            {
                return null;
            }
            m[key] = Encoding.UTF8.GetString(payload.Slice(at, (int)valueLength));
            payload = payload[(at + (int)valueLength)..];
        }
        return m;
    }
}
