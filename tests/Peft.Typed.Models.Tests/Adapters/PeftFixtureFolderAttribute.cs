namespace Peft.Typed.Models.Tests.Adapters;

/// <summary>
/// Registers a folder of shared/fixtures in the format of <c>peft/</c> with <see cref="PeftCaseTests"/>: every case in
/// it runs through every case check. A test file adds its fixture by adding this attribute, so no shared list grows.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class PeftFixtureFolderAttribute(string folder) : Attribute
{
    public string Folder { get; } = folder;
}
