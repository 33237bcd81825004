using System.Collections.Immutable;
using System.Text;

namespace Functional;

/// <summary>
/// Combinators for networks that are not a plain chain, in the style of <see cref="Layer.Then"/>:
/// each is a layer whose parts are layers, so shapes are inferred and checked through them.
/// </summary>
public static class Combine
{
    /// <summary><c>x + body(x)</c>, or <c>shortcut(x) + body(x)</c> with a projection on the skip path (ResNet).</summary>
    public static Residual Residual(Layer body, Layer? shortcut = null) => new(body, shortcut);

    /// <summary>Runs every branch on the same input and concatenates their outputs along <paramref name="dim"/> (Inception, DenseNet, UNet skips).</summary>
    public static Branches Concat(int dim, params Layer[] branches) => new(BranchJoin.Concat, dim, [.. branches]);

    /// <summary>Runs every branch on the same input and adds their outputs (with broadcasting).</summary>
    public static Branches Sum(params Layer[] branches) => new(BranchJoin.Sum, 0, [.. branches]);

    /// <summary>
    /// Runs every branch on the same input and multiplies their outputs (with broadcasting), e.g.
    /// squeeze-and-excitation: <c>Product(new Identity(), gate)</c>.
    /// </summary>
    public static Branches Product(params Layer[] branches) => new(BranchJoin.Product, 0, [.. branches]);

    /// <summary>A user function as a layer, with a name for printing and a shape rule for inference.</summary>
    public static Function Function(string name, Func<Tensor, Tensor> forward, Func<Shape, Shape> outputShape) => new(name, forward, outputShape);
}

/// <summary><c>shortcut(x) + body(x)</c>; the shortcut is the identity when null. Both paths must give the same shape.</summary>
public sealed record Residual(Layer Body, Layer? Shortcut = null) : Layer
{
    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Plan(input).Output;

    internal override ShapePlan Plan(Shape input)
    {
        var body = Body.Plan(input);
        var skip = Shortcut?.Plan(input) ?? new(input, input, null);
        if (body.Output != skip.Output)
            throw Error($"the body gives {body.Output} but the {(Shortcut is null ? "identity shortcut" : "shortcut")} gives {skip.Output} for input {input}; they must match to be added");
        return new(input, body.Output, [body, skip]);
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, Plan(input.Shape));

    private protected override Tensor Execute(Tensor input, ShapePlan plan, bool consuming)
    {
        var body = Body.Run(input, plan.Parts![0]);
        var skip = Shortcut?.Run(input, plan.Parts[1]) ?? input;
        // The body's output is ours alone when the body made it: the sum can go over it.
        bool ownBody = Body.Returns == ForwardResult.New && !ReferenceEquals(body, input) && !ReferenceEquals(body, skip) && body.HasSoleStorage;
        var sum = ownBody ? body.AddInPlace(skip) : body + skip;
        DisposeIntermediate(Body, input, body, sum);
        if (Shortcut is not null) DisposeIntermediate(Shortcut, input, skip, sum);
        return sum;
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() => Children.SelectMany(c => c.Layer.Parameters().Select(p => ($"{c.Name}.{p.Name}", p.Value)));

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Buffers() => Children.SelectMany(c => c.Layer.Buffers().Select(p => ($"{c.Name}.{p.Name}", p.Value)));

    private IEnumerable<(string Name, Layer Layer)> Children => Shortcut is null ? [("body", Body)] : [("body", Body), ("shortcut", Shortcut)];

    /// <inheritdoc/>
    protected internal override void Print(StringBuilder sb, int indent) => Printing.Children(sb, indent, TypeName, Children);
}

/// <summary>How <see cref="Branches"/> joins its branches' outputs.</summary>
public enum BranchJoin
{
    /// <summary>Concatenate along a dimension.</summary>
    Concat,
    /// <summary>Add element-wise (broadcasting).</summary>
    Sum,
    /// <summary>Multiply element-wise (broadcasting).</summary>
    Product,
}

/// <summary>Runs several branches on the same input and joins their outputs (see <see cref="Combine"/>).</summary>
public sealed record Branches(BranchJoin Join, int Dim, ImmutableArray<Layer> Layers) : Layer
{
    /// <inheritdoc/>
    public override string TypeName => Join.ToString();

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Plan(input).Output;

    internal override ShapePlan Plan(Shape input)
    {
        if (Layers.IsDefaultOrEmpty) throw Error("needs at least one branch");
        var parts = Layers.Select((l, i) =>
        {
            try { return l.Plan(input); }
            catch (ShapeException e) { throw Error($"branch ({i}) {l.TypeName} given input of shape {input}: {e.Message}"); }
        }).ToArray();
        var result = parts[0].Output;
        for (int i = 1; i < parts.Length; i++)
        {
            try
            {
                result = Join == BranchJoin.Concat ? TensorOps.ConcatShape([result, parts[i].Output], Dim) : TensorOps.BroadcastShape(result, parts[i].Output);
            }
            catch (ShapeException e) { throw Error($"branch ({i}) gives {parts[i].Output}, which cannot be joined with {result}: {e.Message}"); }
        }
        return new(input, result, parts);
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, Plan(input.Shape));

    private protected override Tensor Execute(Tensor input, ShapePlan plan, bool consuming)
    {
        var outputs = Layers.Select((l, i) => l.Run(input, plan.Parts![i])).ToList();
        var joined = Join switch
        {
            BranchJoin.Concat => TensorOps.Concat(outputs, Dim),
            BranchJoin.Sum => Fold(outputs, TensorOps.Add),
            _ => Fold(outputs, TensorOps.Multiply),
        };
        for (int i = 0; i < outputs.Count; i++) DisposeIntermediate(Layers[i], input, outputs[i], joined);
        return joined;
    }

    /// <summary>Joins left to right, disposing the partial results along the way.</summary>
    private static Tensor Fold(List<Tensor> outputs, Func<Tensor, Tensor, Tensor> join)
    {
        var acc = outputs[0];
        for (int i = 1; i < outputs.Count; i++)
        {
            var next = join(acc, outputs[i]);
            if (i > 1) acc.Dispose();
            acc = next;
        }
        return acc;
    }

    internal override ForwardResult Returns => Layers.Length == 1 && Join != BranchJoin.Concat ? Layers[0].Returns : ForwardResult.New;

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        Layers.SelectMany((l, i) => l.Parameters().Select(p => ($"{i}.{p.Name}", p.Value)));

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Buffers() =>
        Layers.SelectMany((l, i) => l.Buffers().Select(p => ($"{i}.{p.Name}", p.Value)));

    /// <summary>Structural equality over the branches.</summary>
    public bool Equals(Branches? other) =>
        other is not null && Join == other.Join && Dim == other.Dim && Layers.AsSpan().SequenceEqual(other.Layers.AsSpan());

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Join, Dim, Layers.Length);

    /// <inheritdoc/>
    protected internal override void Print(StringBuilder sb, int indent) =>
        Printing.Children(sb, indent, TypeName, Layers.Select((l, i) => (i.ToString(), l)), Join == BranchJoin.Concat ? $"dim={Dim}" : "");
}

/// <summary>A user function as a layer: a name to print, the function, and its shape rule.</summary>
public sealed record Function(string Name, Func<Tensor, Tensor> Apply, Func<Shape, Shape> ShapeRule) : Layer
{
    /// <inheritdoc/>
    public override string TypeName => Name;

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => ShapeRule(input);

    /// <inheritdoc/>
    internal override ForwardResult Returns => ForwardResult.Unknown;

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape)
    {
        var y = Apply(input);
        if (y.Shape != outputShape)
            throw Error($"returned shape {y.Shape} but its shape rule promised {outputShape} for input {input.Shape}");
        return y;
    }
}

/// <summary>
/// A PyTorch module with named children, like a <c>torch.nn.Module</c> subclass: it prints and
/// names its state_dict entries by its children (<c>conv1.weight</c>, <c>downsample.0.weight</c>),
/// and computes with <see cref="Body"/>, a layer expression built from those same children
/// (<c>Residual(conv1 &gt;&gt; bn1 &gt;&gt; relu &gt;&gt; conv2 &gt;&gt; bn2, downsample) &gt;&gt; relu</c>),
/// so shape inference works through it.
/// </summary>
public sealed record Module : Layer
{
    /// <summary>A module of PyTorch type <paramref name="typeName"/> with its named children and the expression it computes.</summary>
    public Module(string typeName, IEnumerable<(string Name, Layer Layer)> children, Layer body)
    {
        ModuleType = typeName;
        Children = [.. children];
        var names = new HashSet<string>();
        foreach (var (name, _) in Children)
            if (!names.Add(name)) throw new ShapeException($"{typeName}: duplicate child name '{name}'");
        Body = body;
    }

    /// <summary>The PyTorch class name it prints as.</summary>
    public string ModuleType { get; init; }

    /// <summary>The children by name, in PyTorch's registration order.</summary>
    public ImmutableArray<(string Name, Layer Layer)> Children { get; init; }

    /// <summary>What the module computes, built from its children.</summary>
    public Layer Body { get; init; }

    /// <summary>What PyTorch's <c>extra_repr()</c> prints before the children (empty for most modules).</summary>
    public string ExtraReprText { get; init; } = "";

    /// <summary>The whole printout of a module whose class overrides <c>__repr__</c> (torchvision's <c>StochasticDepth</c>), or null.</summary>
    public string? Printout { get; init; }

    /// <summary>The child named <paramref name="name"/>.</summary>
    public Layer this[string name] => Children.FirstOrDefault(c => c.Name == name).Layer
        ?? throw new KeyNotFoundException($"{ModuleType} has no child '{name}' (children: {string.Join(", ", Children.Select(c => c.Name))})");

    /// <inheritdoc/>
    public override string TypeName => ModuleType;

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Plan(input).Output;

    internal override ShapePlan Plan(Shape input)
    {
        try { return Body.Plan(input); }
        catch (ShapeException e) { throw new ShapeException($"{ModuleType} given input of shape {input}: {e.Message}"); }
    }

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, Plan(input.Shape));

    private protected override Tensor Execute(Tensor input, ShapePlan plan, bool consuming) => Body.Run(input, plan); // the body's own plan: a module adds no shape of its own

    internal override ForwardResult Returns => Body.Returns;

    /// <summary>
    /// Every tensor the forward returns, with its name (see <see cref="Graph.ForwardOutputs"/>):
    /// for a module whose forward returns a dict (segmentation's <c>{"out": ..., "aux": ...}</c>)
    /// or a tuple, where <see cref="Layer.Forward"/> gives the first. A body that is not a graph
    /// returns one tensor, named <c>output</c>.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Value)> ForwardOutputs(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Body is Graph g)
        {
            OutputShape(input.Shape);
            return g.ForwardOutputs(input);
        }
        return [("output", Forward(input))];
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        Body.Parameters().Where(_ => Body is Graph).Concat(Children.SelectMany(c => c.Layer.Parameters().Select(p => ($"{c.Name}.{p.Name}", p.Value))));

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Buffers() =>
        Children.SelectMany(c => c.Layer.Buffers().Select(p => ($"{c.Name}.{p.Name}", p.Value)));

    /// <summary>Structural equality: same type, children and body.</summary>
    public bool Equals(Module? other) =>
        other is not null && ModuleType == other.ModuleType && Body == other.Body && Children.AsSpan().SequenceEqual(other.Children.AsSpan())
        && ExtraReprText == other.ExtraReprText && Printout == other.Printout;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ModuleType, Body);

    /// <inheritdoc/>
    protected internal override void Print(StringBuilder sb, int indent)
    {
        // A printout of its own is indented as nn.Module's _addindent does inside a parent.
        if (Printout is not null) sb.Append(Printout.Replace("\n", "\n" + new string(' ', indent)));
        else Printing.Children(sb, indent, ModuleType, Children, ExtraReprText);
    }
}

/// <summary>
/// A subclass of a PyTorch layer that only changes its constructor (torchvision's
/// <c>Conv3DSimple</c> is an <c>nn.Conv3d</c>): it computes, names its weights and prints as
/// <see cref="Base"/>, under its own class name.
/// </summary>
public sealed record Subclass(string Name, Layer Base) : Layer
{
    /// <inheritdoc/>
    public override string TypeName => Name;

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Base.OutputShape(input);

    internal override ShapePlan Plan(Shape input) => Base.Plan(input);

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, Plan(input.Shape));

    private protected override Tensor Execute(Tensor input, ShapePlan plan, bool consuming) => Base.Run(input, plan, consuming);

    internal override ForwardResult Returns => Base.Returns;

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() => Base.Parameters();

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Buffers() => Base.Buffers();

    /// <inheritdoc/>
    protected internal override void Print(StringBuilder sb, int indent)
    {
        var own = new StringBuilder();
        Base.Print(own, indent);
        sb.Append(Name).Append(own, Base.TypeName.Length, own.Length - Base.TypeName.Length);
    }
}

/// <summary>PyTorch's printout of a module with children.</summary>
internal static class Printing
{
    /// <summary>As <c>torch.nn.Module.__repr__</c>: the extra_repr line (if any), then one line per child.</summary>
    public static void Children(StringBuilder sb, int indent, string typeName, IEnumerable<(string Name, Layer Layer)> children, string extraRepr = "")
    {
        var list = children.ToList();
        sb.Append(typeName).Append('(');
        if (list.Count == 0) { sb.Append(extraRepr).Append(')'); return; }
        if (extraRepr.Length > 0) sb.Append('\n').Append(' ', indent + 2).Append(extraRepr);
        foreach (var (name, layer) in list)
        {
            sb.Append('\n').Append(' ', indent + 2).Append('(').Append(name).Append("): ");
            layer.Print(sb, indent + 2);
        }
        sb.Append('\n').Append(' ', indent).Append(')');
    }
}
