namespace StreamBench.Domain.Pages;

/// <summary>
/// The domain's log-dirty bitmap, modelled on Xen's shadow log-dirty ops
/// (XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY / CLEAN / PEEK / OFF). While enabled, every guest
/// write (and every newly populated page) marks its pfn. The saver's pre-copy loop calls
/// <see cref="Clean()"/> between iterations: it gets the pages dirtied since the last call and the
/// log restarts empty.
/// </summary>
public sealed class DirtyLog
{
    private readonly PfnBitmap _dirty = new();

    /// <summary>True while log-dirty mode is on.</summary>
    public bool IsEnabled { get; private set; }

    /// <summary>Pages marked dirty since the last clean (Xen's stats.dirty_count).</summary>
    public long DirtyCount => _dirty.Count;

    /// <summary>Cumulative number of clean operations, for diagnostics.</summary>
    public long CleanCount { get; private set; }

    /// <summary>Turns log-dirty mode on, starting from an empty log.</summary>
    public void Enable()
    {
        IsEnabled = true;
        _dirty.Clear();
    }

    /// <summary>Turns log-dirty mode off and forgets the log.</summary>
    public void Disable()
    {
        IsEnabled = false;
        _dirty.Clear();
    }

    /// <summary>Records a write to <paramref name="pfn"/> if the log is enabled.</summary>
    public void Mark(ulong pfn)
    {
        if (IsEnabled)
        {
            _dirty.Add(pfn);
        }
    }

    /// <summary>True if <paramref name="pfn"/> is marked.</summary>
    public bool IsDirty(ulong pfn) => _dirty.Contains(pfn);

    /// <summary>CLEAN: returns the dirty set and clears the log.</summary>
    public PfnBitmap Clean()
    {
        var snapshot = new PfnBitmap();
        Clean(snapshot);
        return snapshot;
    }

    /// <summary>CLEAN into a caller-owned bitmap (replacing its contents); returns the dirty count.</summary>
    public long Clean(PfnBitmap destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        RequireEnabled();
        destination.CopyFrom(_dirty);
        _dirty.Clear();
        CleanCount++;
        return destination.Count;
    }

    /// <summary>PEEK: returns a copy of the dirty set without clearing it.</summary>
    public PfnBitmap Peek()
    {
        RequireEnabled();
        return _dirty.Clone();
    }

    internal DirtyLog CloneLog()
    {
        var copy = new DirtyLog { IsEnabled = IsEnabled, CleanCount = CleanCount };
        copy._dirty.CopyFrom(_dirty);
        return copy;
    }

    private void RequireEnabled()
    {
        if (!IsEnabled)
        {
            throw new DomainException("log-dirty mode is not enabled");
        }
    }
}
