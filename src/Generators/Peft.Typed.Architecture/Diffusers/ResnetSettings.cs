namespace Peft.Typed.Architecture.Diffusers;

/// <summary>What a diffusers block passes to each of its ResnetBlock2D (resnet_eps, resnet_groups, resnet_act_fn, ...).</summary>
internal sealed class ResnetSettings
{
    public ResnetSettings(int? tembChannels, double eps, int groups, double dropout, string timeEmbeddingNorm, string activationClass, double outputScaleFactor)
    {
        TembChannels = tembChannels;
        Eps = eps;
        Groups = groups;
        Dropout = dropout;
        TimeEmbeddingNorm = timeEmbeddingNorm;
        ActivationClass = activationClass;
        OutputScaleFactor = outputScaleFactor;
    }

    /// <summary>Width of the time embedding, or null (VAE) for no time_emb_proj.</summary>
    public int? TembChannels { get; }

    public double Eps { get; }
    public int Groups { get; }
    public double Dropout { get; }

    /// <summary>"default" (UNet, VAE encoder and mid blocks) or "group" (VAE decoder up blocks).</summary>
    public string TimeEmbeddingNorm { get; }

    /// <summary>The torch class of <c>nonlinearity</c>: SiLU, Mish, GELU or ReLU.</summary>
    public string ActivationClass { get; }

    public double OutputScaleFactor { get; }

    public ResnetSettings WithOutputScaleFactor(double value) =>
        new ResnetSettings(TembChannels, Eps, Groups, Dropout, TimeEmbeddingNorm, ActivationClass, value);
}
