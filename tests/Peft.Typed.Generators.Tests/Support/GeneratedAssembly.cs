using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace Peft.Typed.Generators.Tests.Support;

/// <summary>
/// The typed classes of every test architecture, generated, compiled and loaded once (an xunit collection
/// fixture), so tests can call them like an application does.
/// </summary>
public sealed class GeneratedAssembly : IDisposable
{
    public static readonly string[] Names =
    [
        "sd15-unet", "sd21-unet", "sdxl-unet", "sd-vae", "sdxl-vae", "unet-tiny", "vae-tiny", "clip-text-tiny", "sd15-text-encoder", "sdxl-text-encoder-2",
    ];

    private readonly AssemblyLoadContext _context = new("GeneratedTypedClasses", isCollectible: true);

    public GeneratedAssembly()
    {
        var (result, output) = GeneratorHarness.Run(Names.Select(ArchitectureInputs.ByName).ToList());
        if (!result.Diagnostics.IsEmpty) throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        using var stream = new MemoryStream();
        var emitted = output.Emit(stream);
        if (!emitted.Success)
            throw new InvalidOperationException(string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        stream.Position = 0;
        Assembly = _context.LoadFromStream(stream);
    }

    public Assembly Assembly { get; }

    /// <summary>The typed class, e.g. <c>TypeOf("TinyUnet")</c>.</summary>
    public Type TypeOf(string className) =>
        Assembly.GetType(GeneratorHarness.RootNamespace + "." + className) ?? throw new KeyNotFoundException(className);

    /// <summary>Calls a public static method of the typed class (<c>Create</c>, <c>FromPretrained</c>).</summary>
    public object Call(string className, string method, params object?[] arguments)
    {
        try
        {
            return TypeOf(className).GetMethod(method, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, arguments)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    public void Dispose() => _context.Unload();
}
