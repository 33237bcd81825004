using System.Text;

namespace Functional;

/// <summary>
/// A layer: an immutable value that maps a tensor to a tensor, like a <c>torch.nn.Module</c> in
/// eval mode with its weights frozen in. Records, so <c>with</c> makes a variant; every layer can
/// say its output shape without running (<see cref="OutputShape"/>), prints like PyTorch's
/// <c>print(model)</c>, and composes with <see cref="Then"/> or <c>&gt;&gt;</c> into a flat
/// <see cref="Sequential"/>.
/// </summary>
public abstract record Layer
{
    /// <summary>The PyTorch class name this layer prints as (<c>Conv2d</c>, <c>ReLU</c>, …).</summary>
    public virtual string TypeName => GetType().Name;

    /// <summary>
    /// The output shape for an input of shape <paramref name="input"/>, by PyTorch's formulas,
    /// without running. Throws <see cref="ShapeException"/> naming the layer, what it expected
    /// and what it got when the input shape is not acceptable.
    /// </summary>
    public abstract Shape OutputShape(Shape input);

    /// <summary>Runs the layer. Checks the input shape first, through the same path as <see cref="OutputShape"/>.</summary>
    public Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Run(input, Plan(input.Shape));
    }

    /// <summary>Runs the layer on an input whose shape <see cref="OutputShape"/> has accepted.</summary>
    protected abstract Tensor Compute(Tensor input, Shape outputShape);

    /// <summary>
    /// <see cref="OutputShape"/>, keeping what a container worked out for its parts on the way, so
    /// that running it (<see cref="Run"/>) checks no shape twice.
    /// </summary>
    internal virtual ShapePlan Plan(Shape input) => new(input, OutputShape(input), null);

    /// <summary>
    /// Runs the layer with <paramref name="plan"/>, made for the input's shape; an input of another
    /// shape (a graph whose shape rules and tensors disagree) is planned afresh, as
    /// <see cref="Forward"/> would. With <paramref name="consuming"/>, the caller is a container
    /// passing an intermediate it alone holds and disposes right after: a layer that reads each
    /// element once may write its output over the input's storage (still in cache) instead of a
    /// second buffer. Nobody else ever sees the input.
    /// </summary>
    internal Tensor Run(Tensor input, ShapePlan plan, bool consuming = false) =>
        Execute(input, input.Shape == plan.Input ? plan : Plan(input.Shape), consuming);

    /// <summary>Runs the layer on an input whose shape <paramref name="plan"/> was made for.</summary>
    private protected virtual Tensor Execute(Tensor input, ShapePlan plan, bool consuming) =>
        consuming ? ComputeConsuming(input, plan.Output) : Compute(input, plan.Output);

    /// <summary>See <see cref="Run"/>'s <c>consuming</c>; by default the same as <see cref="Compute"/>.</summary>
    private protected virtual Tensor ComputeConsuming(Tensor input, Shape outputShape) => Compute(input, outputShape);

    /// <summary>
    /// What <see cref="Forward"/> returns, so a container knows which intermediates it may
    /// dispose: a tensor of the layer's own making (the default), its input itself (identity,
    /// dropout), or possibly a tensor held elsewhere (user functions).
    /// </summary>
    internal virtual ForwardResult Returns => ForwardResult.New;

    /// <summary>
    /// Disposes <paramref name="output"/>, which <paramref name="producer"/> returned for
    /// <paramref name="input"/>, when nothing but the calling container can hold it: the producer
    /// made it, and it is neither that input nor <paramref name="keep"/> (the container's result).
    /// </summary>
    private protected static void DisposeIntermediate(Layer producer, Tensor input, Tensor output, Tensor keep)
    {
        if (producer.Returns == ForwardResult.New && !ReferenceEquals(output, input) && !ReferenceEquals(output, keep))
            output.Dispose();
    }

    /// <summary>Same as <see cref="Forward"/>, so a layer reads as a function call.</summary>
    public Tensor Invoke(Tensor input) => Forward(input);

    /// <summary>
    /// The layer's learnable tensors with their PyTorch <c>state_dict</c> names relative to the
    /// layer (<c>weight</c>, <c>bias</c>; containers prefix their children's: <c>0.weight</c>).
    /// </summary>
    public virtual IEnumerable<(string Name, Tensor Value)> Parameters() => [];

    /// <summary>Non-learnable state (<c>running_mean</c>, …) under PyTorch's names.</summary>
    public virtual IEnumerable<(string Name, Tensor Value)> Buffers() => [];

    /// <summary>Number of learnable scalars, as <c>sum(p.numel() for p in model.parameters())</c>.</summary>
    public long ParameterCount => Parameters().Sum(p => (long)p.Value.Count);

    /// <summary>Composes: this layer, then <paramref name="next"/>. The result is one flat <see cref="Sequential"/>.</summary>
    public Sequential Then(Layer next) => Sequential.Of(this, next);

    /// <summary>Composition, as F#'s <c>&gt;&gt;</c>: <c>a &gt;&gt; b</c> runs a, then b.</summary>
    public static Sequential operator >>(Layer first, Layer next) => first.Then(next);

    /// <summary>A layer is a function.</summary>
    public static implicit operator Func<Tensor, Tensor>(Layer layer) => layer.Forward;

    /// <summary>The arguments PyTorch's <c>extra_repr()</c> prints inside the parentheses.</summary>
    protected virtual string ExtraRepr() => "";

    /// <summary>The PyTorch printout, indented for nesting inside a container.</summary>
    protected internal virtual void Print(StringBuilder sb, int indent) => sb.Append(TypeName).Append('(').Append(ExtraRepr()).Append(')');

    /// <summary>Prints as PyTorch's <c>print(module)</c> does.</summary>
    public sealed override string ToString()
    {
        var sb = new StringBuilder();
        Print(sb, 0);
        return sb.ToString();
    }

    /// <summary>A shape error that names this layer.</summary>
    protected ShapeException Error(string message) => new($"{this}: {message}");

    /// <summary>An output extent computed in <c>long</c>, as an <c>int</c>; past <see cref="Shape.MaxElements"/> a <see cref="ShapeException"/> naming this layer and <paramref name="what"/>.</summary>
    protected int Extent(long size, string what) => Shape.Extent(size, $"{this}: {what}");
}

/// <summary>
/// A layer's output shape for one input shape and, for a container, its parts' plans in the order
/// it runs them (see <see cref="Layer.Plan"/>).
/// </summary>
internal readonly record struct ShapePlan(Shape Input, Shape Output, ShapePlan[]? Parts);

/// <summary>What a layer's <see cref="Layer.Forward"/> returns (see <see cref="Layer.Returns"/>).</summary>
internal enum ForwardResult
{
    /// <summary>A tensor (or a view) the layer made for this call.</summary>
    New,
    /// <summary>Its input, unchanged.</summary>
    Input,
    /// <summary>Anything, a tensor held elsewhere included.</summary>
    Unknown,
}
