using Peft.Typed.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Adapters;

/// <summary>
/// PEFT's <c>BaseTunerLayer</c>: replaces a Linear or Conv2d, keeps it as <c>base_layer</c>, and holds any number of
/// named adapters in per-adapter containers. The output is <c>base_layer(x)</c> plus the path of every active
/// adapter, unless adapters are disabled or merged into the base weight.
/// </summary>
public abstract class AdapterLayer : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> base_layer;
    private readonly List<string> _adapters = [];
    private readonly List<string> _merged = [];
    private readonly Dictionary<string, int> _rank = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _alpha = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _scaling = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _configuredScaling = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _active = [];

    protected AdapterLayer(string name, nn.Module<Tensor, Tensor> baseLayer, string moduleName) : base(name)
    {
        Geometry = LayerGeometry.Of(baseLayer, moduleName);
        ModuleName = moduleName;
        base_layer = baseLayer;
        // Registered first, as in PEFT, so the state dict lists base_layer.* before the adapter tensors.
        register_module("base_layer", baseLayer);
    }

    /// <summary>The wrapped Linear/Conv2d.</summary>
    public nn.Module<Tensor, Tensor> BaseLayer => base_layer;

    public LayerGeometry Geometry { get; }

    /// <summary>The qualified name of the module this layer replaced.</summary>
    public string ModuleName { get; }

    /// <summary>The base layer's weight (merging writes into it).</summary>
    public Parameter BaseWeight => base_layer switch
    {
        Linear linear => linear.weight,
        Conv2d conv => conv.weight,
        _ => throw new InvalidOperationException($"'{ModuleName}' wraps a {ModuleKinds.Of(base_layer)}."),
    };

    /// <summary>The base layer's bias, or null.</summary>
    public Parameter? BaseBias => base_layer switch
    {
        Linear linear => linear.bias,
        Conv2d conv => conv.bias,
        _ => null,
    };

    /// <summary>Adapters held here, in the order they were added.</summary>
    public IReadOnlyList<string> AdapterNames => _adapters;

    /// <summary>Adapters whose path is added to the output (they may include adapters this layer lacks; those are skipped).</summary>
    public IReadOnlyList<string> ActiveAdapters => _active;

    /// <summary>Adapters currently merged into the base weight, in merge order.</summary>
    public IReadOnlyList<string> MergedAdapters => _merged;

    public bool Merged => _merged.Count > 0;

    /// <summary>While true the layer returns <c>base_layer(x)</c> (unmerging first, as PEFT does).</summary>
    public bool AdaptersDisabled { get; private set; }

    public int Rank(string adapterName) => _rank[Check(adapterName)];

    public double Alpha(string adapterName) => _alpha[Check(adapterName)];

    /// <summary>The factor applied to the adapter's product: alpha / r (alpha / √r for rsLoRA).</summary>
    public double Scaling(string adapterName) => _scaling[Check(adapterName)];

    /// <summary>
    /// PEFT's <c>set_scale</c> (what diffusers' <c>set_adapters</c> weights call): the adapter's scaling becomes
    /// <paramref name="scale"/> times the scaling its config gives (alpha / r, or alpha / √r with rslora).
    /// </summary>
    public void SetScale(string adapterName, double scale) => _scaling[Check(adapterName)] = scale * _configuredScaling[adapterName];

    /// <summary>The tensors of one adapter, in PEFT's container order.</summary>
    public abstract IEnumerable<AdapterTensor> TensorsOf(string adapterName);

    /// <summary>PEFT's <c>get_delta_weight</c>: ΔW with the base weight's shape; merging adds exactly this.</summary>
    public abstract Tensor GetDeltaWeight(string adapterName);

    /// <summary>
    /// The adapter's contribution to the output for input <paramref name="x"/> (no base output, no bias), or null when
    /// the adapter is skipped for this call (module dropout).
    /// </summary>
    protected abstract Tensor? AdapterOutput(string adapterName, Tensor x);

    /// <summary>Removes the adapter's tensors from the containers.</summary>
    protected abstract void RemoveAdapterTensors(string adapterName);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor result;
        if (AdaptersDisabled)
        {
            if (Merged) Unmerge();
            result = base_layer.call(x);
        }
        else if (Merged)
        {
            result = base_layer.call(x);
        }
        else
        {
            result = AdaptedForward(x, _active.Where(_adapters.Contains).ToList());
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>base_layer(x)</c> plus each adapter's <see cref="AdapterOutput"/>, cast to the base output's dtype
    /// (PEFT's order of operations). The sums go into the base output in place: Linear and Conv2d do not keep their
    /// output for backward, and a new full-size tensor per adapted layer is a full-size allocation less.
    /// </summary>
    protected virtual Tensor AdaptedForward(Tensor x, IReadOnlyList<string> adapters)
    {
        var result = base_layer.call(x);
        var dtype = result.dtype;
        foreach (var adapter in adapters)
        {
            var output = AdapterOutput(adapter, x);
            if (output is null) continue;
            if (output.dtype != dtype) output = output.to_type(dtype);
            result = result.AddInPlace(output);
        }
        return result;
    }

    /// <summary>
    /// PEFT's <c>set_adapter</c>: makes <paramref name="adapterNames"/> active; their tensors train unless
    /// <paramref name="inferenceMode"/>, every other adapter's tensors are frozen.
    /// </summary>
    public void SetAdapter(IReadOnlyList<string> adapterNames, bool inferenceMode = false)
    {
        foreach (var adapter in _adapters)
        {
            bool train = adapterNames.Contains(adapter) && !inferenceMode;
            foreach (var tensor in TensorsOf(adapter)) tensor.Parameter.requires_grad = train;
        }
        _active = adapterNames.ToList();
    }

    /// <summary>PEFT's <c>enable_adapters</c>: disabling also freezes every adapter tensor.</summary>
    public void EnableAdapters(bool enabled, bool inferenceMode = false)
    {
        if (enabled)
        {
            SetAdapter(_active, inferenceMode);
            AdaptersDisabled = false;
            return;
        }
        foreach (var adapter in _adapters)
        {
            foreach (var tensor in TensorsOf(adapter)) tensor.Parameter.requires_grad = false;
        }
        AdaptersDisabled = true;
    }

    /// <summary>
    /// Adds <c>ΔW</c> of each adapter (default: the active ones) to the base weight, skipping adapters already merged.
    /// Uses the deterministic ΔW (no rank dropout), whatever the training mode.
    /// </summary>
    public void Merge(IEnumerable<string>? adapterNames = null)
    {
        var names = (adapterNames ?? _active).Where(a => _adapters.Contains(a) && !_merged.Contains(a)).ToList();
        if (names.Count == 0) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var weight = BaseWeight;
        foreach (var adapter in names)
        {
            weight.AddInPlace(MergeDelta(adapter, weight).to_type(weight.dtype));
            _merged.Add(adapter);
        }
    }

    /// <summary>Subtracts every merged adapter's ΔW again, last merged first.</summary>
    public void Unmerge()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var weight = BaseWeight;
        while (_merged.Count > 0)
        {
            var adapter = _merged[^1];
            _merged.RemoveAt(_merged.Count - 1);
            weight.AddInPlace(UnmergeDelta(adapter, weight).to_type(weight.dtype));
        }
    }

    /// <summary>What merging <paramref name="adapterName"/> adds to the current base weight: <see cref="GetDeltaWeight"/> unless the kind decides otherwise.</summary>
    protected virtual Tensor MergeDelta(string adapterName, Tensor weight) => GetDeltaWeight(adapterName);

    /// <summary>What unmerging <paramref name="adapterName"/> (the last merged) adds to the current base weight: −ΔW unless the kind decides otherwise.</summary>
    protected virtual Tensor UnmergeDelta(string adapterName, Tensor weight) => GetDeltaWeight(adapterName).neg();

    /// <summary>Deletes one adapter (it must not be merged). The active list loses it.</summary>
    public void DeleteAdapter(string adapterName)
    {
        Check(adapterName);
        if (_merged.Contains(adapterName))
            throw new InvalidOperationException($"Adapter '{adapterName}' is merged into '{ModuleName}'; unmerge before deleting it.");
        RemoveAdapterTensors(adapterName);
        _adapters.Remove(adapterName);
        _rank.Remove(adapterName);
        _alpha.Remove(adapterName);
        _scaling.Remove(adapterName);
        _configuredScaling.Remove(adapterName);
        _active = _active.Where(a => a != adapterName).ToList();
    }

    /// <summary>Unregisters the base layer so this wrapper can be disposed without disposing it.</summary>
    internal nn.Module<Tensor, Tensor> DetachBaseLayer()
    {
        _internal_submodules.Remove("base_layer");
        return base_layer;
    }

    /// <summary>Records a new adapter's rank, alpha and scaling; the derived layer creates its tensors.</summary>
    protected void RegisterAdapter(string adapterName, int r, double alpha, double scaling)
    {
        if (r <= 0) throw AdapterConfigException.Invalid("r", r, $"r must be a positive integer (module '{ModuleName}').");
        if (_adapters.Contains(adapterName)) throw new ArgumentException($"Module '{ModuleName}' already holds an adapter named '{adapterName}'.", nameof(adapterName));
        _adapters.Add(adapterName);
        _rank[adapterName] = r;
        _alpha[adapterName] = alpha;
        _scaling[adapterName] = scaling;
        _configuredScaling[adapterName] = scaling;
    }

    /// <summary>The dtype adapter tensors use: the base weight's, but float32 for a half-precision base (PEFT's autocast).</summary>
    protected ScalarType AdapterDType => BaseWeight.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : BaseWeight.dtype;

    /// <summary>A new trainable adapter parameter on the base weight's device, owned by this layer (never by a dispose scope).</summary>
    protected Parameter NewParameter(params long[] shape)
    {
        var parameter = new Parameter(empty(shape, AdapterDType, BaseWeight.device), requires_grad: true);
        parameter.DetachFromDisposeScope();
        return parameter;
    }

    private string Check(string adapterName) => _adapters.Contains(adapterName)
        ? adapterName
        : throw new KeyNotFoundException($"Module '{ModuleName}' has no adapter '{adapterName}'; adapters: {string.Join(", ", _adapters)}.");
}
