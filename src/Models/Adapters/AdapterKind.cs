using Peft.Typed.Models.Adapters.Formats.Kinds;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// One adapter kind as PEFT's <c>peft_type</c> names it: how its adapter_config.json is read and what the single-file
/// formats know about its tensors. A kind is a folder (config + layer + a subclass of this); <see cref="AdapterKinds"/>
/// finds every subclass in this assembly, so adding a kind edits no shared code.
/// </summary>
internal abstract class AdapterKind
{
    /// <summary>PEFT's <c>peft_type</c> (<c>LORA</c>, <c>LOHA</c>, <c>LOKR</c>).</summary>
    public abstract string PeftType { get; }

    /// <summary>The kind's own fields of adapter_config.json; the shared ones are read by <see cref="AdapterConfig"/>.</summary>
    public abstract AdapterConfig Read(ConfigReader reader);

    /// <summary>The kind's tensor names in kohya/LyCORIS and diffusers files, or null when no single-file format holds it.</summary>
    public virtual AdapterKindKeys? FormatKeys => null;
}
