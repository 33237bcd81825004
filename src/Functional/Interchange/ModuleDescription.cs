using System.Collections.Immutable;
using System.Text.Json;

namespace Functional;

/// <summary>A module description names a type or an argument value this library does not support, or is malformed.</summary>
public sealed class ModuleDescriptionException : ArgumentException
{
    /// <summary>Creates the exception with its message.</summary>
    public ModuleDescriptionException(string message) : base(message) { }
}

/// <summary>
/// Builds layers from PyTorch module descriptions: a JSON object whose <c>type</c> is the
/// <c>torch.nn</c> class name and whose other members are its constructor arguments under
/// PyTorch's names (<c>{"type": "Conv2d", "in_channels": 3, ...}</c>), with weights fetched from a
/// <see cref="Weights"/> scope by their state_dict names. <c>Sequential</c> nests with
/// <c>"layers"</c>; its children are scoped <c>0</c>, <c>1</c>, … as in PyTorch. A type or an
/// argument the reader does not know fails with a message naming it.
/// </summary>
public static partial class ModuleDescription
{
    /// <summary>Builds one layer from its description's arguments and its weight scope.</summary>
    public delegate Layer Builder(ModuleArgs args, Weights weights);

    private static readonly ImmutableDictionary<string, Builder> Builders =
        new[] { ContainerBuilders(), ActivationBuilders(), ConvBuilders(), PoolBuilders(), NormBuilders(), BasicBuilders(), PreprocessBuilders() }
            .SelectMany(b => b)
            .ToImmutableDictionary(b => b.Type, b => b.Build);

    /// <summary>The <c>type</c> names this reader can build.</summary>
    public static IEnumerable<string> SupportedTypes => Builders.Keys.Order();

    /// <summary>Builds a layer from a JSON description.</summary>
    public static Layer Build(string json, Weights weights)
    {
        JsonDocument doc;
        // ArgumentException: a string with a lone surrogate cannot be UTF-8.
        try { doc = JsonDocument.Parse(json); }
        catch (Exception e) when (e is JsonException or ArgumentException) { throw new ModuleDescriptionException($"module description is not valid JSON: {e.Message}"); }
        using (doc) return Build(doc.RootElement, weights);
    }

    /// <summary>Builds a layer from a parsed JSON description.</summary>
    public static Layer Build(JsonElement description, Weights weights)
    {
        try { return BuildChecked(description, weights); }
        catch (InvalidOperationException e)
        {
            // JsonElement refuses to make a .NET string of an escaped lone surrogate ("\ud800"); the
            // builders themselves throw only the library's exceptions. (Exception.TargetSite would say
            // which threw, but it is not available under trimming / Native AOT.)
            throw new ModuleDescriptionException($"module description has a string that is not valid UTF-16: {e.Message}");
        }
    }

    private static Layer BuildChecked(JsonElement description, Weights weights)
    {
        if (description.ValueKind != JsonValueKind.Object)
            throw new ModuleDescriptionException($"a module description must be a JSON object, got {description.ValueKind}: {description}");
        if (!description.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String)
            throw new ModuleDescriptionException($"module description has no string 'type': {description}");
        string type = t.GetString()!;
        if (description.TryGetProperty("children", out _) || description.TryGetProperty("graph", out _)) return BuildModule(type, description, weights);
        var args = new ModuleArgs(type, description);
        // A subclass of a torch.nn layer that only changes its constructor: built as its base, printed under its own name.
        string builderType = args.Has("base") ? args.String("base", type) : type;
        if (!Builders.TryGetValue(builderType, out var build))
            throw new ModuleDescriptionException($"module type '{builderType}' is not supported (supported: {string.Join(", ", SupportedTypes)})");
        var layer = build(args, weights);
        args.EnsureAllRead();
        return builderType == type ? layer : new Subclass(type, layer);
    }

    /// <summary>
    /// A module with named children (<c>tools/export.py</c>), scoped by name as in PyTorch's
    /// state_dict: with a <c>graph</c>, its forward traced by <c>torch.fx</c> (<c>{"type":
    /// "BasicBlock", "children": {"conv1": {...}, ...}, "graph": [nodes]}</c>); without one, a
    /// <c>Sequential</c> with named children or a subclass of it (<c>"base": "Sequential"</c>) runs
    /// its children in order; an <c>inline</c> one (a ModuleList, or a child its parent's graph was
    /// traced through) only holds children that its parent's graph calls by dotted name.
    /// </summary>
    private static Module BuildModule(string type, JsonElement description, Weights weights)
    {
        var args = new ModuleArgs(type, description);
        var children = new List<(string Name, Layer Layer)>();
        var c = args.Raw("children") ?? JsonDocument.Parse("{}").RootElement;
        if (c.ValueKind != JsonValueKind.Object)
            throw args.Unsupported("children", $"{c} (expected an object of named child descriptions)");
        foreach (var child in c.EnumerateObject())
        {
            // As torch.nn.Module.add_module: a child's name is a state_dict key part.
            if (child.Name.Length == 0 || child.Name.Contains('.'))
                throw new ModuleDescriptionException($"{type}: child name '{child.Name}' must be non-empty and without '.'");
            children.Add((child.Name, Build(child.Value, weights.At(child.Name))));
        }
        Layer body;
        if (args.Has("graph"))
        {
            var nodes = args.Array("graph").Select(n => ParseNode(type, n)).ToList();
            // get_attr nodes read the module's own tensors by their target (layer_scale, norm.weight) in its scope.
            var attributes = new Dictionary<string, Tensor>();
            foreach (var n in nodes.Where(n => n.Op == "get_attr" && n.Target.Length > 0 && !n.Target.Split('.').Contains("")))
            {
                try { attributes.TryAdd(n.Target, weights.GetStored(n.Target)); }
                catch (ModuleDescriptionException e) { throw new ModuleDescriptionException($"{type}: graph node '{n.Name}' (get_attr {n.Target}): {e.Message}"); }
            }
            body = new Graph(nodes, Callable(children), attributes, type);
        }
        else if (args.Bool("inline", false))
            body = new Function($"{type} (called through its parent's graph)",
                _ => throw new ModuleDescriptionException($"{type} is traced into its parent's graph and cannot run on its own"),
                _ => throw new ShapeException($"{type} is traced into its parent's graph and cannot run on its own"));
        else if (type == "Sequential" || args.String("base", "") == "Sequential")
            body = Sequential.Of([.. children.Select(x => x.Layer)]);
        else
            throw new ModuleDescriptionException($"{type}: a module with children needs a 'graph' (its traced forward) or \"base\": \"Sequential\"");
        var module = new Module(type, children, body)
        {
            Printout = args.Has("repr") ? args.String("repr", "") : null,
            ExtraReprText = args.String("extra_repr", ""),
        };
        args.EnsureAllRead();
        return module;
    }

    /// <summary>The layers a graph calls by name: the children, and the children of inline children by dotted path.</summary>
    private static Dictionary<string, Layer> Callable(IEnumerable<(string Name, Layer Layer)> children)
    {
        var callable = new Dictionary<string, Layer>();
        foreach (var (name, layer) in children)
        {
            callable[name] = layer;
            if (layer is Module { Body: Function } inline)
                foreach (var (sub, l) in Callable(inline.Children)) callable[$"{name}.{sub}"] = l;
        }
        return callable;
    }

    private static GraphNode ParseNode(string type, JsonElement n)
    {
        if (n.ValueKind != JsonValueKind.Object) throw new ModuleDescriptionException($"{type}: a graph node must be a JSON object, got {n}");
        string Str(string key) => n.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s
            : throw new ModuleDescriptionException($"{type}: graph node {n} lacks a non-empty string '{key}'");
        string name = Str("name"), op = Str("op");
        string target = n.TryGetProperty("target", out var t) ? t.ValueKind == JsonValueKind.String ? t.GetString()!
            : throw new ModuleDescriptionException($"{type}: graph node '{name}': 'target' must be a string, got {t}") : "";
        ImmutableArray<object?> args = [];
        if (n.TryGetProperty("args", out var a))
            args = a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Select(e => ParseArg(type, name, e)).ToImmutableArray()
                : throw new ModuleDescriptionException($"{type}: graph node '{name}': 'args' must be an array, got {a}");
        var kwargs = ImmutableDictionary<string, object?>.Empty;
        if (n.TryGetProperty("kwargs", out var k))
            kwargs = k.ValueKind == JsonValueKind.Object ? k.EnumerateObject().ToImmutableDictionary(p => p.Name, p => ParseArg(type, name, p.Value))
                : throw new ModuleDescriptionException($"{type}: graph node '{name}': 'kwargs' must be an object, got {k}");
        return new GraphNode(op, name, target, args, kwargs);
    }

    /// <summary>
    /// A graph argument: <c>{"node": name}</c> is a reference, <c>{"slice": [start, stop, step]}</c>
    /// a slice, <c>{"ellipsis": true}</c> Python's <c>...</c>, <c>{"dict": {...}}</c> a dict (outputs),
    /// arrays are tuples or lists, other values are constants.
    /// </summary>
    private static object? ParseArg(string type, string node, JsonElement v)
    {
        ModuleDescriptionException Bad(string what) => new($"{type}: graph node '{node}': {what}: {v}");
        return v.ValueKind switch
        {
            JsonValueKind.Object => v.EnumerateObject().ToList() switch
            {
                [{ Name: "node", Value: { ValueKind: JsonValueKind.String } r }] => new NodeRef(r.GetString()!),
                [{ Name: "slice", Value: { ValueKind: JsonValueKind.Array } s }] when s.GetArrayLength() == 3 =>
                    new SliceArg(ParseArg(type, node, s[0]), ParseArg(type, node, s[1]), ParseArg(type, node, s[2])),
                [{ Name: "ellipsis" }] => new IndexItem.Ellipsis(),
                [{ Name: "dict", Value: { ValueKind: JsonValueKind.Object } d }] =>
                    new DictArg(d.EnumerateObject().Select(e => (e.Name, ParseArg(type, node, e.Value))).ToImmutableArray()),
                _ => throw Bad("unsupported argument (expected {\"node\": name}, {\"slice\": [a, b, c]}, {\"ellipsis\": true} or {\"dict\": {...}})"),
            },
            JsonValueKind.Array => v.EnumerateArray().Select(e => ParseArg(type, node, e)).ToImmutableArray(),
            JsonValueKind.Number => v.TryGetInt64(out long i) ? (object)i : v.TryGetDouble(out double d) && double.IsFinite(d) ? d : throw Bad("number out of range"),
            JsonValueKind.String => v.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => throw Bad("unsupported argument"),
        };
    }

    private static IEnumerable<(string Type, Builder Build)> ContainerBuilders() =>
    [
        ("Sequential", (a, w) =>
        {
            var children = a.Array("layers").Select((child, i) => Build(child, w.At(i.ToString()))).ToArray();
            return Sequential.Nested(children);
        }),
    ];

    /// <summary>GELU's <c>approximate</c> by its PyTorch name (also <c>F.gelu</c>'s), or null.</summary>
    internal static GeluApproximation? GeluApproximationNamed(string name) => name switch
    {
        "none" => GeluApproximation.None,
        "tanh" => GeluApproximation.Tanh,
        _ => null,
    };

    private static IEnumerable<(string Type, Builder Build)> ActivationBuilders() =>
    [
        ("ReLU", (a, _) => new ReLU { Inplace = a.Bool("inplace", false) }),
        ("ReLU6", (a, _) => new ReLU6 { Inplace = a.Bool("inplace", false) }),
        ("ReLUSquared", (a, _) => new ReLUSquared()),
        ("Sigmoid", (a, _) => new Sigmoid()),
        ("SiLU", (a, _) => new SiLU { Inplace = a.Bool("inplace", false) }),
        ("Tanh", (a, _) => new Tanh()),
        ("GELU", (a, _) => new GELU(GeluApproximationNamed(a.String("approximate", "none"))
            ?? throw a.Unsupported("approximate", $"'{a.String("approximate", "none")}' (expected 'none' or 'tanh')"))),
        ("LeakyReLU", (a, _) => new LeakyReLU(a.Double("negative_slope", 0.01)) { Inplace = a.Bool("inplace", false) }),
        ("RReLU", (a, _) => new RReLU(a.Double("lower", 1.0 / 8), a.Double("upper", 1.0 / 3)) { Inplace = a.Bool("inplace", false) }),
        ("ELU", (a, _) => new ELU(a.Double("alpha", 1.0)) { Inplace = a.Bool("inplace", false) }),
    ];
}

public static partial class ModuleDescription
{
    private static IEnumerable<(string Type, Builder Build)> ConvBuilders() =>
        new[] { 1, 2, 3 }.SelectMany(rank => new (string, Builder)[]
        {
            ($"Conv{rank}d", (a, w) => ConvNd.Load(rank, w, a.Int("in_channels"), a.Int("out_channels"), a.Ints("kernel_size", rank),
                a.Ints("stride", rank, [1]), ConvPadding(a, rank), a.Ints("dilation", rank, [1]), a.Int("groups", 1), a.Bool("bias", true),
                PaddingModeOf(a))),
            ($"ConvTranspose{rank}d", (a, w) =>
            {
                if (a.String("padding_mode", "zeros") != "zeros")
                    throw a.Unsupported("padding_mode", $"'{a.String("padding_mode", "zeros")}' (PyTorch's transposed convolutions only support 'zeros')");
                return ConvTransposeNd.Load(rank, w, a.Int("in_channels"), a.Int("out_channels"), a.Ints("kernel_size", rank),
                    a.Ints("stride", rank, [1]), a.Ints("padding", rank, [0]), a.Ints("output_padding", rank, [0]), a.Int("groups", 1),
                    a.Bool("bias", true), a.Ints("dilation", rank, [1]));
            }),
        });

    private static IEnumerable<(string Type, Builder Build)> PoolBuilders() =>
        new[] { 1, 2, 3 }.SelectMany(rank => new (string, Builder)[]
        {
            ($"MaxPool{rank}d", (a, _) => MaxPoolNd.Members.Create(rank, (a.Sizes("kernel_size", rank), a.Sizes("stride", rank, null),
                a.Sizes("padding", rank, 0), a.Sizes("dilation", rank, 1), a.Bool("return_indices", false), a.Bool("ceil_mode", false)))),
            ($"AvgPool{rank}d", (a, _) => AvgPoolNd.Members.Create(rank, (a.Sizes("kernel_size", rank), a.Sizes("stride", rank, null),
                a.Sizes("padding", rank, 0), a.Bool("ceil_mode", false), a.Bool("count_include_pad", true), rank == 1 ? null : a.NullableInt("divisor_override")))),
            ($"AdaptiveAvgPool{rank}d", (a, _) => AdaptiveAvgPoolNd.Members.Create(rank, a.NullableSizes("output_size", rank))),
            ($"AdaptiveMaxPool{rank}d", (a, _) => AdaptiveMaxPoolNd.Members.Create(rank, (a.NullableSizes("output_size", rank), a.Bool("return_indices", false)))),
            ($"MaxUnpool{rank}d", (a, _) => MaxUnpoolNd.Members.Create(rank, (a.Sizes("kernel_size", rank), a.Sizes("stride", rank, null), a.Sizes("padding", rank, 0)))),
        }).Concat(new[] { 1, 2 }.Select(rank => ($"LPPool{rank}d", (Builder)((a, _) =>
            LPPoolNd.Members.Create(rank, (a.Number("norm_type"), a.Sizes("kernel_size", rank), a.Sizes("stride", rank, null), a.Bool("ceil_mode", false)))))));

    private static Padding ConvPadding(ModuleArgs a, int rank) => a.Raw("padding") switch
    {
        null => 0,
        { ValueKind: JsonValueKind.String } s => s.GetString() switch
        {
            "same" => Padding.Same,
            "valid" => Padding.Valid,
            var other => throw a.Unsupported("padding", $"'{other}' (expected 'same', 'valid', an int or a tuple)"),
        },
        _ => new Dims(a.Ints("padding", rank)),
    };

    private static PaddingMode PaddingModeOf(ModuleArgs a) => a.String("padding_mode", "zeros") switch
    {
        "zeros" => PaddingMode.Zeros,
        "reflect" => PaddingMode.Reflect,
        "replicate" => PaddingMode.Replicate,
        "circular" => PaddingMode.Circular,
        var other => throw a.Unsupported("padding_mode", $"'{other}' (expected 'zeros', 'reflect', 'replicate' or 'circular')"),
    };
}

/// <summary>
/// The constructor arguments of one module description, read by PyTorch name. Every member must
/// be read (or explicitly ignored) by the builder, so an argument the library does not know
/// fails loudly instead of being dropped.
/// </summary>
public sealed class ModuleArgs
{
    private readonly JsonElement json;
    private readonly HashSet<string> read = ["type"];

    internal ModuleArgs(string type, JsonElement json)
    {
        Type = type;
        this.json = json;
    }

    /// <summary>The PyTorch type name.</summary>
    public string Type { get; }

    /// <summary>Whether the description has the member and it is not <c>null</c>.</summary>
    public bool Has(string name) => json.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Marks an argument as understood but irrelevant at inference (<c>inplace</c>, <c>momentum</c>).</summary>
    public void Ignore(string name) => read.Add(name);

    /// <summary>The raw member, or null when absent.</summary>
    public JsonElement? Raw(string name)
    {
        read.Add(name);
        return json.TryGetProperty(name, out var v) ? v : null;
    }

    private JsonElement Required(string name) =>
        Raw(name) ?? throw new ModuleDescriptionException($"{Type}: missing argument '{name}'");

    /// <summary>A failure naming this module type, the argument and its unsupported value.</summary>
    public ModuleDescriptionException Unsupported(string name, string what) => new($"{Type}: unsupported {name}={what}");

    /// <summary>An int argument.</summary>
    public int Int(string name) => AsInt(name, Required(name));

    /// <summary>An int argument with PyTorch's default when absent.</summary>
    public int Int(string name, int fallback) => Raw(name) is { } v && v.ValueKind != JsonValueKind.Null ? AsInt(name, v) : fallback;

    /// <summary>An int argument that may be <c>null</c> (PyTorch's <c>None</c>).</summary>
    public int? NullableInt(string name) => Raw(name) is { ValueKind: not JsonValueKind.Null } v ? AsInt(name, v) : null;

    private int AsInt(string name, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Unsupported(name, $"{v} (expected an integer)");

    /// <summary>A float argument (ints accepted).</summary>
    public double Double(string name, double fallback) =>
        Raw(name) is { ValueKind: not JsonValueKind.Null } v
            ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Unsupported(name, $"{v} (expected a number)")
            : fallback;

    /// <summary>A float argument (ints accepted).</summary>
    public double Double(string name) =>
        Required(name) is var v && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Unsupported(name, $"{v} (expected a number)");

    /// <summary>A number argument that remembers whether it was written as an int or a float.</summary>
    public PyNumber Number(string name) =>
        Required(name) is var v && v.ValueKind == JsonValueKind.Number
            ? new PyNumber(v.GetDouble(), !v.GetRawText().Any(c => c is '.' or 'e' or 'E'))
            : throw Unsupported(name, $"{v} (expected a number)");

    /// <summary>A bool argument.</summary>
    public bool Bool(string name, bool fallback) =>
        Raw(name) is { ValueKind: not JsonValueKind.Null } v
            ? v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Unsupported(name, $"{v} (expected true or false)")
            : fallback;

    /// <summary>A string argument.</summary>
    public string String(string name, string fallback) =>
        Raw(name) is { ValueKind: not JsonValueKind.Null } v
            ? v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Unsupported(name, $"{v} (expected a string)")
            : fallback;

    /// <summary>
    /// An "int or tuple" argument for <paramref name="rank"/> dimensions: an int is repeated, an
    /// array must have <paramref name="rank"/> ints.
    /// </summary>
    public int[] Ints(string name, int rank) => AsInts(name, Required(name), rank);

    /// <summary>An "int or tuple" argument with a default when absent or null.</summary>
    public int[] Ints(string name, int rank, int[] fallback) =>
        Raw(name) is { ValueKind: not JsonValueKind.Null } v ? AsInts(name, v, rank) : fallback;

    /// <summary>An "int or tuple" argument kept as given (an int stays one int, for PyTorch-identical printing).</summary>
    public Dims Sizes(string name, int rank) => AsSizes(name, Required(name), rank);

    /// <summary>An "int or tuple" argument kept as given, with a default when absent or null.</summary>
    public Dims Sizes(string name, int rank, int fallback) => Raw(name) is { ValueKind: not JsonValueKind.Null } v ? AsSizes(name, v, rank) : fallback;

    /// <summary>An "int or tuple" argument kept as given, or null when absent or null (PyTorch's None).</summary>
    public Dims? Sizes(string name, int rank, Dims? fallback) => Raw(name) is { ValueKind: not JsonValueKind.Null } v ? AsSizes(name, v, rank) : fallback;

    private Dims AsSizes(string name, JsonElement v, int rank) =>
        v.ValueKind == JsonValueKind.Number ? new Dims(AsInt(name, v))
        : v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 1 && rank == 1 ? new Dims(AsInts(name, v, 1))
        : new Dims(AsInts(name, v, rank));

    /// <summary>An output size kept as given: one int or one entry per dimension, entries may be null.</summary>
    public int?[] NullableSizes(string name, int rank)
    {
        var v = Required(name);
        return v.ValueKind is JsonValueKind.Number or JsonValueKind.Null ? [v.ValueKind == JsonValueKind.Null ? null : AsInt(name, v)] : NullableInts(name, rank);
    }

    /// <summary>An "int or tuple" argument whose entries may be null (adaptive pools' output sizes).</summary>
    public int?[] NullableInts(string name, int rank)
    {
        var v = Required(name);
        if (v.ValueKind == JsonValueKind.Number) return Enumerable.Repeat<int?>(AsInt(name, v), rank).ToArray();
        if (v.ValueKind == JsonValueKind.Null) return new int?[rank];
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != rank)
            throw Unsupported(name, $"{v} (expected an integer or {rank} integers)");
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? (int?)null : AsInt(name, e)).ToArray();
    }

    private int[] AsInts(string name, JsonElement v, int rank)
    {
        if (v.ValueKind == JsonValueKind.Number) return Enumerable.Repeat(AsInt(name, v), rank).ToArray();
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != rank)
            throw Unsupported(name, $"{v} (expected an integer or {rank} integers)");
        return v.EnumerateArray().Select(e => AsInt(name, e)).ToArray();
    }

    /// <summary>An array member (child descriptions of a container).</summary>
    public IReadOnlyList<JsonElement> Array(string name)
    {
        var v = Required(name);
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : throw Unsupported(name, $"{v} (expected an array)");
    }

    internal void EnsureAllRead()
    {
        var extra = json.EnumerateObject().Select(p => p.Name).Where(n => !read.Contains(n)).ToList();
        if (extra.Count > 0)
            throw new ModuleDescriptionException($"{Type}: unsupported argument{(extra.Count > 1 ? "s" : "")} {string.Join(", ", extra.Select(e => $"'{e}'"))}");
    }
}
