using FsCheck;
using FsCheck.Fluent;

namespace Functional.Properties;

/// <summary>
/// Shared FsCheck generators: small shapes (rank 0..5, extents 0..4, so at most 1024 elements),
/// tensors whose values mix ordinary magnitudes, values near 0 and the large ±10/±30/±100 that
/// expose overflow in exp-based activations, and random activation layers and pipelines.
/// </summary>
internal static class Generators
{
    /// <summary>Shapes of rank <paramref name="minRank"/>..<paramref name="maxRank"/>, extents 0..<paramref name="maxExtent"/> (0 is rarer).</summary>
    public static Gen<Shape> Shapes(int minRank = 0, int maxRank = 5, int maxExtent = 4) =>
        from rank in Gen.Choose(minRank, maxRank)
        from dims in Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, maxExtent))).ArrayOf(rank)
        select new Shape(dims);

    /// <summary>Shapes with no zero extent.</summary>
    public static Gen<Shape> NonEmptyShapes(int minRank = 0, int maxRank = 5, int maxExtent = 4) =>
        from rank in Gen.Choose(minRank, maxRank)
        from dims in Gen.Choose(1, maxExtent).ArrayOf(rank)
        select new Shape(dims);

    /// <summary>A float from <paramref name="lo"/> to <paramref name="hi"/> on a grid of 10⁶ steps.</summary>
    public static Gen<float> Uniform(double lo, double hi) =>
        Gen.Choose(0, 1_000_000).Select(i => (float)(lo + (hi - lo) * i / 1_000_000.0));

    /// <summary>Finite values: mostly in [-5, 5], some tiny, some exactly the large ±10/±30/±100, some anywhere in [-100, 100].</summary>
    public static Gen<float> Values { get; } = Gen.Frequency(
        (6, Uniform(-5, 5)),
        (2, Uniform(-1e-5, 1e-5)),
        (1, Gen.Elements(0f, -0f, 10f, -10f, 30f, -30f, 100f, -100f, 1e-30f, -1e-30f)),
        (1, Uniform(-100, 100)));

    /// <summary>A tensor of <paramref name="shape"/> with values from <paramref name="values"/>.</summary>
    public static Gen<Tensor> TensorOf(Shape shape, Gen<float>? values = null) =>
        (values ?? Values).ArrayOf((int)shape.ElementCount).Select(v => Tensor.FromArray(v, shape));

    /// <summary>Tensors of the generated shapes with mixed values.</summary>
    public static Gen<Tensor> Tensors(Gen<Shape>? shapes = null, Gen<float>? values = null) =>
        (shapes ?? Shapes()).SelectMany(s => TensorOf(s, values));

    /// <summary>1-D tensors of 0..<paramref name="maxLength"/> elements.</summary>
    public static Gen<Tensor> Vectors(int maxLength = 64, Gen<float>? values = null) =>
        Gen.Choose(0, maxLength).SelectMany(n => TensorOf([n], values));

    /// <summary>A double in [0, 1] on a 1/1000 grid (slopes, alphas, bounds print as short decimals).</summary>
    public static Gen<double> UnitDouble { get; } = Gen.Choose(0, 1000).Select(i => i / 1000.0);

    private static readonly Gen<bool> Inplace = Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)));

    /// <summary>Every activation this library has, with generated arguments (and PyTorch's inplace flag where it has one).</summary>
    public static Gen<Activation> Activations { get; } = Gen.OneOf(
        Inplace.Select(i => (Activation)new ReLU { Inplace = i }),
        Inplace.Select(i => (Activation)new ReLU6 { Inplace = i }),
        Gen.Constant<Activation>(new ReLUSquared()),
        Gen.Constant<Activation>(new Sigmoid()),
        Inplace.Select(i => (Activation)new SiLU { Inplace = i }),
        Gen.Constant<Activation>(new Tanh()),
        Gen.Elements(GeluApproximation.None, GeluApproximation.Tanh).Select(a => (Activation)new GELU(a)),
        Gen.Zip(UnitDouble, Inplace).Select(t => (Activation)new LeakyReLU(t.Item1) { Inplace = t.Item2 }),
        Gen.Zip(Gen.Two(UnitDouble), Inplace).Select(t => (Activation)new RReLU(Math.Min(t.Item1.Item1, t.Item1.Item2), Math.Max(t.Item1.Item1, t.Item1.Item2)) { Inplace = t.Item2 }),
        Gen.Zip(Gen.Choose(0, 3000), Inplace).Select(t => (Activation)new ELU(t.Item1 / 1000.0) { Inplace = t.Item2 }));

    /// <summary>Pipelines of 0..<paramref name="maxLength"/> activations.</summary>
    public static Gen<Activation[]> Pipelines(int maxLength = 5) =>
        Gen.Choose(0, maxLength).SelectMany(n => Activations.ArrayOf(n));

    /// <summary>
    /// Layers for the composition laws: single activations, flat sequentials of them, and
    /// sequentials that keep a nested child.
    /// </summary>
    public static Gen<Layer> Layers { get; } = Gen.Frequency(
        (4, Activations.Select(a => (Layer)a)),
        (2, Pipelines(3).Select(p => (Layer)Sequential.Of(p))),
        (1, Gen.Zip(Pipelines(2), Activations).Select(t => (Layer)Sequential.Nested(Sequential.Of(t.Item1), t.Item2))));

    /// <summary>A short readable form of a float array for failure messages.</summary>
    public static string Show(ReadOnlySpan<float> values) =>
        "[" + string.Join(", ", values.ToArray().Take(16).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + (values.Length > 16 ? ", ..." : "") + "]";
}
