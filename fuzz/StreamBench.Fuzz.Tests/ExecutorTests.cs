using StreamBench.Fuzzing;

namespace StreamBench.Fuzz.Tests;

/// <summary>What the runtime counts as a failure (<see cref="Fuzzer.Execute"/>, the same code path the fork servers use).</summary>
[Collection("Trace")]
public sealed class ExecutorTests
{
    private sealed class MyFormatError : FormatException
    {
    }

    private static readonly byte[] Input = [1, 2, 3, 4, 5];

    [Fact]
    public void ReturningNormally_IsOk()
    {
        byte[]? seen = null;
        var r = Fuzzer.Execute(s =>
        {
            using var copy = new MemoryStream();
            s.CopyTo(copy);
            seen = copy.ToArray();
        }, Input);
        Assert.Equal(FuzzOutcome.Ok, r.Outcome);
        Assert.Equal(AflStatus.Ok, r.WaitStatus);
        Assert.Equal(Input, seen);
        Assert.Equal(5, r.InputLength);
    }

    [Fact]
    public void DeclaredExceptionTypes_AndTheirSubclasses_AreExpected()
    {
        var options = new FuzzOptions().Expect<FormatException>();
        var r = Fuzzer.Execute(_ => throw new MyFormatError(), Input, options);
        Assert.Equal(FuzzOutcome.ExpectedException, r.Outcome);
        Assert.False(r.IsFailure);
        Assert.Equal(AflStatus.Ok, r.WaitStatus);
        Assert.IsType<MyFormatError>(r.Exception);
    }

    [Fact]
    public void PredicateDecidesToo()
    {
        var options = new FuzzOptions { IsExpectedException = e => e.Message == "fine" };
        Assert.Equal(FuzzOutcome.ExpectedException, Fuzzer.Execute(_ => throw new InvalidDataException("fine"), Input, options).Outcome);
        Assert.Equal(FuzzOutcome.UnexpectedException, Fuzzer.Execute(_ => throw new InvalidDataException("bad"), Input, options).Outcome);
    }

    [Fact]
    public void AnyOtherException_IsACrash()
    {
        var options = new FuzzOptions().Expect<FormatException>();
        var r = Fuzzer.Execute(_ => throw new InvalidCastException(), Input, options);
        Assert.Equal(FuzzOutcome.UnexpectedException, r.Outcome);
        Assert.True(r.IsFailure);
        Assert.Equal(AflStatus.Crash, r.WaitStatus);

        var throwingPredicate = new FuzzOptions { IsExpectedException = _ => throw new InvalidOperationException() };
        Assert.Equal(FuzzOutcome.UnexpectedException, Fuzzer.Execute(_ => throw new FormatException(), Input, throwingPredicate).Outcome);
    }

    [Fact]
    public void AllocatingPastTheBudget_IsACrash_EvenWithAnExpectedException()
    {
        var options = new FuzzOptions { AllocationBudgetBytes = 1 << 20 }.Expect<FormatException>();
        var r = Fuzzer.Execute(_ => GC.KeepAlive(new byte[2 << 20]), Input, options);
        Assert.Equal(FuzzOutcome.AllocationBudgetExceeded, r.Outcome);
        Assert.Equal(AflStatus.AllocationBudget, r.WaitStatus);
        Assert.True(r.AllocatedBytes >= 2 << 20);

        var thenThrows = Fuzzer.Execute(_ =>
        {
            GC.KeepAlive(new byte[2 << 20]);
            throw new FormatException();
        }, Input, options);
        Assert.Equal(FuzzOutcome.AllocationBudgetExceeded, thenThrows.Outcome);

        var small = Fuzzer.Execute(_ => GC.KeepAlive(new byte[1000]), Input, options);
        Assert.Equal(FuzzOutcome.Ok, small.Outcome);

        var unlimited = new FuzzOptions { AllocationBudgetBytes = 0 };
        Assert.Equal(FuzzOutcome.Ok, Fuzzer.Execute(_ => GC.KeepAlive(new byte[2 << 20]), Input, unlimited).Outcome);
    }

    [Fact]
    public void LongInputsAreCut_AndTheStreamIsReadOnlySeekableAndUnclosable()
    {
        var options = new FuzzOptions { MaxInputBytes = 3 };
        var r = Fuzzer.Execute(s =>
        {
            Assert.Equal(3, s.Length);
            Assert.False(s.CanWrite);
            s.Dispose();
            Assert.Equal(1, s.ReadByte());
            s.Seek(-1, SeekOrigin.End);
            Assert.Equal(3, s.ReadByte());
            Assert.Equal(-1, s.ReadByte());
            s.Position = 1;
            Assert.Equal(new byte[] { 2, 3 }, ((FuzzInputStream)s).Data[1..].ToArray());
            Assert.Throws<NotSupportedException>(() => s.WriteByte(0));
        }, Input, options);
        Assert.Equal(FuzzOutcome.Ok, r.Outcome);
        Assert.Equal(3, r.InputLength);
    }

    [Fact]
    public void SpanTargetsSeeTheWholeInput()
    {
        var length = 0;
        var action = Fuzzer.AsStreamAction(span => length = span.Length);
        Assert.Equal(FuzzOutcome.Ok, Fuzzer.Execute(action, Input).Outcome);
        Assert.Equal(5, length);
    }

    [Fact]
    public void TheExecutionLoop_AllocatesNothingPerInput()
    {
        var executor = new Executor(_ => { }, new FuzzOptions());
        executor.Execute(Input);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            executor.Execute(Input);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Guard_GivesTheSameVerdictsAsAPlainAction()
    {
        var options = new FuzzOptions { AllocationBudgetBytes = 1 << 20 }.Expect<FormatException>();
        using var stream = new MemoryStream(Input);
        options.Guard(_ => throw new FormatException())(stream);
        Assert.Throws<InvalidCastException>(() => options.Guard(_ => throw new InvalidCastException())(stream));
        var e = Assert.Throws<AllocationBudgetExceededException>(() => options.Guard(_ => GC.KeepAlive(new byte[2 << 20]))(stream));
        Assert.Equal(1 << 20, e.BudgetBytes);
        Assert.Equal(FuzzOutcome.UnexpectedException, Fuzzer.Execute(options.Guard(_ => GC.KeepAlive(new byte[2 << 20])), Input).Outcome);
    }

    [Fact]
    public void HelloAnnouncesA64KMap_OrIsZeroInLegacyMode()
    {
        Assert.Equal(unchecked((int)0xC001FFFF), Fuzzer.HelloValue(legacy: false));
        Assert.Equal(0, Fuzzer.HelloValue(legacy: true));
    }
}
