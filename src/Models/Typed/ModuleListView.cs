using System.Collections;

namespace Peft.Typed.Models.Typed;

/// <summary>
/// A <c>ModuleList</c> (<c>down_blocks</c>, <c>resnets</c>, <c>layers</c>), indexed as in PyTorch. For a list of unlike
/// blocks the generator derives a class from it with one property per element, typed to that element's own view
/// (<c>unet.DownBlocks.Block1</c>), while the indexer returns the view common to all elements.
/// </summary>
public class ModuleListView<TView> : ModuleView, IReadOnlyList<TView>
    where TView : ModuleView
{
    private readonly Func<TypedModel, string, TView> _element;

    public ModuleListView(TypedModel owner, string path, Func<TypedModel, string, TView> element) : base(owner, path)
    {
        _element = element ?? throw new ArgumentNullException(nameof(element));
    }

    public int Count => Owner.Catalog.ChildCount(Path);

    /// <summary>Element <paramref name="index"/> (<c>down_blocks.1</c>).</summary>
    public TView this[int index] => index >= 0 && index < Count
        ? _element(Owner, ChildPath(index.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"'{Path}' has {Count} elements.");

    public IEnumerator<TView> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
