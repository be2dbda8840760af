using Peft.Typed.Models.Adapters.Formats.Kinds;

namespace Peft.Typed.Models.Adapters.LoHa;

/// <summary>Registers peft_type <c>LOHA</c>: <see cref="LoHaConfig"/> and its file-format keys.</summary>
internal sealed class LoHaKind : AdapterKind
{
    public override string PeftType => LoHaConfig.PeftTypeName;

    public override AdapterConfig Read(ConfigReader reader) => LoHaConfig.Read(reader);

    public override AdapterKindKeys FormatKeys { get; } = new LoHaKeys();
}
