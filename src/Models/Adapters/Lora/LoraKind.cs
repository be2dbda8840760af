using Peft.Typed.Models.Adapters.Formats.Kinds;

namespace Peft.Typed.Models.Adapters.Lora;

/// <summary>Registers peft_type <c>LORA</c>: <see cref="LoraConfig"/> and its file-format keys.</summary>
internal sealed class LoraKind : AdapterKind
{
    public override string PeftType => LoraConfig.PeftTypeName;

    public override AdapterConfig Read(ConfigReader reader) => LoraConfig.Read(reader);

    public override AdapterKindKeys FormatKeys { get; } = new LoraKeys();
}
