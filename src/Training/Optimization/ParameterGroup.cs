namespace Peft.Typed.Training.Optimization;

/// <summary>
/// Parameters that share a learning rate and a weight decay, as a torch optimizer's <c>param_groups</c> entry (diffusers'
/// SDXL script puts the UNet and each text encoder in a group of its own).
/// </summary>
/// <param name="Parameters">The group's parameters with names unique across the optimizer (they key its saved state).</param>
public sealed record ParameterGroup(IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> Parameters)
{
    /// <summary>
    /// Multiplies the scheduled learning rate for this group: torch's schedulers scale every group's initial rate by the
    /// same factor, so a group with its own rate <c>lr_g</c> gets <c>lr_g / lr</c> here.
    /// </summary>
    public double LearningRateScale { get; init; } = 1;

    /// <summary>The group's weight decay; null takes the optimizer's.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Every parameter of <paramref name="groups"/> with its group's settings; names must be unique.</summary>
    internal static List<(string Name, TorchSharp.Modules.Parameter Parameter, double LearningRateScale, double WeightDecay)> Flatten(
        IEnumerable<ParameterGroup> groups, double defaultWeightDecay, string optimizer)
    {
        var result = groups.SelectMany(g => g.Parameters.Select(p => (p.Name, p.Parameter, g.LearningRateScale, WeightDecay: g.WeightDecay ?? defaultWeightDecay))).ToList();
        if (result.Count == 0) throw new ArgumentException($"{optimizer} needs at least one trainable parameter.", nameof(groups));
        var invalid = result.FirstOrDefault(p => !(p.LearningRateScale >= 0 && p.WeightDecay >= 0));
        if (invalid.Name is not null)
            throw new ArgumentException($"The group of '{invalid.Name}' has learning-rate scale {invalid.LearningRateScale} and weight decay {invalid.WeightDecay}; both must be >= 0.", nameof(groups));
        var duplicate = result.GroupBy(p => p.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Parameter '{duplicate.Key}' is in more than one group.", nameof(groups));
        return result;
    }
}
