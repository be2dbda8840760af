namespace Peft.Typed.Training;

/// <summary>An invalid DreamBooth option; <see cref="Option"/> is its command-line name without dashes.</summary>
public sealed class DreamBoothOptionException(string option, string message) : ArgumentException(message)
{
    public string Option { get; } = option;
}
