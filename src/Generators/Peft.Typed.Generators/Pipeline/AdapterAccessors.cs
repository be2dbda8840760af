using System.IO;
using System.Linq;
using Peft.Typed.Generators.Emit;
using Peft.Typed.Generators.Models;

namespace Peft.Typed.Generators.Pipeline;

/// <summary>
/// Which shipped adapter configs get an accessor: those whose <c>PeftAdapterFor</c> names a class this project generates
/// (one from a referenced assembly is still checked by the analyzer; a name of no class is PT0022).
/// </summary>
internal static class AdapterAccessors
{
    /// <param name="generated">The full names of the typed classes this project generates.</param>
    public static AdapterAccessorSpec? Create(AdapterFileRequest request, EquatableArray<string> generated)
    {
        if (request.Text is null || !ClassNames.TrySplit(request.ModelClass, request.RootNamespace, out var ns, out var name, out _)) return null;
        var full = ns.Length == 0 ? name : ns + "." + name;
        if (!generated.Contains(full)) return null;
        return new AdapterAccessorSpec(request.FilePath, request.RootNamespace, Identifiers.Pascal(AccessorName(request.FilePath)), full, request.Text.Replace("\r\n", "\n"));
    }

    /// <summary>The folder of an <c>adapter_config.json</c> (<c>adapters/style/adapter_config.json</c> → style), else the file name without extension.</summary>
    private static string AccessorName(string path)
    {
        var file = Path.GetFileName(path);
        var folder = Path.GetFileName(Path.GetDirectoryName(path) ?? "");
        return file == "adapter_config.json" && folder.Length > 0 ? folder : Path.GetFileNameWithoutExtension(path);
    }
}
