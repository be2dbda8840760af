using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Schedulers;
using Peft.Typed.Models.Unet;
using Peft.Typed.Training.Data;
using static TorchSharp.torch;

namespace Peft.Typed.Training;

/// <summary>Turns scheduled examples into one forward/backward pass of the DreamBooth objective.</summary>
internal sealed class DreamBoothBatches : IDisposable
{
    private readonly DreamBoothOptions _options;
    private readonly TrainingModels _models;
    private readonly IReadOnlyList<string> _instanceImages;
    private readonly IReadOnlyList<string> _classImages;
    private readonly ImageTransform _transform;
    private readonly Tensor _instanceIds;
    private readonly Tensor? _classIds;
    private readonly PredictionType _predictionType;
    private Tensor? _instanceEmbedding;
    private Tensor? _classEmbedding;
    private readonly ScalarType _vaeDType;
    private List<(Tensor Mean, Tensor Std)>? _instanceLatents;
    private List<(Tensor Mean, Tensor Std)>? _classLatents;

    public DreamBoothBatches(DreamBoothOptions options, TrainingModels models, IReadOnlyList<string> instanceImages, IReadOnlyList<string> classImages)
    {
        _options = options;
        _models = models;
        _instanceImages = instanceImages;
        _classImages = classImages;
        _transform = new ImageTransform(options.Resolution, options.CenterCrop, options.RandomFlip);
        _vaeDType = models.Vae.parameters().First().dtype;
        _instanceIds = PromptIds(options.InstancePrompt);
        _classIds = options.WithPriorPreservation ? PromptIds(options.ClassPrompt!) : null;
        _predictionType = options.PredictionType switch
        {
            "epsilon" => PredictionType.Epsilon,
            "v_prediction" => PredictionType.VPrediction,
            _ => models.NoiseScheduler.Config.PredictionType,
        };
        if (options.PreComputeTextEmbeddings)
        {
            using var noGrad = no_grad();
            _instanceEmbedding = models.TextEncoder.call(_instanceIds).LastHiddenState.detach().DetachFromDisposeScope();
            _classEmbedding = _classIds is null ? null : models.TextEncoder.call(_classIds).LastHiddenState.detach().DetachFromDisposeScope();
        }
        if (options.CacheLatents)
        {
            _instanceLatents = EncodeAll(instanceImages, 0);
            _classLatents = EncodeAll(classImages, 1);
        }
    }

    /// <summary>Forward and backward of one micro-batch; gradients accumulate. Returns the unscaled loss.</summary>
    public double TrainStep(IReadOnlyList<DreamBoothExample> examples, double lossScale)
    {
        using var scope = NewDisposeScope();
        var o = _options;
        var device = _models.Device;
        var instance = examples.Select(e => (Image: _instanceImages[e.InstanceImage], e.Seed, Latents: _instanceLatents?[e.InstanceImage], Class: false));
        var prior = o.WithPriorPreservation
            ? examples.Select(e => (Image: _classImages[e.ClassImage!.Value], e.Seed, Latents: _classLatents?[e.ClassImage!.Value], Class: true))
            : [];
        var items = instance.Concat(prior).ToList();

        Tensor latents;
        using (no_grad())
        {
            latents = cat(items.Select(i => Latent(i.Image, i.Seed, i.Class, i.Latents)).ToList(), 0).Mul(_models.Vae.Config.ScalingFactor);
        }

        var noise = new List<Tensor>();
        var timesteps = new List<long>();
        foreach (var item in items)
        {
            using var generator = new Generator((ulong)(item.Seed * 2 + 1));
            var n = randn(latents.shape[1..], generator: generator);
            // Offset noise (diffusers' --noise_offset): a per-channel constant shifts the image mean.
            if (o.NoiseOffset > 0) n = n.Add(randn([latents.shape[1], 1, 1], generator: generator).Mul(o.NoiseOffset));
            noise.Add(n);
            timesteps.Add(randint(0, _models.NoiseScheduler.Config.NumTrainTimesteps, [1], generator: generator).item<long>());
        }
        var noiseBatch = stack(noise).to(device);
        var t = tensor(timesteps.ToArray(), device: device);
        var noisy = _models.NoiseScheduler.AddNoise(latents, noiseBatch, t);

        int instances = examples.Count;
        var ids = _classIds is null ? _instanceIds.expand(instances, -1) : cat([_instanceIds.expand(instances, -1), _classIds.expand(instances, -1)], 0);
        Tensor hiddenStates;
        if (_instanceEmbedding is not null)
        {
            hiddenStates = _classEmbedding is null
                ? _instanceEmbedding.expand(instances, -1, -1)
                : cat([_instanceEmbedding.expand(instances, -1, -1), _classEmbedding.expand(instances, -1, -1)], 0);
        }
        else if (_models.TextEncoderPeft is not null)
        {
            hiddenStates = _models.TextEncoder.call(ids).LastHiddenState;
        }
        else
        {
            using var noGrad = no_grad();
            hiddenStates = _models.TextEncoder.call(ids).LastHiddenState;
        }

        var prediction = _models.Unet.call(new UNet2DConditionInput(noisy.to_type(_models.WeightDType), t, hiddenStates.to_type(_models.WeightDType)));
        var target = _predictionType == PredictionType.VPrediction ? _models.NoiseScheduler.GetVelocity(latents, noiseBatch, t) : noiseBatch;
        var (loss, _) = DiffusionLoss.Compute(prediction, target, t, _models.NoiseScheduler.AlphasCumprod, _predictionType, o.SnrGamma,
            o.WithPriorPreservation ? instances : 0, o.PriorLossWeight);
        loss.Mul(lossScale).backward();
        return loss.item<float>();
    }

    /// <summary>A sample of the image's latent distribution, mean + std · ε with ε drawn from the example's seed.</summary>
    private Tensor Latent(string image, long seed, bool isClass, (Tensor Mean, Tensor Std)? cached)
    {
        var (mean, std) = cached ?? Posterior(image, new Random(unchecked((int)seed ^ (isClass ? 0x5bd1e995 : 0))));
        using var generator = new Generator((ulong)(seed * 2));
        var epsilon = randn(mean.shape, generator: generator).to(mean.device);
        return mean.Add(std * epsilon).unsqueeze(0);
    }

    private (Tensor Mean, Tensor Std) Posterior(string image, Random random)
    {
        var pixels = _transform.Apply(image, random).unsqueeze(0).to(_models.Device).to_type(_vaeDType);
        var posterior = _models.Vae.Encode(pixels);
        return (posterior.Mean[0].to_type(ScalarType.Float32), posterior.Std[0].to_type(ScalarType.Float32));
    }

    /// <summary>--cache_latents: one VAE pass per image up front (its crop and flip drawn once, as diffusers does).</summary>
    private List<(Tensor Mean, Tensor Std)> EncodeAll(IReadOnlyList<string> images, int salt)
    {
        using var noGrad = no_grad();
        return images.Select((image, index) =>
        {
            using var scope = NewDisposeScope();
            var (mean, std) = Posterior(image, new Random(index * 2 + salt));
            return (mean.MoveToOuterDisposeScope(), std.MoveToOuterDisposeScope());
        }).Select(p => (p.Item1.DetachFromDisposeScope(), p.Item2.DetachFromDisposeScope())).ToList();
    }

    private Tensor PromptIds(string prompt)
    {
        var encoding = _models.Tokenizer.EncodeForModel(prompt);
        return tensor(encoding.Ids.Select(i => (long)i).ToArray(), [1, encoding.Ids.Length], device: _models.Device).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _instanceIds.Dispose();
        _classIds?.Dispose();
        _instanceEmbedding?.Dispose();
        _classEmbedding?.Dispose();
        foreach (var (mean, std) in (_instanceLatents ?? []).Concat(_classLatents ?? []))
        {
            mean.Dispose();
            std.Dispose();
        }
    }
}
