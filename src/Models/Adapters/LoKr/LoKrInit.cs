namespace Peft.Typed.Models.Adapters.LoKr;

/// <summary>PEFT's LoKr <c>init_weights</c> values.</summary>
public enum LoKrInit
{
    /// <summary><c>true</c>: w1 (or w1_a) zero, the rest Kaiming-uniform, so the adapter starts as a no-op.</summary>
    Default,

    /// <summary><c>"lycoris"</c>: w2 (or w2_b) zero, as the LyCORIS repository initialises.</summary>
    Lycoris,

    /// <summary><c>false</c>: every factor random; for tests, not training.</summary>
    Random,
}
