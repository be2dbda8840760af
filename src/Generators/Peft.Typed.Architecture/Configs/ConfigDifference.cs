namespace Peft.Typed.Architecture.Configs;

/// <summary>One config.json key whose value differs between two configs, values written as in JSON.</summary>
public sealed class ConfigDifference
{
    public ConfigDifference(string key, string expected, string actual)
    {
        Key = key;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The config.json key (<c>cross_attention_dim</c>).</summary>
    public string Key { get; }

    public string Expected { get; }

    public string Actual { get; }

    public override string ToString() => $"{Key}: {Expected} expected, {Actual} found";
}
