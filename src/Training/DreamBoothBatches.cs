using Peft.Typed.Models.Pipelines;
using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.Tokenizers;
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
    // caption or the run's prompt. SDXL keeps the ids for tokenizer_2 and the pooled text embeddings too.
    private readonly IReadOnlyList<string> _instancePrompts;
    private readonly IReadOnlyList<string> _classPrompts;
    private readonly Dictionary<string, Tensor> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _ids2 = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Tensor HiddenStates, Tensor? Pooled)> _embeddings = new(StringComparer.Ordinal);
    private readonly DiffusionTrainingStep _step;
    private readonly ScalarType _vaeDType;
    private List<Posterior>? _instanceLatents;
    private List<Posterior>? _classLatents;

    /// <summary>An image's VAE posterior and the SDXL time ids [1, 6] of the crop it was encoded from.</summary>
    private sealed record Posterior(Tensor Mean, Tensor Std, Tensor TimeIds);

    /// <param name="instancePrompts">The prompt of each instance image (its caption, else the instance prompt).</param>
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
        foreach (var prompt in instancePrompts.Concat(classPrompts))
        {
            if (_ids.ContainsKey(prompt)) continue;
            _ids[prompt] = PromptIds(models.Tokenizer, prompt);
            if (models.Tokenizer2 is { } tokenizer2) _ids2[prompt] = PromptIds(tokenizer2, prompt);
        }
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
            foreach (var (prompt, ids) in _ids)
            {
                if (models.IsXL)
                {
                    var (hidden, pooled) = _step.EncodePrompts(ids, _ids2[prompt]);
                    _embeddings[prompt] = (hidden.detach().DetachFromDisposeScope(), pooled.detach().DetachFromDisposeScope());
                }
                else
                {
                    _embeddings[prompt] = (_step.EncodePrompts(ids).detach().DetachFromDisposeScope(), null);
                }
            }
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
        var sampled = items.Select(i => Latent(i.Image, i.Seed, i.Class, i.Latents)).ToList();
        var latents = cat(sampled.Select(s => s.Latents).ToList(), 0);
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
        Tensor hiddenStates;
        Tensor? pooled = null;
        if (_embeddings.Count > 0)
        {
            hiddenStates = cat(prompts.Select(p => _embeddings[p].HiddenStates).ToList(), 0);
            if (_models.IsXL) pooled = cat(prompts.Select(p => _embeddings[p].Pooled!).ToList(), 0);
        }
        else if (_models.IsXL)
        {
            (hiddenStates, pooled) = _step.EncodePrompts(cat(prompts.Select(p => _ids[p]).ToList(), 0), cat(prompts.Select(p => _ids2[p]).ToList(), 0));
        }
        else
        {
            hiddenStates = _step.EncodePrompts(cat(prompts.Select(p => _ids[p]).ToList(), 0));
        }
        var added = pooled is null ? null : new SdxlAddedConditions(pooled, cat(sampled.Select(s => s.TimeIds).ToList(), 0));

        var loss = _step.Loss(latents, hiddenStates, cat(noise, 0), cat(timesteps, 0), o.WithPriorPreservation ? instances : 0, added).Loss;
        loss.Mul(lossScale).backward();
        return loss.item<float>();
    }

    /// <summary>The prompt of each item of a micro-batch: the instance images' in example order, then the class images'.</summary>
    public IReadOnlyList<string> Prompts(IReadOnlyList<DreamBoothExample> examples) =>
    [
        .. examples.Select(e => _instancePrompts[e.InstanceImage]),
        .. _options.WithPriorPreservation ? examples.Select(e => _classPrompts[e.ClassImage!.Value]) : [],
    ];

    /// <summary>Scaled latents sampled from the image's posterior, ε drawn from the example's seed, and the crop's time ids.</summary>
    private (Tensor Latents, Tensor TimeIds) Latent(string image, long seed, bool isClass, Posterior? cached)
    {
        using var noGrad = no_grad();
        var posterior = cached ?? Encode(image, new Random(unchecked((int)seed ^ (isClass ? 0x5bd1e995 : 0))));
        using var generator = new Generator((ulong)(seed * 2));
        return (_step.SampleLatents(posterior.Mean.unsqueeze(0), posterior.Std.unsqueeze(0), generator), posterior.TimeIds);
    }

    private Posterior Encode(string image, Random random)
    {
        var transformed = _transform.Transform(image, random);
        var pixels = transformed.Pixels.unsqueeze(0).to(_models.Device).to_type(_vaeDType);
        var posterior = _models.Vae.Encode(pixels);
        // train_dreambooth_lora_sdxl.py: add_time_ids = original size + crop top-left + (resolution, resolution).
        var timeIds = SdxlConditioning.AddTimeIds(transformed.OriginalSize, transformed.CropTopLeft, (_options.Resolution, _options.Resolution), ScalarType.Float32, _models.Device);
        return new Posterior(posterior.Mean[0].to_type(ScalarType.Float32), posterior.Std[0].to_type(ScalarType.Float32), timeIds);
    }

    /// <summary>--cache_latents: one VAE pass per image up front (its crop and flip drawn once, as diffusers does).</summary>
    private List<Posterior> EncodeAll(IReadOnlyList<string> images, int salt)
    {
        using var noGrad = no_grad();
        return images.Select((image, index) =>
        {
            using var scope = NewDisposeScope();
            var p = Encode(image, new Random(index * 2 + salt));
            return new Posterior(p.Mean.MoveToOuterDisposeScope(), p.Std.MoveToOuterDisposeScope(), p.TimeIds.MoveToOuterDisposeScope());
        }).Select(p => new Posterior(p.Mean.DetachFromDisposeScope(), p.Std.DetachFromDisposeScope(), p.TimeIds.DetachFromDisposeScope())).ToList();
    }

    private Tensor PromptIds(ClipTokenizer tokenizer, string prompt) => DiffusionPipeline.TokenIds(tokenizer, [prompt], _models.Device).DetachFromDisposeScope();

    public void Dispose()
    {
        foreach (var t in _ids.Values.Concat(_ids2.Values)) t.Dispose();
        foreach (var (hidden, pooled) in _embeddings.Values)
        {
            hidden.Dispose();
            pooled?.Dispose();
        }
        foreach (var posterior in (_instanceLatents ?? []).Concat(_classLatents ?? []))
        {
            posterior.Mean.Dispose();
            posterior.Std.Dispose();
            posterior.TimeIds.Dispose();
        }
    }
}
