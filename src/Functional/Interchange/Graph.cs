using System.Collections.Immutable;

namespace Functional;

/// <summary>A reference to the value another <see cref="GraphNode"/> produced.</summary>
public sealed record NodeRef(string Name)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// One step of a <see cref="Graph"/>, as a <c>torch.fx</c> node: <c>placeholder</c> (the input),
/// <c>call_module</c> (a child layer by name), <c>call_function</c> / <c>call_method</c> (a tensor
/// function such as <c>operator.add</c>, <c>torch.cat</c>, <c>torch.flatten</c>) or <c>output</c>.
/// Arguments are <see cref="NodeRef"/>s, numbers, bools, strings, nulls or lists of them.
/// </summary>
public sealed record GraphNode(string Op, string Name, string Target, ImmutableArray<object?> Args, ImmutableDictionary<string, object?> Kwargs);

/// <summary>
/// A dataflow graph over named child layers, the forward of a PyTorch module traced by
/// <c>torch.fx</c> (written by <c>tools/export.py</c>): how models that are not a chain (ResNet's
/// skip connections, UNet's concatenations) arrive from PyTorch without hand-written code. It
/// evaluates tensors for <see cref="Layer.Forward"/> and shapes for <see cref="OutputShape"/>
/// along the same nodes, so shape errors name the node that failed.
/// </summary>
public sealed record Graph : Layer
{
    /// <summary>A graph of <paramref name="nodes"/> calling the layers in <paramref name="modules"/> by name.</summary>
    public Graph(IEnumerable<GraphNode> nodes, IReadOnlyDictionary<string, Layer> modules)
    {
        Nodes = [.. nodes];
        Modules = modules.ToImmutableDictionary();
        var seen = new HashSet<string>();
        foreach (var n in Nodes)
        {
            foreach (var r in Refs(n.Args).Concat(Refs(n.Kwargs.Values)))
                if (!seen.Contains(r.Name)) throw new ShapeException($"graph node '{n.Name}' uses '{r.Name}' before it is computed");
            if (n.Op == "call_module" && !Modules.ContainsKey(n.Target))
                throw new ShapeException($"graph node '{n.Name}' calls module '{n.Target}', which is not a child (children: {string.Join(", ", Modules.Keys)})");
            if (n.Op is not ("placeholder" or "call_module" or "call_function" or "call_method" or "output"))
                throw new ModuleDescriptionException($"graph node '{n.Name}': unsupported op '{n.Op}'");
            seen.Add(n.Name);
        }
        if (Nodes.Count(n => n.Op == "placeholder") != 1 || Nodes.Count(n => n.Op == "output") != 1)
            throw new ModuleDescriptionException("a graph needs exactly one placeholder (input) and one output node");
    }

    /// <summary>The nodes, in execution order.</summary>
    public ImmutableArray<GraphNode> Nodes { get; }

    /// <summary>The child layers <c>call_module</c> nodes call, by name.</summary>
    public ImmutableDictionary<string, Layer> Modules { get; }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Plan(input).Output;

    internal override ShapePlan Plan(Shape input)
    {
        // The modules' plans in node order, the order Execute calls them in.
        var parts = new List<ShapePlan>();
        var output = Evaluate<Shape>(input, new ShapeAlgebra(), (l, s) =>
        {
            parts.Add(l.Plan(s));
            return parts[^1].Output;
        });
        return new(input, output, [.. parts]);
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, Plan(input.Shape));

    private protected override Tensor Execute(Tensor input, ShapePlan plan, bool consuming)
    {
        int next = 0;
        return Evaluate<Tensor>(input, new TensorAlgebra(), (l, t) => l.Run(t, plan.Parts![next++]));
    }

    // Its nodes may return parameters or the input itself.
    internal override ForwardResult Returns => ForwardResult.Unknown;

    private T Evaluate<T>(T input, IAlgebra<T> algebra, Func<Layer, T, T> call) where T : notnull
    {
        var values = new Dictionary<string, object?>();
        foreach (var n in Nodes)
        {
            try
            {
                switch (n.Op)
                {
                    case "placeholder": values[n.Name] = input; break;
                    case "output": return (T)Resolve(n.Args[0], values)!;
                    case "call_module": values[n.Name] = call(Modules[n.Target], (T)Resolve(n.Args[0], values)!); break;
                    default:
                        values[n.Name] = algebra.Call(n.Target, n.Args.Select(a => Resolve(a, values)).ToList(),
                            n.Kwargs.ToDictionary(kv => kv.Key, kv => Resolve(kv.Value, values)));
                        break;
                }
            }
            catch (ShapeException e)
            {
                throw new ShapeException($"graph node '{n.Name}' ({n.Op} {n.Target}): {e.Message}");
            }
        }
        throw new ModuleDescriptionException("graph has no output node");
    }

    private static object? Resolve(object? arg, Dictionary<string, object?> values) => arg switch
    {
        NodeRef r => values[r.Name],
        ImmutableArray<object?> list => list.Select(a => Resolve(a, values)).ToList(),
        _ => arg,
    };

    private static IEnumerable<NodeRef> Refs(IEnumerable<object?> args) =>
        args.SelectMany(a => a switch
        {
            NodeRef r => [r],
            ImmutableArray<object?> list => Refs(list),
            _ => [],
        });

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() => [];

    /// <summary>Structural equality over nodes and modules.</summary>
    public bool Equals(Graph? other) => other is not null && Nodes.SequenceEqual(other.Nodes, NodeComparer.Instance) && Modules.Count == other.Modules.Count
        && Modules.All(kv => other.Modules.TryGetValue(kv.Key, out var l) && l == kv.Value);

    /// <inheritdoc/>
    public override int GetHashCode() => Nodes.Length;

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Join("; ", Nodes.Select(n => $"{n.Name} = {n.Op} {n.Target}"));

    private sealed class NodeComparer : IEqualityComparer<GraphNode>
    {
        public static readonly NodeComparer Instance = new();
        public bool Equals(GraphNode? a, GraphNode? b) => a is not null && b is not null && a.Op == b.Op && a.Name == b.Name && a.Target == b.Target
            && SameArgument(a.Args, b.Args) && SameArgument(a.Kwargs, b.Kwargs);

        /// <summary>Arguments compared by value: lists and keyword maps element by element, the rest (numbers, strings, node references) by Equals.</summary>
        private static bool SameArgument(object? a, object? b) => (a, b) switch
        {
            (ImmutableArray<object?> x, ImmutableArray<object?> y) => x.Length == y.Length && x.Zip(y).All(p => SameArgument(p.First, p.Second)),
            (ImmutableDictionary<string, object?> x, ImmutableDictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && SameArgument(kv.Value, v)),
            _ => Equals(a, b),
        };
        public int GetHashCode(GraphNode n) => HashCode.Combine(n.Op, n.Name, n.Target);
    }

    /// <summary>The tensor functions a graph may call, on tensors (Forward) or on shapes (OutputShape).</summary>
    private interface IAlgebra<T>
    {
        object Call(string function, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs);
    }

    private static object? Arg(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs, int index, string name, object? fallback = null) =>
        index < args.Count ? args[index] : kwargs.TryGetValue(name, out var v) ? v : fallback;

    private static int IntArg(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs, int index, string name, int fallback) =>
        Convert.ToInt32(Arg(args, kwargs, index, name, fallback));

    private static string Canonical(string function) => function switch
    {
        "_operator.add" or "operator.add" or "_operator.iadd" or "operator.iadd" or "torch.add" or "add" or "add_" => "add",
        "_operator.mul" or "operator.mul" or "_operator.imul" or "operator.imul" or "torch.mul" or "mul" or "mul_" => "mul",
        "torch.cat" or "torch.concat" => "cat",
        "torch.flatten" or "flatten" => "flatten",
        "torch.relu" or "torch.nn.functional.relu" or "relu" or "relu_" => "relu",
        "torch.sigmoid" or "sigmoid" => "sigmoid",
        "torch.tanh" or "tanh" => "tanh",
        "torch.nn.functional.silu" => "silu",
        "torch.nn.functional.gelu" => "gelu",
        _ => throw new ModuleDescriptionException($"graph function '{function}' is not supported (supported: operator.add/mul, torch.cat, torch.flatten, relu, sigmoid, tanh, silu, gelu)"),
    };

    private sealed class TensorAlgebra : IAlgebra<Tensor>
    {
        public object Call(string function, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
        {
            var x = args.Count > 0 ? args[0] as Tensor : null;
            switch (Canonical(function))
            {
                case "add": return Binary(args, kwargs, TensorOps.Add, (t, s) => t.Add(s));
                case "mul": return Binary(args, kwargs, TensorOps.Multiply, (t, s) => t.Multiply(s));
                case "cat": return TensorOps.Concat(((IEnumerable<object?>)args[0]!).Cast<Tensor>().ToList(), IntArg(args, kwargs, 1, "dim", 0));
                case "flatten": return x!.Flatten(IntArg(args, kwargs, 1, "start_dim", 0), IntArg(args, kwargs, 2, "end_dim", -1));
                case "relu": return x!.Relu();
                case "sigmoid": return x!.Sigmoid();
                case "tanh": return x!.Tanh();
                case "silu": return x!.Silu();
                default:
                    return x!.Gelu(Arg(args, kwargs, 1, "approximate", "none") as string == "tanh" ? GeluApproximation.Tanh : GeluApproximation.None);
            }
        }

        private static Tensor Binary(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs, Func<Tensor, Tensor, Tensor> both, Func<Tensor, float, Tensor> scalar)
        {
            var (a, b) = (args[0], Arg(args, kwargs, 1, "other"));
            return (a, b) switch
            {
                (Tensor x, Tensor y) => both(x, y),
                (Tensor x, IConvertible s) => scalar(x, Convert.ToSingle(s)),
                (IConvertible s, Tensor y) => scalar(y, Convert.ToSingle(s)),
                _ => throw new ShapeException($"cannot combine {a} and {b}"),
            };
        }
    }

    private sealed class ShapeAlgebra : IAlgebra<Shape>
    {
        public object Call(string function, IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
        {
            var x = args.Count > 0 && args[0] is Shape s ? s : default;
            switch (Canonical(function))
            {
                case "add" or "mul":
                    var (a, b) = (args[0], Arg(args, kwargs, 1, "other"));
                    return (a, b) switch
                    {
                        (Shape p, Shape q) => TensorOps.BroadcastShape(p, q),
                        (Shape p, _) => p,
                        (_, Shape q) => q,
                        _ => throw new ShapeException($"cannot combine {a} and {b}"),
                    };
                case "cat": return TensorOps.ConcatShape(((IEnumerable<object?>)args[0]!).Cast<Shape>().ToList(), IntArg(args, kwargs, 1, "dim", 0));
                case "flatten": return TensorOps.FlattenShape(x, IntArg(args, kwargs, 1, "start_dim", 0), IntArg(args, kwargs, 2, "end_dim", -1));
                default: return x;
            }
        }
    }
}
