using System.Collections.Immutable;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>The layer algebra: flat, associative composition by value; shapes; printing; variants with <c>with</c>.</summary>
public class CompositionProperties
{
    private static readonly Arbitrary<(Layer A, Layer B, Layer C)> Triples =
        Gen.Zip(Generators.Layers, Gen.Zip(Generators.Layers, Generators.Layers))
            .Select(t => (t.Item1, t.Item2.Item1, t.Item2.Item2)).ToArbitrary();

    /// <summary>The layers a composition of <paramref name="l"/> contributes: a sequential's children, else itself.</summary>
    private static IEnumerable<Layer> Spliced(Layer l) => l is Sequential s ? s.Layers : [l];

    [Property]
    public Property Composition_is_associative_by_value() => Prop.ForAll(Triples, t =>
    {
        var (a, b, c) = t;
        var left = (a >> b) >> c;
        var right = a >> (b >> c);
        Assert.Equal(left, right);
        Assert.True(left == right);
        Assert.Equal(left.GetHashCode(), right.GetHashCode());
        Assert.Equal(Sequential.Of(a, b, c), left);
        Assert.Equal(a.Then(b).Then(c), right);
        // Equal through the base type too (what a list of layers compares with).
        Assert.True(((Layer)left).Equals((Layer)right));
        Assert.True(Equals((object)left, right));
    });

    [Property]
    public Property Composition_splices_one_level_and_keeps_order() => Prop.ForAll(Triples, t =>
    {
        var (a, b, c) = t;
        var s = a >> b >> c;
        var expected = Spliced(a).Concat(Spliced(b)).Concat(Spliced(c)).ToList();
        Assert.Equal(expected.Count, s.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Same(expected[i], s[i]);
    });

    [Property]
    public Property Composing_activations_never_nests() =>
        Prop.ForAll(Gen.Zip(Generators.Pipelines(3), Generators.Pipelines(3)).ToArbitrary(), p =>
        {
            Layer acc = Sequential.Of(p.Item1);
            foreach (var l in p.Item2) acc = acc >> l;
            var s = Assert.IsType<Sequential>(acc);
            Assert.DoesNotContain(s, l => l is Sequential);
            Assert.Equal(p.Item1.Length + p.Item2.Length, s.Count);
            Assert.Equal(s, Sequential.Of([.. p.Item1, .. p.Item2]));
        });

    [Fact]
    public void Nested_keeps_nesting_and_differs_from_flat()
    {
        Layer relu = new ReLU(), tanh = new Tanh(), sigmoid = new Sigmoid();
        var inner = Sequential.Of(relu, tanh);
        var nested = Sequential.Nested(inner, sigmoid);
        Assert.Equal(2, nested.Count);
        Assert.Same(inner, nested[0]);
        var flat = Sequential.Of(inner, sigmoid);
        Assert.Equal(3, flat.Count);
        Assert.NotEqual(flat, nested);
        // Nested of non-sequentials is the same value as Of.
        Assert.Equal(Sequential.Of(relu, tanh), Sequential.Nested(relu, tanh));
        // Composing a nested sequential splices its own children only: the inner one stays.
        var more = nested >> new ReLU6();
        Assert.Equal(3, more.Count);
        Assert.IsType<Sequential>(more[0]);
        Assert.Equal(
            "Sequential(\n  (0): Sequential(\n    (0): ReLU()\n    (1): Tanh()\n  )\n  (1): Sigmoid()\n)",
            nested.ToString());
    }

    [Property]
    public Property OutputShape_equals_the_shape_Forward_returns() =>
        Prop.ForAll(Gen.Zip(Generators.Layers, Generators.Tensors()).ToArbitrary(), t =>
        {
            var (layer, x) = t;
            var y = layer.Forward(x);
            Assert.Equal(layer.OutputShape(x.Shape), y.Shape);
            if (layer is Sequential s) Assert.Equal(s.Check(x.Shape), y.Shape);
        });

    [Property]
    public Property Forward_of_a_pipeline_is_the_layers_applied_one_by_one() =>
        Prop.ForAll(Gen.Zip(Generators.Pipelines(), Generators.Tensors()).ToArbitrary(), t =>
        {
            var (layers, x) = t;
            var expected = x;
            foreach (var l in layers) expected = l.Forward(expected);
            var actual = Sequential.Of(layers).Forward(x);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.ToArray(), actual.ToArray());
        });

    [Property]
    public Property Func_conversion_and_Invoke_equal_Forward() =>
        Prop.ForAll(Gen.Zip(Generators.Layers, Generators.Tensors()).ToArbitrary(), t =>
        {
            var (layer, x) = t;
            Func<Tensor, Tensor> f = layer;
            var expected = layer.Forward(x).ToArray();
            Assert.Equal(expected, f(x).ToArray());
            Assert.Equal(expected, layer.Invoke(x).ToArray());
        });

    [Fact]
    public void Empty_sequential_is_the_identity_and_prints_like_PyTorch()
    {
        var empty = Sequential.Of();
        Assert.Equal("Sequential()", empty.ToString());
        var x = Tensor.FromArray(1f, -2f, 3f);
        Assert.Equal(x.ToArray(), empty.Forward(x).ToArray());
        Assert.Equal(x.Shape, empty.OutputShape(x.Shape));
        Assert.Equal(Sequential.Of(new ReLU()), empty >> new ReLU());
    }

    [Fact]
    public void With_changes_only_the_named_option()
    {
        var leaky = new LeakyReLU(0.1);
        var steeper = leaky with { NegativeSlope = 0.2 };
        Assert.Equal("LeakyReLU(negative_slope=0.1)", leaky.ToString());
        Assert.Equal("LeakyReLU(negative_slope=0.2)", steeper.ToString());
        Assert.Equal(new LeakyReLU(0.2), steeper);
        Assert.NotEqual(leaky, steeper);
        var x = Tensor.FromArray(-1f, -0.5f, 0f, 2f);
        Assert.Equal(new LeakyReLU(0.2).Forward(x).ToArray(), steeper.Forward(x).ToArray());
        Assert.NotEqual(leaky.Forward(x).ToArray(), steeper.Forward(x).ToArray());

        var rrelu = new RReLU() with { Upper = 0.5 };
        Assert.Equal("RReLU(lower=0.125, upper=0.5)", rrelu.ToString());
        Assert.Equal(new RReLU(0.125, 0.5), rrelu);

        var elu = new ELU() with { Alpha = 2 };
        Assert.Equal("ELU(alpha=2.0)", elu.ToString());

        var gelu = new GELU() with { Approximate = GeluApproximation.Tanh };
        Assert.Equal("GELU(approximate='tanh')", gelu.ToString());
        Assert.Equal(new GELU(GeluApproximation.Tanh), gelu);
        Assert.Equal("GELU(approximate='none')", new GELU().ToString());
    }

    [Fact]
    public void Printouts_match_PyTorch()
    {
        // The strings are what print(module) shows in PyTorch for the same modules.
        Assert.Equal("Sequential(\n  (0): ReLU()\n  (1): GELU(approximate='tanh')\n)",
            (new ReLU() >> new GELU(GeluApproximation.Tanh)).ToString());
        Assert.Equal("LeakyReLU(negative_slope=0.01)", new LeakyReLU().ToString());
        Assert.Equal("ELU(alpha=1.0)", new ELU().ToString());
        Assert.Equal("RReLU(lower=0.125, upper=0.3333333333333333)", new RReLU().ToString());
        Assert.Equal("ReLU()", new ReLU().ToString());
        Assert.Equal("ReLU6()", new ReLU6().ToString());
        Assert.Equal("Sigmoid()", new Sigmoid().ToString());
        Assert.Equal("SiLU()", new SiLU().ToString());
        Assert.Equal("Tanh()", new Tanh().ToString());
        Assert.Equal("LeakyReLU(negative_slope=1e-05)", new LeakyReLU(1e-5).ToString());
    }

    [Property]
    public Property Sequential_printout_numbers_and_indents_each_child() =>
        Prop.ForAll(Generators.Pipelines().ToArbitrary(), layers =>
        {
            var s = Sequential.Of(layers);
            string expected = layers.Length == 0
                ? "Sequential()"
                : "Sequential(\n" + string.Concat(layers.Select((l, i) => $"  ({i}): {l}\n")) + ")";
            Assert.Equal(expected, s.ToString());
        });

    [Property]
    public Property Activations_have_no_parameters_or_buffers() =>
        Prop.ForAll(Generators.Layers.ToArbitrary(), layer =>
        {
            Assert.Equal(0, layer.ParameterCount);
            Assert.Empty(layer.Parameters());
            Assert.Empty(layer.Buffers());
        });

    [Property]
    public Property Indexing_and_slicing_follow_Python() =>
        Prop.ForAll(
            Generators.Pipelines(6).Where(p => p.Length > 0)
                .SelectMany(p => Gen.Zip(Gen.Choose(0, p.Length), Gen.Choose(0, p.Length)).Select(r => (p, r.Item1, r.Item2)))
                .ToArbitrary(),
            t =>
            {
                var (layers, i, j) = t;
                var s = Sequential.Of(layers);
                for (int k = 1; k <= layers.Length; k++) Assert.Same(layers[^k], s[-k]);
                for (int k = 0; k < layers.Length; k++) Assert.Same(layers[k], s[k]);
                int lo = Math.Min(i, j), hi = Math.Max(i, j);
                var slice = s[lo..hi];
                Assert.Equal(Sequential.Of(layers[lo..hi]), slice);
                Assert.Equal(s, Sequential.Of(s[..lo], s[lo..hi], s[hi..]));
                Assert.Equal(s[lo..], s[^(layers.Length - lo)..]);
            });

    [Fact]
    public void Collection_expression_builds_a_flat_sequential()
    {
        Layer relu = new ReLU(), tanh = new Tanh();
        Sequential s = [relu, Sequential.Of(tanh, relu)];
        Assert.Equal(Sequential.Of(relu, tanh, relu), s);
    }

    [Fact]
    public void Layer_values_compare_by_type_and_options()
    {
        Assert.Equal(new LeakyReLU(0.1), new LeakyReLU(0.1));
        Assert.Equal(new LeakyReLU(0.1).GetHashCode(), new LeakyReLU(0.1).GetHashCode());
        Assert.NotEqual<Layer>(new ReLU(), new ReLU6());
        Assert.NotEqual<Layer>(new GELU(), new GELU(GeluApproximation.Tanh));
        Assert.NotEqual(Sequential.Of(new ReLU(), new Tanh()), Sequential.Of(new Tanh(), new ReLU()));
        Assert.Equal(Sequential.Of(new ELU(0.5), new Tanh()), Sequential.Of(new ELU(0.5), new Tanh()));
    }

    // ---- PyRepr.Float: the float format every printout goes through ----

    private static readonly Gen<double> AnyFiniteDouble =
        Gen.Frequency(
            (3, Gen.Zip(Gen.Choose(int.MinValue, int.MaxValue), Gen.Choose(int.MinValue, int.MaxValue))
                .Select(t => BitConverter.Int64BitsToDouble(((long)t.Item1 << 32) | (uint)t.Item2))
                .Where(double.IsFinite)),
            (3, Gen.Zip(Gen.Choose(-999_999, 999_999), Gen.Choose(-22, 22)).Select(t => t.Item1 * Math.Pow(10, t.Item2))),
            (1, Gen.Elements(0.0, -0.0, 1.0, 0.1, 1e-4, 9.9999e-5, 1e15, 1e16, 9999999999999998.0, 123456789012345.6)));

    [Property]
    public Property PyRepr_Float_round_trips_and_uses_Python_notation() =>
        Prop.ForAll(AnyFiniteDouble.ToArbitrary(), v =>
        {
            string s = PyRepr.Float(v);
            Assert.Equal(v, double.Parse(s, CultureInfo.InvariantCulture));
            Assert.Equal(double.IsNegative(v), s.StartsWith('-'));
            double abs = Math.Abs(v);
            // Python's repr: positional with ".0" or a fraction in [1e-4, 1e16), else d[.ddd]e±XX.
            if (abs == 0 || (abs >= 1e-4 && abs < 1e16))
                Assert.Matches(@"^-?\d+\.\d+$", s);
            else
                Assert.Matches(@"^-?\d(\.\d+)?e[+-]\d{2,3}$", s);
        });

    [Fact]
    public void A_container_checks_each_part_once_per_forward()
    {
        // A shape rule that counts its calls, in every kind of container, nested: one Forward of
        // the whole must ask each part for its shape once (the container's check), not again
        // when the part runs.
        int calls = 0;
        Layer Counted() => Combine.Function("f", x => x * 2f, s => { calls++; return s; });
        var none = ImmutableDictionary<string, object?>.Empty;
        var graph = new Graph(
        [
            new GraphNode("placeholder", "x", "x", [], none),
            new GraphNode("call_module", "a", "f", [new NodeRef("x")], none),
            new GraphNode("output", "output", "output", [new NodeRef("a")], none),
        ], new Dictionary<string, Layer> { ["f"] = Counted() });
        var model = Counted() >> Combine.Residual(Counted() >> Counted(), Counted())
            >> Combine.Concat(1, Counted(), Sequential.Nested(Counted(), Counted()))
            >> new Module("M", [("f", Counted())], Counted() >> graph);
        using var x = Tensor.Ones(new Shape(1, 2));
        Assert.Equal(new Shape(1, 4), model.OutputShape(x.Shape));
        int parts = calls;
        Assert.Equal(9, parts);
        calls = 0;
        using var y = model.Forward(x);
        Assert.Equal(new Shape(1, 4), y.Shape);
        Assert.Equal(parts, calls);
    }

    [Fact]
    public void PyRepr_matches_known_Python_reprs()
    {
        // repr() of these floats in CPython.
        Assert.Equal("1e-05", PyRepr.Float(1e-5));
        Assert.Equal("0.0001", PyRepr.Float(1e-4));
        Assert.Equal("1e+16", PyRepr.Float(1e16));
        Assert.Equal("1000000000000000.0", PyRepr.Float(1e15));
        Assert.Equal("-0.0", PyRepr.Float(-0.0));
        Assert.Equal("1.5e-07", PyRepr.Float(1.5e-7));
        Assert.Equal("0.3333333333333333", PyRepr.Float(1.0 / 3));
        Assert.Equal("'none'", PyRepr.Str("none"));
        Assert.Equal("(3,)", PyRepr.Tuple([3]));
        Assert.Equal("(3, 3)", PyRepr.Tuple([3, 3]));
    }
}
