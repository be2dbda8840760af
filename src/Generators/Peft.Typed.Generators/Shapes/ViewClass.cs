using System.Collections.Generic;

namespace Peft.Typed.Generators.Shapes;

/// <summary>
/// A generated view class: one per Python class in the tree (<c>ResnetBlock2DView</c>), or one per list of unlike
/// blocks (<c>DownBlockView</c> over CrossAttnDownBlock2D and DownBlock2D), with the union of their children.
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

    public int Instances { get; set; }

    public IReadOnlyList<ViewMember> Members { get; set; } = new ViewMember[0];
}
