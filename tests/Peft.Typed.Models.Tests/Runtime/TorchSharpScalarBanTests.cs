using Mono.Cecil;
using Mono.Cecil.Cil;
using Peft.Typed.Testing;
using TorchSharp;

namespace Peft.Typed.Models.Tests.Runtime;

/// <summary>
/// <c>build/BannedSymbols.TorchSharp.txt</c> must name every public TorchSharp member that hands libtorch a Scalar
/// nothing keeps alive (see <c>TensorArithmetic</c>). The members are found in TorchSharp.dll's IL, so a TorchSharp
/// upgrade that adds one fails here with the lines to add.
/// </summary>
public class TorchSharpScalarBanTests
{
    private static readonly Lazy<ScalarScan> Scan = new(() => new ScalarScan(typeof(torch).Assembly.Location));

    [Fact]
    public void Every_TorchSharp_member_that_makes_an_unowned_scalar_is_banned()
    {
        var unowned = Scan.Value.UnownedScalarMembers();
        // The member behind the failure this ban was made for: a + b passes an alpha of 1 that nothing keeps alive.
        Assert.Contains("M:TorchSharp.torch.Tensor.op_Addition(TorchSharp.torch.Tensor,TorchSharp.torch.Tensor)", unowned);
        Assert.Contains("M:TorchSharp.Scalar.op_Implicit(System.Double)~TorchSharp.Scalar", unowned);

        var missing = unowned.Except(BannedEntries()).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "add to build/BannedSymbols.TorchSharp.txt:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_banned_entry_names_a_public_TorchSharp_member()
    {
        var unknown = BannedEntries().Except(Scan.Value.PublicMembers()).ToList();
        Assert.True(unknown.Count == 0, "not a public TorchSharp member:\n" + string.Join("\n", unknown));
    }

    private static HashSet<string> BannedEntries() =>
        File.ReadLines(Path.Combine(Fixtures.RepoRoot, "build", "BannedSymbols.TorchSharp.txt"))
            .Select(line => line.Split("//")[0].Split(';')[0].Trim())
            .Where(line => line.Length > 0)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Documentation IDs (the banned-API analyzer's format) of TorchSharp's public members, read with Mono.Cecil.</summary>
    private sealed class ScalarScan(string assemblyPath)
    {
        private readonly List<MethodDefinition> _methods = AssemblyDefinition.ReadAssembly(assemblyPath).MainModule.GetTypes()
            .SelectMany(t => t.Methods).ToList();

        public HashSet<string> PublicMembers() => _methods.Where(IsPublic).Select(DocId).ToHashSet(StringComparer.Ordinal);

        /// <summary>
        /// The public conversions that make a Scalar, and the public members that call one without disposing what it made
        /// (TorchSharp disposes the scalars it makes with <c>using</c>, or not at all), or that call such a member.
        /// </summary>
        public HashSet<string> UnownedScalarMembers()
        {
            // Callees by full name: resolving them would need every referenced assembly.
            var calls = _methods.Where(m => m.HasBody).ToDictionary(m => m, m => m.Body.Instructions
                .Where(i => i.OpCode.FlowControl == FlowControl.Call && i.Operand is MethodReference)
                .Select(i => (MethodReference)i.Operand).ToList());
            var unowned = calls.Where(c => !IsScalarFactory(c.Key) && c.Value.Any(IsScalarFactory) && !c.Value.Any(IsDispose))
                .Select(c => c.Key.FullName).ToHashSet(StringComparer.Ordinal);
            for (bool grew = true; grew;)
            {
                grew = false;
                foreach (var (method, callees) in calls)
                    if (!unowned.Contains(method.FullName) && callees.Any(c => unowned.Contains(c.FullName))) grew |= unowned.Add(method.FullName);
            }
            return _methods.Where(m => IsPublic(m) && (unowned.Contains(m.FullName) || IsScalarFactory(m))).Select(DocId).ToHashSet(StringComparer.Ordinal);
        }

        private static bool IsScalarFactory(MethodReference m) =>
            (m.DeclaringType.FullName == "TorchSharp.Scalar" && m.Name == "op_Implicit")
            || (m.DeclaringType.FullName == "TorchSharp.ScalarExtensionMethods" && m.Name == "ToScalar");

        private static bool IsDispose(MethodReference m) =>
            m.Name == "Dispose" && m.DeclaringType.FullName is "TorchSharp.Scalar" or "System.IDisposable";

        private static bool IsPublic(MethodDefinition m) => m.IsPublic && IsVisible(m.DeclaringType);

        private static bool IsVisible(TypeDefinition t) => t.IsNested ? t.IsNestedPublic && IsVisible(t.DeclaringType) : t.IsPublic;

        private static string DocId(MethodDefinition m)
        {
            if (m.IsGetter && m.Parameters.Count == 0) return "P:" + TypeId(m.DeclaringType) + "." + m.Name["get_".Length..];
            var name = m.Name.Replace('.', '#') + (m.HasGenericParameters ? "``" + m.GenericParameters.Count : "");
            var parameters = m.Parameters.Count == 0 ? "" : "(" + string.Join(",", m.Parameters.Select(p => TypeId(p.ParameterType))) + ")";
            var conversion = m.Name is "op_Implicit" or "op_Explicit" ? "~" + TypeId(m.ReturnType) : "";
            return "M:" + TypeId(m.DeclaringType) + "." + name + parameters + conversion;
        }

        private static string TypeId(TypeReference t) => t switch
        {
            ArrayType a => TypeId(a.ElementType) + "[]",
            ByReferenceType r => TypeId(r.ElementType) + "@",
            GenericParameter g => (g.Owner is MethodReference ? "``" : "`") + g.Position,
            GenericInstanceType g => TypeId(g.ElementType)[..TypeId(g.ElementType).IndexOf('`')]
                + "{" + string.Join(",", g.GenericArguments.Select(TypeId)) + "}",
            _ when t.IsNested => TypeId(t.DeclaringType) + "." + t.Name,
            _ => (t.Namespace.Length > 0 ? t.Namespace + "." : "") + t.Name,
        };
    }
}
