using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

// Smoke job until the DreamBooth trainer lands: a small UNet-shaped network, one forward and backward pass.
var device = cuda.is_available() ? CUDA : CPU;
using var model = nn.Sequential(
    ("conv_in", nn.Conv2d(4, 32, 3, padding: 1)),
    ("norm", GroupNorm(8, 32)),
    ("act", nn.SiLU()),
    ("down", nn.Conv2d(32, 64, 3, stride: 2, padding: 1)),
    ("mid", nn.Conv2d(64, 64, 3, padding: 1)),
    ("up", nn.Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest)),
    ("conv_out", nn.Conv2d(64, 4, 3, padding: 1))).to(device);

// TorchSharp 0.107's nn.GroupNorm leaves its affine parameters uninitialised; PyTorch uses ones/zeros.
static nn.Module<Tensor, Tensor> GroupNorm(int groups, int channels)
{
    var norm = nn.GroupNorm(groups, channels);
    using (no_grad()) { norm.weight!.fill_(1); norm.bias!.zero_(); }
    return norm;
}

long parameters = model.parameters().Sum(p => p.numel());
var watch = Stopwatch.StartNew();
using (var scope = NewDisposeScope())
{
    var x = randn(2, 4, 32, 32, device: device);
    var loss = model.call(x).pow(2).mean();
    loss.backward();
    Console.WriteLine($"device {device.type}, parameters {parameters:N0}, loss {loss.item<float>():F4}, forward+backward {watch.Elapsed.TotalMilliseconds:F1} ms");
}
