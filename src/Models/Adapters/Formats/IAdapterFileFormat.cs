using Peft.Typed.Architecture.Targeting;

namespace Peft.Typed.Models.Adapters.Formats;

/// <summary>One file format: which keys are its own, and how it reads and writes adapter states. Registered in <see cref="AdapterFiles"/>.</summary>
internal interface IAdapterFileFormat
{
    AdapterFileFormat Format { get; }

    /// <summary>True when a single-file key belongs to this format (detection: every key of a file must belong to one format).</summary>
    bool Claims(string key);

    IReadOnlyDictionary<string, AdapterState> Read(string path, IReadOnlyDictionary<string, ModuleCatalog> components);

    void Write(string path, IReadOnlyDictionary<string, AdapterState> components);
}
