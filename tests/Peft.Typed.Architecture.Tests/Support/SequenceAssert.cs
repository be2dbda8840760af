namespace Peft.Typed.Architecture.Tests.Support;

/// <summary>Compares long ordered lists and reports the first difference instead of two huge dumps.</summary>
public static class SequenceAssert
{
    public static void Equal<T>(IReadOnlyList<T> expected, IReadOnlyList<T> actual, Func<T, string> describe)
    {
        var count = Math.Min(expected.Count, actual.Count);
        for (var i = 0; i < count; i++)
        {
            var e = describe(expected[i]);
            var a = describe(actual[i]);
            if (e != a) Assert.Fail($"First difference at index {i}: expected '{e}', actual '{a}'.");
        }
        if (expected.Count != actual.Count)
        {
            var extra = expected.Count > actual.Count
                ? "missing: " + string.Join(", ", expected.Skip(count).Take(5).Select(describe))
                : "unexpected: " + string.Join(", ", actual.Skip(count).Take(5).Select(describe));
            Assert.Fail($"Expected {expected.Count} entries, actual {actual.Count}; {extra}.");
        }
    }
}
