using TorchSharp.Modules;
using static TorchSharp.torch.utils;

namespace Peft.Typed.Training;

/// <summary>TensorBoard event files (loss, learning rate, validation images), like the seed scripts' --report_to tensorboard.</summary>
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

    public void Image(int step, string pngPath) => _writer.add_img("validation", pngPath, step);
}
