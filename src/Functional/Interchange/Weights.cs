using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Functional;

/// <summary>How a weight is initialised when a model is built without a file (<see cref="Weights.Random"/>).</summary>
public abstract record WeightInit
{
    private WeightInit() { }

    /// <summary>Uniform in [−bound, bound]: PyTorch's default for conv and linear weights and biases, with bound = 1/√fan_in.</summary>
    public sealed record Uniform(double Bound) : WeightInit;

    /// <summary>Every element equal to <paramref name="Value"/> (norm scales 1, shifts and running means 0).</summary>
    public sealed record Constant(float Value) : WeightInit;

    /// <summary>PyTorch's default for a weight with fan-in <paramref name="fanIn"/>: uniform(±1/√fan_in).</summary>
    public static WeightInit FanIn(long fanIn) => new Uniform(fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0);
}

/// <summary>
/// A scoped, read-only lookup of PyTorch <c>state_dict</c> tensors, in the style of candle's
/// VarBuilder: <c>weights.At("features").At("0").Get("weight", shape)</c> fetches
/// <c>features.0.weight</c> and checks its shape. Every fetch is recorded, so after building a
/// model <see cref="UnusedKeys"/> gives PyTorch's <c>strict=True</c> report. Scopes are immutable
/// values; they share one record of used keys per source.
/// </summary>
public sealed class Weights : IDisposable
{
    private readonly Source source;

    private Weights(Source source, string prefix)
    {
        this.source = source;
        Prefix = prefix;
    }

    /// <summary>The scope's key prefix, without a trailing dot (empty at the root).</summary>
    public string Prefix { get; }

    /// <summary>
    /// Opens one or more weights files as one namespace (a key in two files is an error). Each path
    /// may be a safetensors file, a PyTorch checkpoint saved by <c>torch.save</c> (read by a
    /// restricted unpickler that executes nothing: see <see cref="PyTorchCheckpoint"/>), a sharded
    /// model's <c>*.index.json</c>, or a directory holding one index or one safetensors file;
    /// symbolic links are followed. A file's kind is told by its first bytes, not its extension.
    /// </summary>
    public static Weights Load(params string[] paths)
    {
        var files = new List<ITensorFile>();
        try
        {
            foreach (var p in paths) files.AddRange(WeightFiles.Open(p));
            return new(new FileSource(files), "");
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>Weights held in memory, by full key.</summary>
    public static Weights FromTensors(IReadOnlyDictionary<string, Tensor> tensors) => new(new MemorySource(tensors.ToImmutableDictionary()), "");

    /// <summary>
    /// Weights made on request with PyTorch's default initialisation, seeded per key (the same key
    /// and seed always give the same tensor, whatever order layers are built in).
    /// </summary>
    public static Weights Random(int seed = 0) => new(new RandomSource(seed), "");

    /// <summary>
    /// A new root holding only the keys under <paramref name="prefix"/>, without it: for a
    /// state_dict saved inside a checkpoint (<c>Weights.Load("checkpoint.pth").Subset("model")</c>)
    /// or under DataParallel's <c>module.</c>. Unlike <see cref="At"/>, its <see cref="Keys"/> and
    /// <see cref="UnusedKeys"/> cover only those keys. Disposing either closes the shared files.
    /// </summary>
    public Weights Subset(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var sub = new SubsetSource(source, Key(prefix));
        if (source is not RandomSource && sub.Keys.Count == 0)
            throw new KeyNotFoundException($"no weight in {source.Name} has a key under '{Key(prefix)}.' (its keys begin with: "
                + $"{string.Join(", ", source.Keys.Select(k => k.Split('.')[0]).Distinct().Take(10))})");
        return new(sub, "");
    }

    /// <summary>A sub-scope: <c>At("layer1").At("0")</c> looks up <c>layer1.0.*</c>.</summary>
    public Weights At(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException($"Weights.At: a scope name cannot be empty (in scope '{Prefix}').", nameof(name));
        return new(source, Key(name));
    }

    /// <summary>A sub-scope by dotted path: <c>weights["features.0"]</c>.</summary>
    public Weights this[string path] => At(path);

    private string Key(string name) => Prefix.Length == 0 ? name : Prefix + "." + name;

    /// <summary>Whether the tensor <paramref name="name"/> exists in this scope.</summary>
    public bool Contains(string name) => source.Contains(Key(name));

    /// <summary>
    /// The tensor <paramref name="name"/> of this scope as float32, which must have shape
    /// <paramref name="expected"/>. Throws <see cref="ShapeException"/> naming the full key and both
    /// shapes on a mismatch, and <see cref="KeyNotFoundException"/> naming the key (and the
    /// file) when it is missing. <paramref name="init"/> is used only by <see cref="Random"/>.
    /// </summary>
    public Tensor Get(string name, Shape expected, WeightInit? init = null)
    {
        string key = Key(name);
        var t = source.Get(key, expected, init ?? new WeightInit.Constant(0));
        if (t.Shape != expected)
            throw new ShapeException($"weight '{key}' has shape {t.Shape} in {source.Name} but the layer expects {expected}");
        source.Used[key] = 0;
        return t;
    }

    /// <summary>
    /// The tensor <paramref name="name"/> of this scope as float32 with the shape it is stored with:
    /// a parameter or buffer a traced forward reads directly (<c>get_attr</c>), whose shape no layer
    /// argument gives. Throws <see cref="ModuleDescriptionException"/> naming the key when the
    /// source does not hold it (random weights hold none: they need a shape).
    /// </summary>
    public Tensor GetStored(string name)
    {
        string key = Key(name);
        if (source is RandomSource || !source.Contains(key))
            throw new ModuleDescriptionException($"tensor '{key}' is missing from {source.Name}{Suggest(key, source.Keys)}");
        var t = source.Get(key, Shape.Scalar, new WeightInit.Constant(0));
        source.Used[key] = 0;
        return t;
    }

    /// <summary>Every key in the source.</summary>
    public IReadOnlyList<string> Keys => source.Keys;

    /// <summary>Keys that no layer has fetched so far (PyTorch's "unexpected keys" under <c>strict=True</c>).</summary>
    public IReadOnlyList<string> UnusedKeys() => source.Keys.Where(k => !source.Used.ContainsKey(k)).ToList();

    /// <summary>Keys fetched so far.</summary>
    public IReadOnlyCollection<string> UsedKeys => source.Used.Keys.ToList();

    /// <summary>Closes the underlying files (all scopes of the same source share them).</summary>
    public void Dispose() => source.Dispose();

    private abstract class Source : IDisposable
    {
        public readonly ConcurrentDictionary<string, byte> Used = new();
        public abstract string Name { get; }
        public abstract IReadOnlyList<string> Keys { get; }
        public abstract bool Contains(string key);
        public abstract Tensor Get(string key, Shape expected, WeightInit init);
        public virtual void Dispose() { }
    }

    private sealed class FileSource(List<ITensorFile> files) : Source
    {
        private readonly Dictionary<string, ITensorFile> owner = Index(files);

        private static Dictionary<string, ITensorFile> Index(List<ITensorFile> files)
        {
            var d = new Dictionary<string, ITensorFile>();
            foreach (var f in files)
                foreach (var n in f.Names)
                    if (!d.TryAdd(n, f)) throw new SafeTensorsException($"tensor '{n}' is in both '{d[n].Path}' and '{f.Path}'");
            return d;
        }

        public override string Name => files.Count == 1 ? $"'{files[0].Path}'" : $"[{string.Join(", ", files.Select(f => f.Path))}]";
        public override IReadOnlyList<string> Keys => files.SelectMany(f => f.Names).ToList();
        public override bool Contains(string key) => owner.ContainsKey(key);

        public override Tensor Get(string key, Shape expected, WeightInit init) =>
            owner.TryGetValue(key, out var f) ? f.ReadFloat(key)
            : throw new KeyNotFoundException($"weight '{key}' (shape {expected}) is missing from {Name}{Suggest(key, owner.Keys)}");

        public override void Dispose() { foreach (var f in files) f.Dispose(); }
    }

    private sealed class SubsetSource(Source inner, string prefix) : Source
    {
        private string Full(string key) => prefix + "." + key;
        public override string Name => $"{inner.Name} under '{prefix}.'";
        public override IReadOnlyList<string> Keys => inner.Keys.Where(k => k.StartsWith(prefix + ".", StringComparison.Ordinal)).Select(k => k[(prefix.Length + 1)..]).ToList();
        public override bool Contains(string key) => inner.Contains(Full(key));
        public override Tensor Get(string key, Shape expected, WeightInit init) => inner.Get(Full(key), expected, init);
        public override void Dispose() => inner.Dispose();
    }

    private sealed class MemorySource(ImmutableDictionary<string, Tensor> tensors) : Source
    {
        public override string Name => "the in-memory weights";
        public override IReadOnlyList<string> Keys => tensors.Keys.Order().ToList();
        public override bool Contains(string key) => tensors.ContainsKey(key);

        public override Tensor Get(string key, Shape expected, WeightInit init) =>
            tensors.TryGetValue(key, out var t) ? t
            : throw new KeyNotFoundException($"weight '{key}' (shape {expected}) is missing from {Name}{Suggest(key, tensors.Keys)}");
    }

    private sealed class RandomSource(int seed) : Source
    {
        private readonly ConcurrentDictionary<string, byte> made = new();
        public override string Name => $"Weights.Random({seed})";
        public override IReadOnlyList<string> Keys => made.Keys.Order().ToList();
        public override bool Contains(string key) => true;

        public override Tensor Get(string key, Shape expected, WeightInit init)
        {
            made[key] = 0;
            return init switch
            {
                WeightInit.Uniform u => Tensor.RandomUniform(expected, seed ^ StableHash(key), (float)-u.Bound, (float)u.Bound),
                WeightInit.Constant c => Tensor.Full(expected, c.Value),
                _ => throw new ArgumentOutOfRangeException(nameof(init)),
            };
        }

        private static int StableHash(string s)
        {
            uint h = 2166136261;
            foreach (char c in s) h = (h ^ c) * 16777619;
            return (int)h;
        }
    }

    private static string Suggest(string key, IEnumerable<string> keys)
    {
        string leaf = key[(key.LastIndexOf('.') + 1)..];
        var near = keys.Where(k => k.EndsWith("." + leaf) || k == leaf).Take(5).ToList();
        return near.Count == 0 ? "" : $"; keys with the same last name: {string.Join(", ", near)}";
    }
}
