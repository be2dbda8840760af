using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// Deep copies of the layer types <c>modules_to_save</c> supports (PEFT uses <c>copy.deepcopy</c>, which TorchSharp
/// lacks): a new module with the same hyper-parameters, then every tensor copied.
/// </summary>
internal static class ModuleCloner
{
    public static bool CanClone(nn.Module module) => module is Linear or Conv2d or LayerNorm or GroupNorm { affine: true } or Layers.GroupNorm { affine: true };

    public static nn.Module<Tensor, Tensor> Clone(nn.Module module, string moduleName)
    {
        nn.Module<Tensor, Tensor> copy = module switch
        {
            Linear l => nn.Linear(l.in_features, l.out_features, hasBias: l.bias is not null, device: l.weight.device, dtype: l.weight.dtype),
            Conv2d c => nn.Conv2d(c.in_channels, c.out_channels, (c.kernel_size[0], c.kernel_size[1]), (c.stride[0], c.stride[1]),
                (c.padding![0], c.padding[1]), (c.dilation[0], c.dilation[1]), c.padding_mode, c.groups, c.bias is not null, c.weight.device, c.weight.dtype),
            LayerNorm n => nn.LayerNorm(n.normalized_shape, n.eps, n.elementwise_affine, n.bias is not null, n.weight?.device, n.weight?.dtype),
            GroupNorm g when g.affine => nn.GroupNorm(g.num_groups, g.weight!.shape[0], g.eps, affine: true, device: g.weight.device, dtype: g.weight.dtype),
            Layers.GroupNorm g when g.affine => new Layers.GroupNorm(g.num_groups, g.num_channels, g.eps, affine: true, g.Weight!.device, g.Weight.dtype),
            _ => throw new NotSupportedException(
                $"modules_to_save entry '{moduleName}' is a {ModuleKinds.Of(module)}; copies can be made of Linear, Conv2d, LayerNorm and affine GroupNorm layers."),
        };
        var target = copy.state_dict();
        using var noGrad = no_grad();
        foreach (var (key, value) in module.state_dict()) target[key].copy_(value);
        return copy;
    }
}
