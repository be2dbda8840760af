namespace Peft.Typed.Generators.Shapes;

/// <summary>The C# type of a typed-view member and the expression that creates it.</summary>
internal sealed class TypeRef
{
    private readonly TypeRef? _element;

    private TypeRef(string type, TypeRef? element)
    {
        Type = type;
        _element = element;
    }

    /// <summary>The C# type (nested view classes by simple name).</summary>
    public string Type { get; }

    /// <summary>A Linear/Conv2d leaf adapters can wrap.</summary>
    public static TypeRef Layer(string runtimeType) => new($"global::Peft.Typed.Models.Typed.LayerView<{runtimeType}>", null);

    /// <summary>Any other module, exposed as its runtime type.</summary>
    public static TypeRef Module(string runtimeType) => new($"global::Peft.Typed.Models.Typed.ModuleView<{runtimeType}>", null);

    /// <summary>A generated view class.</summary>
    public static TypeRef View(string viewClass) => new(viewClass, null);

    /// <summary>A list of like modules.</summary>
    public static TypeRef List(TypeRef element) => new($"global::Peft.Typed.Models.Typed.ModuleListView<{element.Type}>", element);

    /// <summary><c>new T(owner, path)</c>; a list also gets the factory of its elements.</summary>
    public string Construct(string owner, string path, int depth = 0)
    {
        if (_element is null) return $"new {Type}({owner}, {path})";
        string o = "owner" + (depth == 0 ? "" : depth.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string p = "path" + (depth == 0 ? "" : depth.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return $"new {Type}({owner}, {path}, static ({o}, {p}) => {_element.Construct(o, p, depth + 1)})";
    }
}
