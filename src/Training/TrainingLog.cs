using TorchSharp.Modules;
using static TorchSharp.torch.utils;

namespace Peft.Typed.Training;

/// <summary>
/// TensorBoard event files (loss and learning rate per step), like the seed scripts' --report_to tensorboard.
/// Validation images are PNG files beside them: TorchSharp's image summaries need SkiaSharp's native library.
/// </summary>
internal sealed class TrainingLog
{
    private readonly SummaryWriter _writer;

    public TrainingLog(string directory)
    {
        Directory.CreateDirectory(directory);
        _writer = tensorboard.SummaryWriter(directory, createRunName: false);
    }

    public void Scalars(int step, double loss, double learningRate)
    {
        _writer.add_scalar("loss", (float)loss, step);
        _writer.add_scalar("lr", (float)learningRate, step);
    }
}
