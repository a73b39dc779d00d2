using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using StreamBench.Domain.Hvm;

namespace StreamBench.Domain.Digest;

/// <summary>
/// The <see cref="DomainDigest"/> of an HVM or PVH domain, hashed on a thread of its own while a restore fills the
/// domain instead of after the stream. The restore reports each batch of pages once it has applied it
/// (<see cref="PagesApplied"/>); the hashing thread hashes the canonical page items (the same bytes, in the same
/// order, as <see cref="DomainDigest.Compute"/>) behind it, keeping a copy of the hash state every
/// <see cref="CheckpointPages"/> pages. Pages can only be hashed ahead while they arrive once and in ascending pfn
/// order, so the domain watches every pfn below the last one reported: a later change to such a page (contents,
/// population, type) is noted. <see cref="GuestDomain.ComputeDigest"/> then finishes it (<see cref="TryFinish"/>):
/// from the last hash state before the lowest pfn that is not as it was hashed (changed afterwards, arrived out of
/// order, or not the domain's populated pfn at that place), it hashes the rest of the pages as they are now, then
/// the items after the pages. The header, hashed first, is taken as it most likely will be (every vCPU online, the
/// highest pfn the top of memory or the last special page); a domain that ends otherwise gets its digest from scratch. A plain save restores with nothing to redo but the special pages the restore writes
/// at its end; a live or checkpointed stream, whose pages come again, redoes more, at worst everything. The digest
/// is the same either way.
/// </summary>
public sealed class StreamingDigest : IDisposable
{
    /// <summary>Pages hashed between two saved hash states (the most a finish re-hashes before the first change).</summary>
    public const int CheckpointPages = 1024;

    private const int QueueBatches = 64;

    private readonly HvmDomain _domain;
    private readonly byte[] _header;
    private readonly List<ulong> _hashed = []; // (pfn << 8) | page tag, in the order hashed
    private readonly List<(ulong Pfn, int Index, IncrementalHash State)> _checkpoints = []; // hashing thread; read after Stop
    private readonly BlockingCollection<(int Index, CanonicalItem[] Items, int Count)> _queue = new(QueueBatches); // arrays rented
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Thread _thread;
    private ulong _next;
    private ulong? _outOfOrder;
    private bool _ended;
    private bool _disposed;
    private bool _finished;
    private Exception? _failure;

    private StreamingDigest(HvmDomain domain)
    {
        _domain = domain;
        // The header comes first in the hash but is final only at the end (the highest pfn, the vCPUs' context):
        // hashed as it most likely will be; when it ends otherwise, the finish gives up and the digest is computed.
        _header = CanonicalForm.PredictedHvmHeader(domain);
        _thread = new Thread(Hash) { IsBackground = true, Name = "digest" };
        _thread.Start();
    }

    /// <summary>Pages the finish hashed again (from the saved state before the first change on), for reports and tests.</summary>
    public long PagesRehashed { get; private set; }

    /// <summary>Pages hashed ahead while the restore ran and kept by the finish.</summary>
    public long PagesKept { get; private set; }

    /// <summary>True once <see cref="TryFinish"/> gave the digest.</summary>
    public bool Taken { get; private set; }

    /// <summary>Why <see cref="TryFinish"/> gave no digest (the caller computes it from scratch), or null.</summary>
    public string? VoidReason { get; private set; }

    /// <summary>Starts hashing ahead for <paramref name="domain"/>, or returns null when its type cannot be (PV).</summary>
    public static StreamingDigest? Start(GuestDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (domain is not HvmDomain hvm)
        {
            return null;
        }

        var digest = new StreamingDigest(hvm);
        domain.AttachStreamingDigest(digest);
        return digest;
    }

    /// <summary>
    /// The restore has applied (populated, typed, written) the pages of one batch, <paramref name="pfns"/> in stream
    /// order. Pages in ascending order, each once, are queued for hashing; from the first one out of order on,
    /// nothing more is (the finish hashes from there).
    /// </summary>
    public void PagesApplied(ReadOnlySpan<ulong> pfns)
    {
        if (_outOfOrder is not null || _ended)
        {
            return;
        }

        int start = _hashed.Count;
        CanonicalItem[] items = ArrayPool<CanonicalItem>.Shared.Rent(pfns.Length);
        int count = 0;
        foreach (ulong pfn in pfns)
        {
            if (pfn < _next)
            {
                _outOfOrder = pfn;
                break;
            }

            _next = pfn + 1;
            if (!_domain.IsPopulated(pfn) || CanonicalForm.HvmPageTag(_domain, pfn) is not { } tag)
            {
                continue; // not in the form now; populating it later is a change below the watch
            }

            _hashed.Add((pfn << 8) | tag);
            items[count++] = CanonicalForm.HvmPage(_domain, pfn, tag);
        }

        _domain.WatchPagesBelow(_next);
        if (count > 0)
        {
            _queue.Add((start, items, count));
        }
        else
        {
            ArrayPool<CanonicalItem>.Shared.Return(items);
        }
    }

    /// <summary>
    /// Waits for the hashing thread and returns the digest of the domain as it is now (see the class summary), or
    /// null when it cannot (the domain was discarded, the hashing thread failed, the header changed); the caller then
    /// computes it from scratch. Once: later calls return null.
    /// </summary>
    public DomainDigest? TryFinish()
    {
        Stop();
        if (_disposed || _finished)
        {
            return Void(_disposed ? "the domain was discarded" : "the digest was already taken");
        }

        _finished = true;
        if (_failure is not null)
        {
            return Void($"the hashing thread failed: {_failure.Message}");
        }

        if (!CanonicalForm.HvmHeader(_domain).AsSpan().SequenceEqual(_header))
        {
            return Void("the domain header is not the one hashed first (a vCPU offline, another highest pfn or layout)");
        }

        // The lowest pfn not as hashed: changed afterwards, out of order, or not the populated pfn at its place.
        ulong bound = Math.Min(_domain.PageBelowWatchChanged ?? ulong.MaxValue, _outOfOrder ?? ulong.MaxValue);
        int k = 0;
        foreach (ulong pfn in _domain.PopulatedPfns())
        {
            if (pfn >= bound)
            {
                break;
            }

            if (CanonicalForm.HvmPageTag(_domain, pfn) is not { } tag)
            {
                continue;
            }

            if (k >= _hashed.Count || _hashed[k] != ((pfn << 8) | tag))
            {
                bound = pfn;
                break;
            }

            k++;
        }

        if (k < _hashed.Count && (_hashed[k] >> 8) < bound)
        {
            bound = _hashed[k] >> 8; // a page hashed ahead that is no longer populated
        }

        // Back to the last saved state at or before the bound, then the rest of the pages as they are now.
        int c = _checkpoints.FindLastIndex(cp => cp.Pfn <= bound);
        IncrementalHash sha;
        ulong from;
        if (c < 0)
        {
            sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            DomainDigest.Append(sha, new CanonicalItem(CanonicalSection.Header, 0, 0, _header));
            from = 0;
            PagesKept = 0;
        }
        else
        {
            sha = _checkpoints[c].State.Clone();
            from = _checkpoints[c].Pfn;
            PagesKept = _checkpoints[c].Index;
        }

        using (sha)
        {
            long rehashed = 0;
            foreach (ulong pfn in _domain.PopulatedPfns())
            {
                if (pfn >= from && CanonicalForm.HvmPageTag(_domain, pfn) is { } tag)
                {
                    DomainDigest.Append(sha, CanonicalForm.HvmPage(_domain, pfn, tag));
                    rehashed++;
                }
            }

            foreach (CanonicalItem item in CanonicalForm.HvmAfterPages(_domain))
            {
                DomainDigest.Append(sha, item);
            }

            PagesRehashed = rehashed;
            VoidReason = null;
            Taken = true;
            return DomainDigest.FromHash(sha);
        }
    }

    /// <summary>Stops the hashing thread (it reads the domain's pages: the domain waits for this before it frees them).</summary>
    public void Dispose()
    {
        Stop();
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var cp in _checkpoints)
        {
            cp.State.Dispose();
        }

        _checkpoints.Clear();
        _sha.Dispose();
        _queue.Dispose();
    }

    private DomainDigest? Void(string reason)
    {
        VoidReason = reason;
        return null;
    }

    private void Stop()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        _queue.CompleteAdding();
        _thread.Join();
        _domain.WatchPagesBelow(0);
    }

    private void Hash()
    {
        try
        {
            DomainDigest.Append(_sha, new CanonicalItem(CanonicalSection.Header, 0, 0, _header));
            int sinceCheckpoint = CheckpointPages;
            foreach ((int index, CanonicalItem[] items, int count) in _queue.GetConsumingEnumerable())
            {
                if (sinceCheckpoint >= CheckpointPages)
                {
                    _checkpoints.Add((items[0].Key, index, _sha.Clone()));
                    sinceCheckpoint = 0;
                }

                foreach (CanonicalItem item in items.AsSpan(0, count))
                {
                    // A materialised page may still be all zeros: the form marks it (PageItem), as Compute does.
                    DomainDigest.Append(_sha, item.Data.IsEmpty ? item : CanonicalForm.PageItem(item.Key, item.Tag, item.Data));
                }

                sinceCheckpoint += count;
                ArrayPool<CanonicalItem>.Shared.Return(items, clearArray: true);
            }
        }
        catch (Exception e) when (e is CryptographicException or InvalidOperationException or ObjectDisposedException)
        {
            // The finish computes the digest from scratch; the restore must not block on a full queue meanwhile.
            _failure = e;
            foreach ((_, CanonicalItem[] items, _) in _queue.GetConsumingEnumerable())
            {
                ArrayPool<CanonicalItem>.Shared.Return(items, clearArray: true);
            }
        }
    }
}
