namespace Peft.Typed.Architecture.Tree;

/// <summary>
/// What a module is, for adapter targeting: <see cref="Linear"/> and <see cref="Conv2d"/> are the adaptable
/// leaves (LoRA, LoHa and LoKr wrap them); the others are never adapter targets.
/// </summary>
public enum LayerKind
{
    /// <summary>torch <c>Linear</c>: adaptable.</summary>
    Linear,

    /// <summary>torch <c>Conv2d</c>: adaptable.</summary>
    Conv2d,

    /// <summary>torch <c>Embedding</c>: has weights, not an adapter target here.</summary>
    Embedding,

    GroupNorm,
    LayerNorm,
    Dropout,

    /// <summary>A parameterless activation module (<c>SiLU</c>, <c>GELU</c>, <c>QuickGELUActivation</c>, ...).</summary>
    Activation,

    /// <summary>Any other class: containers (<c>ModuleList</c>, <c>ResnetBlock2D</c>, ...) and parameterless helpers (<c>Timesteps</c>).</summary>
    Composite,
}
