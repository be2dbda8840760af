using System.Collections.Generic;

namespace Peft.Typed.Generators.Shapes;

/// <summary>
/// A generated view class: one per Python class in the tree (<c>ResnetBlock2DView</c>), one per shape of a class whose
/// modules differ when a list of unlike blocks needs the exact one (<c>CrossAttnDownBlock2DWithoutDownsamplersView</c>),
/// one per list of unlike blocks for its elements (<c>DownBlockView</c> over CrossAttnDownBlock2D and DownBlock2D, the
/// union of their children), or such a list itself (<c>DownBlocksList</c>, one property per element).
/// </summary>
internal sealed class ViewClass
{
    public ViewClass(string name, string runtimeType, string description, bool isUnion)
    {
        Name = name;
        RuntimeType = runtimeType;
        Description = description;
        IsUnion = isUnion;
    }

    public string Name { get; }

    /// <summary>The runtime module type its <c>Module</c> returns.</summary>
    public string RuntimeType { get; }

    public string Description { get; }

    /// <summary>A view over the elements of lists of unlike blocks; members some elements lack are null for them.</summary>
    public bool IsUnion { get; }

    /// <summary>
    /// For a list of unlike blocks: the view its indexer returns (the union view of its elements); its
    /// <see cref="Members"/> are then the elements, one per index. Null for a module view.
    /// </summary>
    public string? ListElementView { get; set; }

    public int Instances { get; set; }

    public IReadOnlyList<ViewMember> Members { get; set; } = new ViewMember[0];
}
