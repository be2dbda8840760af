namespace Peft.Typed.Generators;

/// <summary>Names of the generator's pipeline steps, for incremental-caching tests.</summary>
public static class TrackingNames
{
    /// <summary>Opted-in AdditionalFiles with their class name and text.</summary>
    public const string Requests = nameof(Requests);

    /// <summary>Each file parsed and its module tree built.</summary>
    public const string Results = nameof(Results);

    /// <summary>Every class name claimed, for the duplicate check.</summary>
    public const string Claims = nameof(Claims);

    /// <summary>Each result after the duplicate check.</summary>
    public const string Checked = nameof(Checked);

    /// <summary>Each shipped adapter config with the accessor to generate for it.</summary>
    public const string AdapterAccessors = nameof(AdapterAccessors);

    /// <summary>Whether the compilation references Peft.Typed.Models.</summary>
    public const string ModelsReferenced = nameof(ModelsReferenced);
}
