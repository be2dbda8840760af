namespace Peft.Typed.Generators.Shapes;

/// <summary>
/// A property of a typed view: the child at <see cref="RelativePath"/> (<c>resnets</c>, or <c>to_out.0</c> for an
/// element of a list of unlike modules), present in <see cref="PresentIn"/> of the view's <see cref="Instances"/> modules.
/// </summary>
internal sealed record ViewMember(string PropertyName, string RelativePath, TypeRef Type, string Description, int PresentIn, int Instances)
{
    /// <summary>Missing in some modules of the class: the property is nullable.</summary>
    public bool Optional => PresentIn < Instances;
}
