namespace StreamBench.Fuzz.Tests.Samples;

/// <summary>Sample code for the instrumentation tests: ifs, a loop, a switch, try/catch/finally.</summary>
public static class Branchy
{
    public static int Classify(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0)
        {
            return -1;
        }
        var score = 0;
        for (var i = 0; i < data.Length; i++)
        {
            switch (data[i])
            {
                case 0:
                    score += 1;
                    break;
                case 1:
                    score += 10;
                    break;
                case 2:
                    score += 100;
                    break;
                default:
                    score -= 1;
                    break;
            }
        }
        try
        {
            if (data[0] == 0xFF)
            {
                throw new InvalidOperationException("ff");
            }
            score *= 2;
        }
        catch (InvalidOperationException)
        {
            score = -2;
        }
        finally
        {
            score++;
        }
        return score > 50 ? score : -score;
    }

    public static int Straight(int x) => (x * 3) + 1;
}

/// <summary>Matched by the include prefix but excluded explicitly.</summary>
public static class Excluded
{
    public static int Pick(int x) => x > 0 ? 1 : 2;
}
