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
/// <c>get_attr</c> (a parameter or buffer of the module, by its dotted path), <c>call_module</c> (a
/// child layer by name), <c>call_function</c> / <c>call_method</c> (a tensor function such as
/// <c>operator.add</c>, <c>torch.cat</c>, <c>x.view</c>) or <c>output</c>. Arguments are
/// <see cref="NodeRef"/>s, numbers, bools, strings, nulls, <see cref="SliceArg"/>s,
/// <see cref="IndexItem.Ellipsis"/>, <see cref="DictArg"/>s or lists of them.
/// </summary>
public sealed record GraphNode(string Op, string Name, string Target, ImmutableArray<object?> Args, ImmutableDictionary<string, object?> Kwargs);

/// <summary>
/// A dataflow graph over named child layers, the forward of a PyTorch module traced by
/// <c>torch.fx</c> (written by <c>tools/export.py</c>): how models that are not a chain (ResNet's
/// skip connections, UNet's concatenations, <c>F.*</c> calls, <c>view</c>/<c>chunk</c>/<c>permute</c>,
/// parameters read in <c>forward</c>) arrive from PyTorch without hand-written code.
/// <para>
/// Every node is checked when the graph is built (op, function, argument count and kinds,
/// references, names, output), so a graph that cannot run fails at load with a
/// <see cref="ModuleDescriptionException"/> naming the node. Functions come from one table
/// (<see cref="SupportedFunctions"/>) that maps each <c>torch.fx</c> target onto the library's
/// layers and tensor functions. Tensors (<see cref="Layer.Forward"/>) and shapes
/// (<see cref="OutputShape"/>) are evaluated along the same nodes, so shape errors name the node.
/// </para>
/// <para>
/// A run frees each intermediate right after its last reader (never the input, a parameter, or a
/// value still read later or returned), and lets an element-wise node write over an intermediate
/// it alone consumes, as <see cref="Sequential"/> does.
/// </para>
/// <para>
/// A <c>forward</c> that returns a tuple, a list or a dict: <see cref="Layer.Forward"/> and
/// <see cref="OutputShape"/> give its first tensor (the first entry of a dict, such as
/// segmentation's <c>"out"</c>); <see cref="ForwardOutputs"/> gives every tensor with its name.
/// </para>
/// </summary>
public sealed partial record Graph : Layer
{
    private readonly Step[] steps;
    private readonly string owner;
    private readonly HashSet<Tensor> attributeSet;

    /// <summary>
    /// A graph of <paramref name="nodes"/> calling the layers in <paramref name="modules"/> by name
    /// and reading <paramref name="attributes"/> (<c>get_attr</c> targets: the module's parameters
    /// and buffers by dotted path). <paramref name="owner"/> names the module in error messages.
    /// </summary>
    public Graph(IEnumerable<GraphNode> nodes, IReadOnlyDictionary<string, Layer> modules,
        IReadOnlyDictionary<string, Tensor>? attributes = null, string owner = "graph")
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(modules);
        this.owner = owner;
        Nodes = [.. nodes];
        Modules = modules.ToImmutableDictionary();
        Attributes = (attributes ?? ImmutableDictionary<string, Tensor>.Empty).ToImmutableDictionary();
        attributeSet = new HashSet<Tensor>(Attributes.Values, ReferenceEqualityComparer.Instance);
        steps = Compile();
    }

    /// <summary>The nodes, in execution order.</summary>
    public ImmutableArray<GraphNode> Nodes { get; }

    /// <summary>The child layers <c>call_module</c> nodes call, by name.</summary>
    public ImmutableDictionary<string, Layer> Modules { get; }

    /// <summary>The tensors <c>get_attr</c> nodes read, by target (dotted path relative to the module).</summary>
    public ImmutableDictionary<string, Tensor> Attributes { get; }

    /// <summary>The <c>call_function</c> targets and <c>call_method</c> names (as <c>Tensor.name</c>) a graph may use.</summary>
    public static IEnumerable<string> SupportedFunctions => GraphFunctions.Supported;

    // ---- load-time compilation and checks ----

    /// <summary>A reference resolved to the index of the node whose value it reads.</summary>
    private sealed record Slot(int Index);

    private enum Provenance { New, Input, Held }

    /// <summary>A node ready to run: its function row or layer, arguments bound to parameters, and who reads its value last.</summary>
    private sealed class Step
    {
        public required GraphNode Node;
        public GraphFunction? Function;
        public Layer? Layer;
        public object?[] Arguments = [];
        public int[] Reads = [];
        public ValueKind Kind;
        public Provenance Provenance;
        /// <summary>The index of the last node that reads this value; int.MaxValue when the output returns it.</summary>
        public int LastUse = -1;
        /// <summary>Values whose last reader is this node, released right after it.</summary>
        public int[] Releases = [];
    }

    private ModuleDescriptionException Fail(GraphNode n, string message) =>
        new($"{owner}: graph node '{n.Name}' ({n.Op}{(string.IsNullOrEmpty(n.Target) ? "" : " " + n.Target)}): {message}");

    private Step[] Compile()
    {
        var index = new Dictionary<string, int>();
        var result = new Step[Nodes.Length];
        for (int i = 0; i < Nodes.Length; i++)
        {
            var n = Nodes[i] ?? throw new ModuleDescriptionException($"{owner}: graph node {i} is null");
            if (string.IsNullOrEmpty(n.Name)) throw Fail(n, "a node needs a non-empty name");
            if (n.Args.IsDefault || n.Kwargs is null) throw Fail(n, "arguments missing");
            var step = new Step { Node = n };
            var reads = new List<int>();
            object? Link(object? a) => a switch
            {
                NodeRef r => index.TryGetValue(r.Name ?? "", out int j) ? Record(j) : throw Fail(n, $"uses '{r.Name}' before it is computed (or it does not exist)"),
                ImmutableArray<object?> list => list.Select(Link).ToImmutableArray(),
                SliceArg s => new SliceArg(Link(s.Start), Link(s.Stop), Link(s.Step)),
                DictArg d => new DictArg(d.Entries.Select(e => (e.Key, Link(e.Value))).ToImmutableArray()),
                null or long or double or bool or string or IndexItem.Ellipsis => a,
                int k => (long)k,
                float f => (double)f,
                _ => throw Fail(n, $"unsupported argument {Call.Describe(a)}"),
            };
            Slot Record(int j)
            {
                reads.Add(j);
                return new Slot(j);
            }
            var args = n.Args.Select(Link).ToList();
            var kwargs = n.Kwargs.ToDictionary(kv => kv.Key, kv => Link(kv.Value));
            step.Reads = [.. reads];
            switch (n.Op)
            {
                case "placeholder":
                    if (result.Take(i).Any(s => s.Node.Op == "placeholder")) throw Fail(n, "a graph has exactly one input (placeholder)");
                    step.Kind = ValueKind.Tensor;
                    step.Provenance = Provenance.Input;
                    break;
                case "get_attr":
                    if (!Attributes.ContainsKey(n.Target ?? ""))
                        throw Fail(n, $"reads '{n.Target}', which is not among the module's tensors ({(Attributes.IsEmpty ? "none" : string.Join(", ", Attributes.Keys.Order()))})");
                    if (args.Count > 0 || kwargs.Count > 0) throw Fail(n, "get_attr takes no arguments");
                    step.Kind = ValueKind.Tensor;
                    step.Provenance = Provenance.Held;
                    break;
                case "call_module":
                    if (!Modules.TryGetValue(n.Target ?? "", out var layer))
                        throw Fail(n, $"calls module '{n.Target}', which is not a child (children: {string.Join(", ", Modules.Keys.Order())})");
                    if (args.Count != 1 || kwargs.Count > 0) throw Fail(n, $"a child layer takes one tensor argument, got {args.Count} positional and {kwargs.Count} keyword arguments");
                    CheckKind(n, result, "input", "Tensor", false, args[0]);
                    step.Layer = layer;
                    step.Arguments = [args[0]];
                    step.Kind = ValueKind.Tensor;
                    step.Provenance = layer.Returns switch
                    {
                        ForwardResult.New => Provenance.New,
                        ForwardResult.Input => ProvenanceOf(result, args[0]),
                        _ => Provenance.Held,
                    };
                    break;
                case "call_function" or "call_method":
                    CompileCall(n, step, result, args, kwargs);
                    break;
                case "output":
                    if (i != Nodes.Length - 1) throw Fail(n, "the output must be the last node");
                    if (args.Count != 1 || kwargs.Count > 0) throw Fail(n, $"the output takes one argument, got {args.Count}");
                    if (FirstTensor(args[0]) is not Slot first || result[first.Index].Kind == ValueKind.Value)
                        throw Fail(n, $"the output must return a tensor, or a tuple, list or dict whose first entry is one; got {Call.Describe(args[0])}");
                    step.Arguments = [args[0]];
                    step.Provenance = result[first.Index].Provenance;
                    break;
                default:
                    throw Fail(n, $"unsupported op '{n.Op}' (expected placeholder, get_attr, call_module, call_function, call_method or output)");
            }
            if (!index.TryAdd(n.Name, i)) throw Fail(n, "a node of that name comes earlier");
            result[i] = step;
        }
        if (result.Length == 0 || result[^1].Node.Op != "output") throw new ModuleDescriptionException($"{owner}: a graph needs an output node, last");
        if (!result.Any(s => s.Node.Op == "placeholder")) throw new ModuleDescriptionException($"{owner}: a graph needs an input (placeholder) node");
        // Last readers: the output keeps what it returns; any other value is released after its last reader.
        for (int i = 0; i < result.Length; i++)
            foreach (int j in result[i].Reads)
                result[j].LastUse = result[i].Node.Op == "output" ? int.MaxValue : i;
        var releases = result.Select(_ => new List<int>()).ToArray();
        for (int j = 0; j < result.Length; j++)
            if (result[j].LastUse >= 0 && result[j].LastUse < int.MaxValue) releases[result[j].LastUse].Add(j);
            else if (result[j].LastUse < 0 && result[j].Node.Op is "call_module" or "call_function" or "call_method") releases[j].Add(j); // never read
        for (int i = 0; i < result.Length; i++) result[i].Releases = [.. releases[i]];
        return result;
    }

    private static object? FirstTensor(object? a) => a switch
    {
        Slot s => s,
        ImmutableArray<object?> list => list.Select(FirstTensor).FirstOrDefault(x => x is not null),
        DictArg d => d.Entries.Select(e => FirstTensor(e.Value)).FirstOrDefault(x => x is not null),
        _ => null,
    };

    private static Provenance ProvenanceOf(Step[] steps, object? a) => a is Slot s ? steps[s.Index].Provenance : Provenance.Held;

    private void CompileCall(GraphNode n, Step step, Step[] compiled, List<object?> args, Dictionary<string, object?> kwargs)
    {
        string key = GraphFunctions.Key(n.Op, n.Target ?? "");
        if (!GraphFunctions.Table.TryGetValue(key, out var function))
        {
            string leaf = key[(key.LastIndexOf('.') + 1)..];
            var near = GraphFunctions.Supported.Where(t => t.EndsWith("." + leaf)).ToList();
            throw Fail(n, $"{(n.Op == "call_method" ? "method" : "function")} '{n.Target}' is not supported"
                + (near.Count > 0 ? $" (supported with that name: {string.Join(", ", near)})" : $" ({GraphFunctions.Table.Count} targets are: see Graph.SupportedFunctions)"));
        }
        var (bound, error) = function.Signature.Bind(args, kwargs);
        if (error is not null) throw Fail(n, error);
        var parameters = function.Signature.Parameters;
        for (int k = 0; k < parameters.Length; k++)
            CheckKind(n, compiled, parameters[k].Name, parameters[k].Kind, parameters[k].Optional || (!parameters[k].Required && parameters[k].Default is null), bound[k]);
        step.Function = function;
        step.Arguments = bound;
        step.Kind = function.Result;
        if (function.Result == ValueKind.Any && function.Target != "_operator.getitem")
            // Arithmetic: a tensor when any operand is one, a number otherwise.
            step.Kind = bound.Any(a => a is Slot s && compiled[s.Index].Kind == ValueKind.Tensor) ? ValueKind.Tensor
                : bound.All(a => a is not Slot s || compiled[s.Index].Kind == ValueKind.Value) ? ValueKind.Value : ValueKind.Any;
        // Rows that may hand back an argument itself (identities, squeeze, getitem of a tuple) pass on where it came from.
        step.Provenance = !PassesThrough(function) ? Provenance.New
            : bound.Where(a => a is Slot).Select(a => ProvenanceOf(compiled, a)).DefaultIfEmpty(Provenance.Held).Aggregate((p, q) => p == q ? p : Provenance.Held);
        // Load-time checks and layers built once: a call that sees only constants (parameters included).
        var constants = bound.Select(a => Constant(compiled, a)).ToArray();
        try
        {
            function.Check?.Invoke(new Call(function, constants, shapes: false, consumable: null, isStatic: true));
        }
        catch (Call.NotStatic) { }
        catch (Exception e) when (e is ShapeException or ModuleDescriptionException) { throw Fail(n, e.Message); }
        if (function.Layer is { } make)
        {
            try { step.Layer = make(new Call(function, constants, shapes: false, consumable: null, isStatic: true)); }
            catch (Call.NotStatic) { }
            catch (Exception e) when (e is ShapeException or ModuleDescriptionException or KeyNotFoundException) { throw Fail(n, e.Message); }
        }
    }

    /// <summary>Whether a row may return one of its arguments unchanged (so its result is not necessarily the graph's own).</summary>
    private static bool PassesThrough(GraphFunction f) =>
        f.Target is "_operator.getitem" or "Tensor.contiguous" or "Tensor.float" or "Tensor.detach" or "Tensor.clone" or "torch.clone"
            or "Tensor.squeeze" or "torch.squeeze" || f.Target.Contains("dropout") || f.Target.Contains("stochastic_depth");

    /// <summary>An argument as the load-time call sees it: parameters resolved, other node values left as slots.</summary>
    private object? Constant(Step[] compiled, object? a) => a switch
    {
        Slot s when compiled[s.Index].Node.Op == "get_attr" => Attributes[compiled[s.Index].Node.Target],
        ImmutableArray<object?> list => list.Select(e => Constant(compiled, e)).ToList(),
        SliceArg sl when !IsUnresolved(sl) => ToSlice(sl.Start, sl.Stop, sl.Step),
        _ => a,
    };

    /// <summary>Whether a load-time argument still holds a node value only a run knows.</summary>
    internal static bool IsUnresolved(object? v) => v switch
    {
        Slot => true,
        IReadOnlyList<object?> l => l.Any(IsUnresolved),
        SliceArg s => IsUnresolved(s.Start) || IsUnresolved(s.Stop) || IsUnresolved(s.Step),
        _ => false,
    };

    /// <summary>Checks a bound argument against its parameter's kind, as far as constants and the producers' kinds tell.</summary>
    private void CheckKind(GraphNode n, Step[] compiled, string name, string kind, bool optional, object? a)
    {
        ValueKind KindOf(object? v) => v is Slot s ? compiled[s.Index].Kind : ValueKind.Value;
        bool NotTensor(object? v) => v is Slot s ? compiled[s.Index].Kind != ValueKind.Tensor : v is not null || !optional;
        bool Fits(object? v) => kind switch
        {
            _ when v is null => optional || kind == "any",
            "Tensor" => v is Slot && KindOf(v) != ValueKind.Value,
            "Tensors" => v is ImmutableArray<object?> l ? l.Length > 0 && l.All(e => e is Slot && KindOf(e) != ValueKind.Value) : v is Slot && KindOf(v) != ValueKind.Tensor,
            "operand" => v is long or double || v is Slot,
            "int" => v is long || v is Slot && NotTensor(v),
            "ints" => v is long || v is Slot && NotTensor(v) || v is ImmutableArray<object?> l && l.All(e => e is long || e is Slot && NotTensor(e)),
            "float" => v is long or double || v is Slot && NotTensor(v),
            "bool" => v is bool || v is Slot && NotTensor(v),
            "str" => v is string,
            _ => true,
        };
        if (!Fits(a)) throw Fail(n, $"argument '{name}' must be {KindName(kind)}{(optional ? " or None" : "")}, got {(a is Slot s ? $"the value of node '{compiled[s.Index].Node.Name}' ({compiled[s.Index].Kind.ToString().ToLowerInvariant()})" : Call.Describe(a))}");
    }

    private static string KindName(string kind) => kind switch
    {
        "Tensor" => "a tensor",
        "Tensors" => "a non-empty list of tensors",
        "operand" => "a tensor or a number",
        "int" => "an int",
        "ints" => "an int or a list of ints",
        "float" => "a number",
        "bool" => "True or False",
        "str" => "a string",
        _ => kind,
    };

    // ---- running ----

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Plan(input).Output;

    /// <summary>The output shape, with each child layer's plan by node (see <see cref="Layer.Plan"/>), so a run checks no shape twice.</summary>
    internal override ShapePlan Plan(Shape input)
    {
        var plans = new ShapePlan[steps.Length];
        var output = FirstOf(Run(input, shapes: true, plans).Output) switch
        {
            Shape s => s,
            Tensor t => t.Shape, // a parameter returned as it is
            _ => throw new ModuleDescriptionException($"{owner}: the graph's output holds no tensor"),
        };
        return new(input, output, plans);
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, Plan(input.Shape));

    private protected override Tensor Execute(Tensor input, ShapePlan plan, bool consuming)
    {
        var (output, owned) = Run(input, shapes: false, plan.Parts);
        var first = (Tensor)FirstOf(output)!;
        // The other outputs (a dict's "aux") nobody sees through Forward: give their storage back.
        foreach (var t in Tensors(output))
            if (!ReferenceEquals(t, first) && owned.Remove(t)) t.Dispose();
        return first;
    }

    /// <summary>
    /// Every tensor the forward returns, with its name: a dict's keys, a tuple's or list's positions
    /// (<c>0</c>, <c>1</c>, …, nested as <c>1.0</c>), or <c>output</c> for a single tensor.
    /// Non-tensor entries (sizes) are left out.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Value)> ForwardOutputs(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (output, _) = Run(input, shapes: false, Plan(input.Shape).Parts);
        var named = new List<(string, Tensor)>();
        Name(output, "", named);
        return named;

        static void Name(object? v, string prefix, List<(string, Tensor)> into)
        {
            switch (v)
            {
                case Tensor t: into.Add((prefix.Length == 0 ? "output" : prefix, t)); break;
                case OutputDict d: foreach (var (k, e) in d.Entries) Name(e, prefix.Length == 0 ? k : $"{prefix}.{k}", into); break;
                case IReadOnlyList<object?> l: for (int i = 0; i < l.Count; i++) Name(l[i], prefix.Length == 0 ? $"{i}" : $"{prefix}.{i}", into); break;
            }
        }
    }

    /// <summary>A dict the forward returned, keys in order.</summary>
    private sealed record OutputDict(IReadOnlyList<(string Key, object? Value)> Entries);

    private static object? FirstOf(object? v) => v switch
    {
        Tensor or Shape => v,
        OutputDict d => d.Entries.Select(e => FirstOf(e.Value)).FirstOrDefault(x => x is not null),
        IReadOnlyList<object?> l => l.Select(FirstOf).FirstOrDefault(x => x is not null),
        _ => null,
    };

    /// <summary>The tensors in a value (a tensor, or the tensors of a tuple, list or dict), each once.</summary>
    private static IEnumerable<Tensor> Tensors(object? v) => v switch
    {
        Tensor t => [t],
        OutputDict d => d.Entries.SelectMany(e => Tensors(e.Value)).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>(),
        IReadOnlyList<object?> l => l.SelectMany(Tensors).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>(),
        _ => [],
    };

    /// <summary>
    /// Evaluates the nodes for tensors or for shapes. In a tensor run, <c>owned</c> counts for each
    /// tensor this run made how many live node values hold it; at zero it is disposed.
    /// </summary>
    private (object? Output, Dictionary<Tensor, int> Owned) Run(object input, bool shapes, ShapePlan[]? plans)
    {
        var values = new object?[steps.Length];
        var owned = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        // Tensors run the fused plan (same nodes, same shapes; see GraphFusion.cs), shapes the nodes as written.
        var run = shapes ? steps : Execution;
        for (int i = 0; i < run.Length; i++)
        {
            var step = run[i];
            var n = step.Node;
            try
            {
                object? value;
                switch (n.Op)
                {
                    case "placeholder": value = input; break;
                    case "get_attr": value = Attributes[n.Target]; break;
                    case GraphFusionPassOp: value = Resolve(step.Arguments[0], values); break; // a fused node's reader (GraphFusion.cs)
                    case "output": return (Resolve(step.Arguments[0], values), owned);
                    case "call_module":
                        {
                            var x = Resolve(step.Arguments[0], values);
                            if (shapes)
                            {
                                var plan = step.Layer!.Plan(x is Tensor t0 ? t0.Shape : x is Shape s0 ? s0 : throw Fail(n, $"a child layer takes a tensor, got {Call.Describe(x)}"));
                                if (plans is not null) plans[i] = plan;
                                value = plan.Output;
                            }
                            else
                            {
                                var t = x as Tensor ?? throw Fail(n, $"a child layer takes a tensor, got {Call.Describe(x)}");
                                var plan = plans is null ? step.Layer!.Plan(t.Shape) : plans[i]; // Run plans afresh if the shapes disagree
                                value = step.Layer!.Run(t, plan, consuming: ReferenceEquals(t, Consumable(i, values, owned)));
                            }
                            break;
                        }
                    default:
                        {
                            var arguments = new object?[step.Arguments.Length];
                            for (int k = 0; k < arguments.Length; k++) arguments[k] = Resolve(step.Arguments[k], values);
                            var call = new Call(step.Function!, arguments, shapes, shapes ? null : Consumable(i, values, owned), isStatic: false);
                            value = step.Layer is { } layer ? call.Apply(layer) : step.Function!.Run(call);
                            break;
                        }
                }
                values[i] = value;
                if (!shapes)
                {
                    if (value is Tensor single) Own(single, owned, step.Provenance, input);
                    else foreach (var t in Tensors(value)) Own(t, owned, step.Provenance, input);
                    foreach (int j in step.Releases) Release(j, values, owned);
                }
            }
            catch (ShapeException e)
            {
                throw new ShapeException($"graph node '{n.Name}' ({n.Op} {n.Target}): {e.Message}");
            }
            catch (ModuleDescriptionException e) when (!e.Message.StartsWith(owner + ": graph node", StringComparison.Ordinal))
            {
                throw Fail(n, e.Message);
            }
            catch (Exception e) when (e is InvalidCastException or NullReferenceException or IndexOutOfRangeException or KeyNotFoundException
                or FormatException or OverflowException or ArgumentOutOfRangeException or InvalidOperationException)
            {
                // A last guard: a malformed graph that slipped past the load-time checks still fails with the library's exception.
                throw Fail(n, $"{e.GetType().Name}: {e.Message}");
            }
        }
        throw new ModuleDescriptionException($"{owner}: graph has no output node");
    }

    /// <summary>Counts one more live value holding <paramref name="t"/>, or starts counting a tensor this run made.</summary>
    private void Own(Tensor t, Dictionary<Tensor, int> owned, Provenance provenance, object input)
    {
        if (owned.TryGetValue(t, out int c)) owned[t] = c + 1;
        else if (provenance == Provenance.New && !ReferenceEquals(t, input) && !attributeSet.Contains(t)) owned[t] = 1;
    }

    /// <summary>
    /// The argument of node <paramref name="i"/> it may write over: a tensor this run made, held by
    /// exactly one live value that only node <paramref name="i"/> still reads, once, and shared with no view.
    /// </summary>
    private Tensor? Consumable(int i, object?[] values, Dictionary<Tensor, int> owned)
    {
        var step = steps[i];
        foreach (int j in step.Releases)
            if (j != i && values[j] is Tensor t && owned.TryGetValue(t, out int c) && c == 1 && ReadsOnce(step.Reads, j) && t.HasSoleStorage)
                return t;
        return null;
    }

    private static bool ReadsOnce(int[] reads, int j)
    {
        int n = 0;
        foreach (int r in reads) if (r == j) n++;
        return n == 1;
    }

    private static void Release(int j, object?[] values, Dictionary<Tensor, int> owned)
    {
        if (values[j] is Tensor single) Drop(single, owned);
        else foreach (var t in Tensors(values[j])) Drop(t, owned);
        values[j] = null;

        static void Drop(Tensor t, Dictionary<Tensor, int> owned)
        {
            if (!owned.TryGetValue(t, out int c)) return;
            if (c > 1) owned[t] = c - 1;
            else
            {
                owned.Remove(t);
                t.Dispose();
            }
        }
    }

    /// <summary>An argument's value in this run.</summary>
    private static object? Resolve(object? arg, object?[] values) => arg switch
    {
        Slot s => values[s.Index],
        ImmutableArray<object?> list => list.Select(a => Resolve(a, values)).ToList(),
        IReadOnlyList<object?> list => list.Select(a => Resolve(a, values)).ToList(),
        SliceArg s => ToSlice(Resolve(s.Start, values), Resolve(s.Stop, values), Resolve(s.Step, values)),
        DictArg d => new OutputDict(d.Entries.Select(e => (e.Key, Resolve(e.Value, values))).ToList()),
        _ => arg,
    };

    private static IndexItem.Slice ToSlice(object? start, object? stop, object? step)
    {
        static long? Part(object? v) => v switch
        {
            null => null,
            long i => i,
            _ => throw new ModuleDescriptionException($"a slice bound must be an int or None, got {Call.Describe(v)}"),
        };
        return new IndexItem.Slice(Part(start), Part(stop), Part(step));
    }

    internal override ForwardResult Returns => steps[^1].Provenance switch
    {
        Provenance.New => ForwardResult.New,
        Provenance.Input => ForwardResult.Input,
        _ => ForwardResult.Unknown,
    };

    /// <summary>The tensors <c>get_attr</c> nodes read, under their state_dict names relative to the module.</summary>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() => Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value));

    /// <summary>Structural equality over nodes, modules and attributes.</summary>
    public bool Equals(Graph? other) => other is not null && Nodes.SequenceEqual(other.Nodes, NodeComparer.Instance) && Modules.Count == other.Modules.Count
        && Modules.All(kv => other.Modules.TryGetValue(kv.Key, out var l) && l == kv.Value)
        && Attributes.Count == other.Attributes.Count && Attributes.All(kv => other.Attributes.TryGetValue(kv.Key, out var t) && ReferenceEquals(t, kv.Value));

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
            (DictArg x, DictArg y) => x.Entries.Length == y.Entries.Length && x.Entries.Zip(y.Entries).All(p => p.First.Key == p.Second.Key && SameArgument(p.First.Value, p.Second.Value)),
            _ => Equals(a, b),
        };
        public int GetHashCode(GraphNode n) => HashCode.Combine(n.Op, n.Name, n.Target);
    }
}
