using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>
/// Tensor disposal and the storage reuse behind it: containers dispose only intermediates they
/// alone hold (or let the next layer write over them), views keep shared storage alive, and reused
/// storage never shows through in a result. Tensors here are ≥ <see cref="TensorPool.MinPooledLength"/> elements, so they really
/// go through the pool.
/// </summary>
public class TensorLifetimeTests
{
    private static readonly Shape Image = [1, 4, 64, 64];

    private static Tensor RandomImage(int seed) => Tensor.RandomNormal(Image, seed);

    /// <summary>A tensor some layer holds on to (a captured constant), not of any call's making.</summary>
    private static readonly Tensor Captured = Tensor.RandomNormal(Image, 99);

    /// <summary>Shape-preserving layers that return new tensors, their input, views, or a tensor held elsewhere.</summary>
    private static Gen<Layer> Steps { get; } = Gen.Elements<Func<Layer>>(
        () => new ReLU(),
        () => new ReLU6(),
        () => new SiLU(),
        () => new Tanh(),
        () => BatchNorm2d.Load(Weights.Random(2), 4),
        () => new Identity(),
        () => new Dropout(),
        () => Conv2d.Load(Weights.Random(1), 4, 4, 3, padding: 1),
        () => Combine.Residual(new ReLU()),
        () => Combine.Residual(new Sigmoid(), new Identity()),
        () => Combine.Sum(new ReLU(), new Identity(), new Tanh()),
        () => Combine.Product(new Identity()),
        () => new Flatten() >> new Unflatten(1, (4, 64, 64)),
        () => Combine.Function("scale", x => x.Multiply(0.5f), s => s),
        () => Combine.Function("constant", _ => Captured, s => s),
        () => Combine.Function("self", x => x, s => s),
        () => new Module("Block", [("conv", new ReLU())], Sequential.Of(new ReLU(), new Identity())))
        .Select(make => make());

    private static Arbitrary<(Layer[] Steps, int Seed)> Pipelines { get; } =
        Gen.Zip(Gen.Choose(1, 6).SelectMany(n => Gen.ArrayOf(Steps, n)), Gen.Choose(0, 1000)).ToArbitrary();

    /// <summary>The layers applied one by one, nothing disposed: the reference.</summary>
    private static float[] OneByOne(IEnumerable<Layer> layers, Tensor x) =>
        layers.Aggregate(x, (t, l) => l.Forward(t)).ToArray();

    /// <summary>Equal, but for the rounding of a BatchNorm folded into its convolution (Fusion).</summary>
    private static bool WithinFoldingRounding(float[] actual, float[] expected)
    {
        double scale = Math.Max(1, expected.DefaultIfEmpty().Max(v => Math.Abs(v)));
        return actual.Length == expected.Length && actual.Zip(expected).All(p => p.First.Equals(p.Second) || Math.Abs(p.First - p.Second) <= 1e-5 * scale);
    }

    [Property(MaxTest = 60)]
    public Property Pipelines_leave_input_and_held_tensors_intact_and_equal_the_layers_one_by_one() => Prop.ForAll(Pipelines, p =>
    {
        var x = RandomImage(p.Seed);
        var before = x.ToArray();
        var captured = Captured.ToArray();
        var expected = OneByOne(p.Steps, x);
        var pipeline = Sequential.Nested(p.Steps);

        var y = pipeline.Forward(x);
        var first = y.ToArray();
        var again = pipeline.Forward(x).ToArray(); // reuses whatever the first call released

        return (!x.IsDisposed && x.ToArray().SequenceEqual(before)).Label("input intact")
            .And(Captured.ToArray().SequenceEqual(captured)).Label("captured tensor intact")
            .And(WithinFoldingRounding(first, expected)).Label("equals the layers one by one")
            .And(y.ToArray().SequenceEqual(first)).Label("result unchanged by a later call")
            .And(again.SequenceEqual(first)).Label("a second call gives the same");
    });

    [Property(MaxTest = 30)]
    public Property Disposed_results_are_reused_without_changing_earlier_results() => Prop.ForAll(Pipelines, p =>
    {
        var pipeline = Sequential.Nested(p.Steps);
        var x = RandomImage(p.Seed);
        var kept = pipeline.Forward(x);
        var snapshot = kept.ToArray();
        for (int i = 0; i < 3; i++)
        {
            var y = pipeline.Forward(RandomImage(p.Seed + i + 1));
            if (!ReferenceEquals(y, Captured) && !ReferenceEquals(y, x)) y.Dispose();
        }
        return kept.ToArray().SequenceEqual(snapshot);
    });

    [Fact]
    public void A_disposed_tensor_cannot_be_read_and_says_so()
    {
        var x = RandomImage(1);
        x.Dispose();
        x.Dispose(); // twice is harmless
        Assert.True(x.IsDisposed);
        var e = Assert.Throws<ObjectDisposedException>(() => x.Sum());
        Assert.Contains("[1, 4, 64, 64]", e.Message);
        Assert.Throws<ObjectDisposedException>(() => x.Reshape(-1));
    }

    [Fact]
    public void A_view_keeps_the_storage_after_the_original_is_disposed()
    {
        var x = RandomImage(2);
        var values = x.ToArray();
        var view = x.Reshape(4, -1);
        x.Dispose();
        // Same-size outputs now come from the pool; none may be the view's storage.
        var others = Enumerable.Range(0, 4).Select(i => RandomImage(10 + i).Relu()).ToList();
        Assert.Equal(values, view.ToArray());
        view.Dispose();
        var reused = RandomImage(3).Relu();
        Assert.Equal(RandomImage(3).ToArray().Select(v => Math.Max(v, 0f)), reused.ToArray());
        Assert.All(others, o => Assert.False(o.IsDisposed));
    }

    [Fact]
    public void Unbatched_convolution_leaves_its_input_usable()
    {
        var conv = Conv2d.Load(Weights.Random(4), 4, 4, 3, padding: 1, paddingMode: PaddingMode.Reflect);
        var x = Tensor.RandomNormal([4, 64, 64], 5);
        var y = conv.Forward(x);
        Assert.False(x.IsDisposed);
        Assert.Equal(conv.Forward(x.Unsqueeze(0)).ToArray(), y.ToArray());
    }
}
