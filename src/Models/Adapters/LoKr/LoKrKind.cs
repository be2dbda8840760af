using Peft.Typed.Models.Adapters.Formats.Kinds;

namespace Peft.Typed.Models.Adapters.LoKr;

/// <summary>Registers peft_type <c>LOKR</c>: <see cref="LoKrConfig"/> and its file-format keys.</summary>
internal sealed class LoKrKind : AdapterKind
{
    public override string PeftType => LoKrConfig.PeftTypeName;

    public override AdapterConfig Read(ConfigReader reader) => LoKrConfig.Read(reader);

    public override AdapterKindKeys FormatKeys { get; } = new LoKrKeys();
}
