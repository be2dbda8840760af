extern alias generators;
using System.Diagnostics;
using Peft.Typed.Generators.Tests.Support;
using Peft.Typed.Testing;
using TypedModelGenerator = generators::Peft.Typed.Generators.TypedModelGenerator;

namespace Peft.Typed.Generators.Tests.EndToEnd;

/// <summary>
/// A real <c>dotnet build</c> of a small app wired as docs/generator.md says (the generator as an analyzer, the props
/// import, an AdditionalFile with PeftTypedClass): a wrong target name fails the build with PT0001 at its line,
/// the corrected app builds and runs. That app lives under artifacts/ so the repository's build settings apply
/// (warnings are errors, TorchSharp loader fix); a second app lives outside the repository with warnings left as
/// warnings, as a new app's are. And the package layout consumers get.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DotnetBuildTests
{
    private const string WrongLine = """var targets = TinyUnet.Targets.Named("to_q", "to_qq");""";
    private const string RightLine = """var targets = TinyUnet.Targets.Named("to_q", "to_v");""";

    [Fact]
    public void Wrong_target_fails_the_build_at_its_line_and_the_fixed_app_builds_and_runs()
    {
        var folder = Path.Combine(Fixtures.RepoRoot, "artifacts", "generator-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "unet"));
        try
        {
            File.Copy(Fixtures.PathOf("unet-tiny", "config.json"), Path.Combine(folder, "unet", "config.json"));
            File.WriteAllText(Path.Combine(folder, "App.csproj"), Project("E2E", "TinyUnet"));
            File.WriteAllText(Path.Combine(folder, "Program.cs"), Program(WrongLine));

            var failed = Dotnet(folder, "build", "App.csproj", "-nologo", "-v:minimal");

            Assert.NotEqual(0, failed.ExitCode);
            var column = WrongLine.IndexOf("\"to_qq\"", StringComparison.Ordinal) + 1;
            Assert.Contains($"Program.cs(4,{column}): error PT0001: 'to_qq' matches no module of TinyUnet; did you mean 'to_q'?", failed.Output);

            File.WriteAllText(Path.Combine(folder, "Program.cs"), Program(RightLine));
            var built = Dotnet(folder, "build", "App.csproj", "-nologo", "-v:minimal");
            Assert.True(built.ExitCode == 0, built.Output);

            var ran = Dotnet(folder, Path.Combine(folder, "bin", "Debug", "net10.0", "App.dll"));
            Assert.True(ran.ExitCode == 0, ran.Output);
            Assert.Contains("adapted 24 modules; trainable params: ", ran.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Issue #12 as a new app developer met it: outside the repository (none of its build props) and with
    /// <c>TreatWarningsAsErrors</c> off, a typo still fails the build with PT0001 at its line and column, the old
    /// attention name next to it is a PT0013 warning telling its new name, and no suggestion is a list index.
    /// </summary>
    [Fact]
    public void Wrong_target_fails_a_build_that_keeps_warnings_as_warnings_and_an_old_attention_name_only_warns()
    {
        const string wrong = """var targets = MyUnet.Targets.Named("to_q", "to_z", "query");""";
        const string fixedLine = """var targets = MyUnet.Targets.Named("to_q", "query");""";
        var folder = Directory.CreateTempSubdirectory("peft-typed-new-app-").FullName;
        Assert.False(folder.StartsWith(Fixtures.RepoRoot, StringComparison.Ordinal), folder);
        Directory.CreateDirectory(Path.Combine(folder, "unet"));
        try
        {
            File.Copy(Fixtures.PathOf("unet-tiny", "config.json"), Path.Combine(folder, "unet", "config.json"));
            File.WriteAllText(Path.Combine(folder, "App.csproj"), Project("App", "MyUnet", "<TreatWarningsAsErrors>false</TreatWarningsAsErrors>"));
            File.WriteAllText(Path.Combine(folder, "Program.cs"), NewAppProgram(wrong));

            var failed = Dotnet(folder, "build", "App.csproj", "-nologo", "-v:minimal");

            Assert.NotEqual(0, failed.ExitCode);
            Assert.Contains($"Program.cs(2,{wrong.IndexOf("\"to_z\"", StringComparison.Ordinal) + 1}): error PT0001: 'to_z' matches no module of MyUnet; did you mean 'to_k'?", failed.Output);
            var query = $"Program.cs(2,{wrong.IndexOf("\"query\"", StringComparison.Ordinal) + 1}): warning PT0013: 'query' matches no module of MyUnet: diffusers renamed the attention projection 'query' to 'to_q'";
            Assert.Contains(query, failed.Output);
            Assert.DoesNotContain("did you mean '0'", failed.Output);

            File.WriteAllText(Path.Combine(folder, "Program.cs"), NewAppProgram(fixedLine));
            var built = Dotnet(folder, "build", "App.csproj", "-nologo", "-v:minimal");

            Assert.True(built.ExitCode == 0, built.Output);
            Assert.Contains($"Program.cs(2,{fixedLine.IndexOf("\"query\"", StringComparison.Ordinal) + 1}): warning PT0013: ", built.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Issue #18: an adapter_config.json the app ships, declared with <c>PeftAdapterFor</c>, fails the build at the line
    /// and column of a misspelt target in the JSON; corrected, the app builds and applies it through the generated accessor.
    /// </summary>
    [Fact]
    public void Misspelt_target_in_a_shipped_adapter_config_fails_the_build_at_its_json_line_and_the_fixed_file_applies()
    {
        static string AdapterConfig(string target) => $$"""
            {
              "peft_type": "LORA",
              "r": 2,
              "target_modules": ["to_q", "{{target}}"]
            }
            """;
        var folder = Path.Combine(Fixtures.RepoRoot, "artifacts", "generator-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(folder, "unet"));
        Directory.CreateDirectory(Path.Combine(folder, "adapters", "style"));
        var adapterFile = Path.Combine(folder, "adapters", "style", "adapter_config.json");
        try
        {
            File.Copy(Fixtures.PathOf("unet-tiny", "config.json"), Path.Combine(folder, "unet", "config.json"));
            File.WriteAllText(Path.Combine(folder, "App.csproj"), Project("E2E", "TinyUnet",
                items: """<AdditionalFiles Include="adapters/style/adapter_config.json" PeftAdapterFor="TinyUnet" />"""));
            File.WriteAllText(Path.Combine(folder, "Program.cs"), """
                using E2E;

                using var unet = TinyUnet.Create();
                var peft = Adapters.Style.ApplyTo(unet);
                System.Console.WriteLine($"adapted {peft.TargetedModuleNames().Count} modules");
                """);
            var wrong = AdapterConfig("to_vv");
            File.WriteAllText(adapterFile, wrong);

            var failed = Dotnet(folder, "build", "App.csproj", "-nologo", "-v:minimal");

            Assert.NotEqual(0, failed.ExitCode);
            var line = wrong[..wrong.IndexOf("\"to_vv\"", StringComparison.Ordinal)].Count(c => c == '\n') + 1;
            var column = wrong.Split('\n')[line - 1].IndexOf("\"to_vv\"", StringComparison.Ordinal) + 1;
            Assert.Contains($"adapter_config.json({line},{column}): error PT0001: 'to_vv' matches no module of TinyUnet; did you mean 'to_v'?", failed.Output);

            File.WriteAllText(adapterFile, AdapterConfig("to_v"));
            var built = Dotnet(folder, "build", "App.csproj", "-nologo", "-v:minimal");
            Assert.True(built.ExitCode == 0, built.Output);

            var ran = Dotnet(folder, Path.Combine(folder, "bin", "Debug", "net10.0", "App.dll"));
            Assert.True(ran.ExitCode == 0, ran.Output);
            Assert.Contains("adapted 24 modules", ran.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Package_ships_the_generator_as_a_csharp_analyzer_with_its_code_fixes_and_props()
    {
        var folder = Path.Combine(Fixtures.RepoRoot, "artifacts", "generator-pack", Guid.NewGuid().ToString("N"));
        try
        {
            var project = Path.Combine(Fixtures.RepoRoot, "src", "Generators", "Peft.Typed.Generators", "Peft.Typed.Generators.csproj");

            // --no-build packs the generator this test run built; pack defaults to Release, so name the configuration.
            var packed = Dotnet(Fixtures.RepoRoot, "pack", project, "--no-build", "-c", BuildConfiguration, "-o", folder, "-nologo", "-v:minimal");

            Assert.True(packed.ExitCode == 0, packed.Output);
            using var package = System.IO.Compression.ZipFile.OpenRead(Directory.GetFiles(folder, "*.nupkg").Single());
            var entries = package.Entries.Select(e => e.FullName).Where(n => !n.StartsWith('_') && !n.StartsWith("package/", StringComparison.Ordinal) && !n.StartsWith('[')).Order(StringComparer.Ordinal);
            Assert.Equal(
                ["Peft.Typed.Generators.nuspec", "analyzers/dotnet/cs/Peft.Typed.Generators.CodeFixes.dll", "analyzers/dotnet/cs/Peft.Typed.Generators.dll",
                    "build/Peft.Typed.Generators.props", "buildTransitive/Peft.Typed.Generators.props"],
                entries);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static string Program(string targetsLine) => $$"""
        using Peft.Typed.Models.Adapters.Lora;
        using E2E;

        {{targetsLine}}
        using var unet = TinyUnet.Create();
        var peft = unet.WithAdapter(new LoraConfig { R = 2, TargetModules = targets });
        System.Console.WriteLine($"adapted {peft.TargetedModuleNames().Count} modules; {peft.TrainableParametersSummary()}");
        """;

    private static string NewAppProgram(string targetsLine) => $$"""
        using App;
        {{targetsLine}}
        System.Console.WriteLine(targets);
        """;

    private static string Project(string rootNamespace, string typedClass, string properties = "", string items = "")
    {
        var generator = typeof(TypedModelGenerator).Assembly.Location;
        var props = Path.Combine(Fixtures.RepoRoot, "src", "Generators", "Peft.Typed.Generators", "build", "Peft.Typed.Generators.props");
        var models = Path.Combine(Fixtures.RepoRoot, "src", "Models", "Peft.Typed.Models.csproj");
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{props}" />
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <RootNamespace>{rootNamespace}</RootNamespace>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{models}" />
                <Analyzer Include="{generator}" />
                <AdditionalFiles Include="unet/config.json" PeftTypedClass="{typedClass}" />
                {items}
              </ItemGroup>
            </Project>
            """;
    }

    private static (int ExitCode, string Output) Dotnet(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The test host's MSBuild variables would point the child build at the test's SDK instance.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH" }) start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(" ", arguments)} did not finish in 8 minutes.");
        }
        return (process.ExitCode, output.Result + error.Result);
    }

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif
}
