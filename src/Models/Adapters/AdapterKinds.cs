namespace Peft.Typed.Models.Adapters;

/// <summary>The registry of adapter kinds: every non-abstract <see cref="AdapterKind"/> of this assembly, by <c>peft_type</c>.</summary>
internal static class AdapterKinds
{
    private static readonly Lazy<IReadOnlyList<AdapterKind>> Kinds = new(() =>
        typeof(AdapterKind).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(AdapterKind)) && !t.IsAbstract)
            .Select(t => (AdapterKind)Activator.CreateInstance(t, nonPublic: true)!)
            .OrderBy(k => k.PeftType, StringComparer.Ordinal)
            .ToList());

    /// <summary>Every registered kind, ordered by <c>peft_type</c>.</summary>
    public static IReadOnlyList<AdapterKind> All => Kinds.Value;

    /// <summary>The kind with this <c>peft_type</c>, or null.</summary>
    public static AdapterKind? Find(string peftType) => All.FirstOrDefault(k => k.PeftType == peftType);
}
