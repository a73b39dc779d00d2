using System.Buffers.Binary;
using System.Security.Cryptography;

namespace StreamBench.Domain.Digest;

/// <summary>
/// SHA-256 over a domain's canonical form (<see cref="CanonicalForm"/>). Equal guest-visible
/// state gives equal digests whatever the mfn layout; any single change to a page byte, a param,
/// a vCPU byte, a policy entry or the geometry changes it. Page data is hashed straight from the
/// page store; only normalised page tables and canonical structures are copied.
/// </summary>
public sealed class DomainDigest : IEquatable<DomainDigest>
{
    private readonly byte[] _hash;

    private DomainDigest(byte[] hash) => _hash = hash;

    /// <summary>The 32 hash bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _hash;

    /// <summary>Computes the digest of <paramref name="domain"/>.</summary>
    public static DomainDigest Compute(GuestDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (CanonicalItem item in CanonicalForm.Enumerate(domain))
        {
            Append(sha, item);
        }

        return new DomainDigest(sha.GetHashAndReset());
    }

    /// <summary>Hashes one item: section, tag, key and data length (14 bytes), then the data.</summary>
    internal static void Append(IncrementalHash sha, in CanonicalItem item)
    {
        Span<byte> itemHeader = stackalloc byte[14];
        itemHeader[0] = (byte)item.Section;
        itemHeader[1] = item.Tag;
        BinaryPrimitives.WriteUInt64LittleEndian(itemHeader[2..], item.Key);
        BinaryPrimitives.WriteUInt32LittleEndian(itemHeader[10..], (uint)item.Data.Length);
        sha.AppendData(itemHeader);
        sha.AppendData(item.Data.Span);
    }

    /// <summary>The digest of a finished hash.</summary>
    internal static DomainDigest FromHash(IncrementalHash sha) => new(sha.GetHashAndReset());

    /// <summary>Parses a lowercase or uppercase hex digest.</summary>
    public static DomainDigest Parse(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        if (bytes.Length != 32)
        {
            throw new FormatException($"a domain digest is 32 bytes (64 hex digits), got {bytes.Length}");
        }

        return new DomainDigest(bytes);
    }

    /// <summary>Lowercase hex.</summary>
    public override string ToString() => Convert.ToHexStringLower(_hash);

    /// <inheritdoc/>
    public bool Equals(DomainDigest? other) => other is not null && _hash.AsSpan().SequenceEqual(other._hash);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DomainDigest);

    /// <inheritdoc/>
    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(_hash);

    /// <summary>Equality.</summary>
    public static bool operator ==(DomainDigest? a, DomainDigest? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Inequality.</summary>
    public static bool operator !=(DomainDigest? a, DomainDigest? b) => !(a == b);
}
