using System.Collections;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;

namespace Functional;

/// <summary>
/// <c>torch.nn.Sequential</c>: layers applied in order. Always flat: composing sequentials splices
/// their layers, so <c>(a &gt;&gt; b) &gt;&gt; c</c> equals <c>a &gt;&gt; (b &gt;&gt; c)</c> (compared by value).
/// A sequential built explicitly from a nested <see cref="Sequential"/> with <see cref="Nested"/>
/// keeps the nesting, as PyTorch state_dict names require (<c>features.0.weight</c>).
/// </summary>
[CollectionBuilder(typeof(Sequential), nameof(Create))]
public sealed record Sequential : Layer, IReadOnlyList<Layer>
{
    private readonly ImmutableArray<Layer> layers;

    /// <summary>The execution plans (<see cref="Fusion"/>: fused, and as written), made on first use; default until then.</summary>
    private ImmutableArray<Fusion.Step> fused, unfused;

    private Sequential(ImmutableArray<Layer> layers) => this.layers = layers;

    /// <summary>The layers, in order.</summary>
    public ImmutableArray<Layer> Layers
    {
        get => layers;
        init
        {
            layers = value.IsDefault ? [] : value;
            fused = unfused = default; // a `with` copy must not run the original's plan
        }
    }

    /// <summary>What <see cref="Execute"/> runs: the fused plan, or the layers as written when fusion is off (racing threads build equal plans).</summary>
    private ImmutableArray<Fusion.Step> Steps => Fusion.Enabled
        ? fused.IsDefault ? fused = Fusion.Chain(layers) : fused
        : unfused.IsDefault ? unfused = Fusion.Unfused(layers) : unfused;

    /// <summary>A flat sequential of <paramref name="layers"/>: sequentials among them are spliced in.</summary>
    public static Sequential Of(params Layer[] layers)
    {
        var b = ImmutableArray.CreateBuilder<Layer>();
        foreach (var l in layers)
        {
            ArgumentNullException.ThrowIfNull(l, nameof(layers));
            if (l is Sequential s) b.AddRange(s.layers); else b.Add(l);
        }
        return new(b.ToImmutable());
    }

    /// <summary>A sequential that keeps its children as given, nested sequentials included (PyTorch's own nesting).</summary>
    public static Sequential Nested(params Layer[] layers)
    {
        foreach (var l in layers) ArgumentNullException.ThrowIfNull(l, nameof(layers));
        return new(ImmutableArray.Create(layers));
    }

    /// <summary>Collection-expression builder: <c>Sequential s = [conv, relu];</c> (flat).</summary>
    public static Sequential Create(ReadOnlySpan<Layer> layers) => Of(layers.ToArray());

    /// <summary>Number of layers.</summary>
    public int Count => layers.Length;

    /// <summary>Layer <paramref name="index"/> (negative counts from the end).</summary>
    public Layer this[int index] => layers[index < 0 ? index + Count : index];

    /// <summary>A sequential of a slice of the layers, as <c>model[1:3]</c>.</summary>
    public Sequential this[Range range] => new(layers[range]);

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Plan(input).Output;

    internal override ShapePlan Plan(Shape input)
    {
        var parts = new ShapePlan[layers.Length];
        var shape = input;
        for (int i = 0; i < layers.Length; i++)
        {
            try { parts[i] = layers[i].Plan(shape); }
            catch (ShapeException e)
            {
                throw new ShapeException($"Sequential layer ({i}) {layers[i].TypeName} given input of shape {shape}: {e.Message}");
            }
            shape = parts[i].Output;
        }
        return new(input, shape, parts);
    }

    /// <summary>Checks that an input of shape <paramref name="input"/> flows through every layer; returns the output shape.</summary>
    public Shape Check(Shape input) => OutputShape(input);

    /// <inheritdoc/>
    protected override Tensor Compute(Tensor input, Shape outputShape) => Run(input, Plan(input.Shape));

    private protected override Tensor Execute(Tensor input, ShapePlan plan, bool consuming)
    {
        // Each intermediate is disposed as soon as the next layer has consumed it, so the layer
        // after that writes its output into the same, still cached, memory (or the next layer
        // writes over it directly: Run's consuming).
        var x = input;
        Layer? producer = null;
        Tensor? producerInput = null;
        foreach (var step in Steps)
        {
            var l = step.Layer;
            // x is this container's alone when its producer made it: the next layer may write over it.
            var y = l.Run(x, step.Plan(plan.Parts!), consuming: producer?.Returns == ForwardResult.New);
            if (ReferenceEquals(y, x)) continue;
            if (producer is not null) DisposeIntermediate(producer, producerInput!, x, y);
            (producer, producerInput, x) = (l, x, y);
        }
        return x;
    }

    internal override ForwardResult Returns
    {
        get
        {
            // The result is the last layer's that does not pass its input through.
            for (int i = layers.Length - 1; i >= 0; i--)
                if (layers[i].Returns != ForwardResult.Input) return layers[i].Returns;
            return ForwardResult.Input;
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Parameters() =>
        layers.SelectMany((l, i) => l.Parameters().Select(p => ($"{i}.{p.Name}", p.Value)));

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> Buffers() =>
        layers.SelectMany((l, i) => l.Buffers().Select(p => ($"{i}.{p.Name}", p.Value)));

    /// <inheritdoc/>
    protected internal override void Print(StringBuilder sb, int indent) =>
        Printing.Children(sb, indent, "Sequential", layers.Select((l, i) => (i.ToString(), l)));

    /// <summary>Structural equality: same layers, in order, each equal by value.</summary>
    public bool Equals(Sequential? other) =>
        other is not null && layers.AsSpan().SequenceEqual(other.layers.AsSpan());

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var l in layers) h.Add(l);
        return h.ToHashCode();
    }

    /// <inheritdoc/>
    public IEnumerator<Layer> GetEnumerator() => ((IEnumerable<Layer>)layers).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
