using Peft.Typed.Models.Runtime;
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
    // Token ids (and with --pre_compute_text_embeddings, embeddings) per distinct prompt; each image's prompt is its
    // caption or the run's prompt.
    private readonly IReadOnlyList<string> _instancePrompts;
    private readonly IReadOnlyList<string> _classPrompts;
    private readonly Dictionary<string, Tensor> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _embeddings = new(StringComparer.Ordinal);
    private readonly DiffusionTrainingStep _step;
    private readonly ScalarType _vaeDType;
    private List<(Tensor Mean, Tensor Std)>? _instanceLatents;
    private List<(Tensor Mean, Tensor Std)>? _classLatents;

    /// <param name="instancePrompts">The prompt of each instance image (its caption or the instance prompt).</param>
    /// <param name="classPrompts">The prompt of each class image.</param>
    public DreamBoothBatches(DreamBoothOptions options, TrainingModels models, IReadOnlyList<string> instanceImages, IReadOnlyList<string> classImages,
        IReadOnlyList<string> instancePrompts, IReadOnlyList<string> classPrompts)
    {
        _options = options;
        _models = models;
        _instanceImages = instanceImages;
        _classImages = classImages;
        _transform = new ImageTransform(options.Resolution, options.CenterCrop, options.RandomFlip);
        _vaeDType = models.Vae.parameters().First().dtype;
        _instancePrompts = instancePrompts;
        _classPrompts = classPrompts;
        foreach (var prompt in instancePrompts.Concat(classPrompts)) _ids.TryAdd(prompt, PromptIds(prompt));
        _step = models.TrainingStep(new DiffusionObjective
        {
            PredictionType = options.PredictionType,
            SnrGamma = options.SnrGamma,
            PriorLossWeight = options.PriorLossWeight,
            NoiseOffset = options.NoiseOffset,
        });
        if (options.PreComputeTextEmbeddings)
        {
            using var noGrad = no_grad();
            foreach (var (prompt, ids) in _ids) _embeddings[prompt] = models.TextEncoder.call(ids).LastHiddenState.detach().DetachFromDisposeScope();
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
        var instance = examples.Select(e => (Image: _instanceImages[e.InstanceImage], e.Seed, Latents: _instanceLatents?[e.InstanceImage], Class: false));
        var prior = o.WithPriorPreservation
            ? examples.Select(e => (Image: _classImages[e.ClassImage!.Value], e.Seed, Latents: _classLatents?[e.ClassImage!.Value], Class: true))
            : [];
        var items = instance.Concat(prior).ToList();

        // Each example draws its latent sample and its noise from generators of its own seed, so a batch's numbers do
        // not depend on how the examples are grouped into micro-batches.
        var latents = cat(items.Select(i => Latent(i.Image, i.Seed, i.Class, i.Latents)).ToList(), 0);
        var noise = new List<Tensor>();
        var timesteps = new List<Tensor>();
        foreach (var (item, index) in items.Select((item, index) => (item, index)))
        {
            using var generator = new Generator((ulong)(item.Seed * 2 + 1));
            var (n, t) = _step.SampleNoise(latents.narrow(0, index, 1), generator);
            noise.Add(n);
            timesteps.Add(t);
        }

        int instances = examples.Count;
        var prompts = Prompts(examples);
        var hiddenStates = _embeddings.Count > 0
            ? cat(prompts.Select(p => _embeddings[p]).ToList(), 0)
            : _step.EncodePrompts(cat(prompts.Select(p => _ids[p]).ToList(), 0));

        var loss = _step.Loss(latents, hiddenStates, cat(noise, 0), cat(timesteps, 0), o.WithPriorPreservation ? instances : 0).Loss;
        loss.Mul(lossScale).backward();
        return loss.item<float>();
    }

    /// <summary>The prompt of each item of a micro-batch: the instance images' in example order, then the class images'.</summary>
    public IReadOnlyList<string> Prompts(IReadOnlyList<DreamBoothExample> examples) =>
    [
        .. examples.Select(e => _instancePrompts[e.InstanceImage]),
        .. _options.WithPriorPreservation ? examples.Select(e => _classPrompts[e.ClassImage!.Value]) : [],
    ];

    /// <summary>Scaled latents sampled from the image's posterior, ε drawn from the example's seed.</summary>
    private Tensor Latent(string image, long seed, bool isClass, (Tensor Mean, Tensor Std)? cached)
    {
        using var noGrad = no_grad();
        var (mean, std) = cached ?? Posterior(image, new Random(unchecked((int)seed ^ (isClass ? 0x5bd1e995 : 0))));
        using var generator = new Generator((ulong)(seed * 2));
        return _step.SampleLatents(mean.unsqueeze(0), std.unsqueeze(0), generator);
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
        foreach (var t in _ids.Values.Concat(_embeddings.Values)) t.Dispose();
        foreach (var (mean, std) in (_instanceLatents ?? []).Concat(_classLatents ?? []))
        {
            mean.Dispose();
            std.Dispose();
        }
    }
}
