namespace Peft.Typed.Training.Data;

/// <summary>The caption of one image and where it was read (a caption file, or <c>metadata.jsonl line N</c>).</summary>
public sealed record ImageCaption(string Text, string Source);
