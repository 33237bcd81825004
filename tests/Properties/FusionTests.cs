using FsCheck;
using FsCheck.Fluent;
using System.Collections.Immutable;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>
/// Fusion (src/Functional/Optimization): a container's fused plan against its layers run one by
/// one. Activation epilogues run the activation layers' own code, so they must match bit for bit;
/// a folded BatchNorm changes rounding only.
/// </summary>
public class FusionTests
{
    private static Weights Tensors(params (string Name, Tensor Value)[] items) =>
        Weights.FromTensors(items.ToDictionary(i => i.Name, i => i.Value));

    /// <summary>The layers of <paramref name="s"/> run one by one, as PyTorch would (no plan).</summary>
    private static Tensor OneByOne(Sequential s, Tensor x)
    {
        foreach (var l in s) x = l.Forward(x);
        return x;
    }

    private static Conv2d Conv(int cin, int cout, int k, int groups, bool bias, int seed) =>
        Conv2d.Load(Tensors(("weight", Tensor.RandomNormal(new Shape(cout, cin / groups, k, k), seed, std: 0.3f)),
                            ("bias", Tensor.RandomNormal(new Shape(cout), seed + 1))),
            cin, cout, k, padding: k / 2, groups: groups, bias: bias);

    private static BatchNorm2d Norm(int c, int seed, bool affine = true, bool track = true) =>
        BatchNorm2d.Load(Tensors(("weight", Tensor.RandomUniform(new Shape(c), seed, 0.5f, 2f)),
                                 ("bias", Tensor.RandomNormal(new Shape(c), seed + 1)),
                                 ("running_mean", Tensor.RandomNormal(new Shape(c), seed + 2)),
                                 ("running_var", Tensor.RandomUniform(new Shape(c), seed + 3, 0.2f, 3f))),
            c, affine: affine, trackRunningStats: track);

    private static readonly Layer[] FusableActivations = [new ReLU(), new ReLU6(), new SiLU(), new Hardswish(), new GELU()];

    private static Gen<(int Cin, int Cout, int K, int Groups, int H, int W, bool Bias, int Seed)> Geometry =>
        from groups in Gen.Elements(1, 1, 2, 4)
        from cinPer in Gen.Choose(1, 8)
        from coutPer in Gen.Choose(1, 8)
        from k in Gen.Elements(1, 3)
        from h in Gen.Choose(3, 20)
        from w in Gen.Choose(3, 20)
        from bias in Gen.Elements(true, false)
        from seed in Gen.Choose(0, 10_000)
        select (cinPer * groups, coutPer * groups, k, groups, h, w, bias, seed);

    [Property(MaxTest = 40)]
    public Property Convolution_then_activation_in_the_epilogue_is_bit_identical_to_the_two_layers() =>
        Prop.ForAll(Geometry.ToArbitrary(), Gen.Choose(0, FusableActivations.Length - 1).ToArbitrary(), (g, a) =>
        {
            var model = Sequential.Of(Conv(g.Cin, g.Cout, g.K, g.Groups, g.Bias, g.Seed), FusableActivations[a]);
            var x = Tensor.RandomNormal(new Shape(2, g.Cin, g.H, g.W), g.Seed + 7, std: 3f);
            Assert.Equal(OneByOne(model, x).ToArray(), model.Forward(x).ToArray());
        });

    [Property(MaxTest = 40)]
    public Property Convolution_then_BatchNorm_folded_is_within_rounding_of_the_two_layers() =>
        Prop.ForAll(Geometry.ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (g, relu) =>
        {
            var model = relu
                ? Sequential.Of(Conv(g.Cin, g.Cout, g.K, g.Groups, g.Bias, g.Seed), Norm(g.Cout, g.Seed + 3), new ReLU())
                : Sequential.Of(Conv(g.Cin, g.Cout, g.K, g.Groups, g.Bias, g.Seed), Norm(g.Cout, g.Seed + 3));
            var x = Tensor.RandomNormal(new Shape(1, g.Cin, g.H, g.W), g.Seed + 7);
            var expected = OneByOne(model, x).ToArray();
            var actual = model.Forward(x).ToArray();
            double scale = Math.Max(1, expected.Max(v => Math.Abs(v)));
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * scale, $"element {i}: fused {actual[i]}, layers {expected[i]} (scale {scale})");
        });

    [Fact]
    public void A_folded_convolution_really_runs_the_folded_weights()
    {
        // A BatchNorm that scales channel 0 by 4 and shifts it by 1: visible only if the fold took place.
        var conv = Conv(2, 2, 3, 1, true, 11);
        var bn = BatchNorm2d.Load(Tensors(("weight", Tensor.FromArray([4f, 1f], [2])), ("bias", Tensor.FromArray([1f, 0f], [2])),
            ("running_mean", Tensor.FromArray([0f, 0f], [2])), ("running_var", Tensor.FromArray([1f - 1e-5f, 1f - 1e-5f], [2]))), 2);
        var folded = ConvBatchNormFolding.Fold(conv, bn)!;
        var w = conv.Weight.ToArray();
        var fw = folded.Weight.ToArray();
        for (int i = 0; i < w.Length; i++) Assert.Equal(i < 18 ? 4 * w[i] : w[i], fw[i], 5);
        Assert.Equal(4 * conv.Bias!.ToArray()[0] + 1, folded.Bias!.ToArray()[0], 5);
    }

    [Fact]
    public void BatchNorm_with_batch_statistics_is_not_folded()
    {
        var conv = Conv(3, 4, 3, 1, true, 5);
        Assert.Null(ConvBatchNormFolding.Fold(conv, Norm(4, 9, track: false)));
        var model = Sequential.Of(conv, Norm(4, 9, track: false), new ReLU());
        var x = Tensor.RandomNormal(new Shape(2, 3, 6, 6), 3);
        Assert.Equal(OneByOne(model, x).ToArray(), model.Forward(x).ToArray());
    }

    [Fact]
    public void Fusion_leaves_printout_names_parameters_and_equality_as_PyTorch_has_them()
    {
        var model = Sequential.Of(Conv(3, 8, 3, 1, false, 1), Norm(8, 2), new ReLU(), Conv(8, 8, 3, 1, true, 3), Norm(8, 4), new Hardswish());
        var twin = Sequential.Of([.. model.Layers]); // same layers, never run: no plan
        string printed = model.ToString();
        var names = model.Parameters().Select(p => p.Name).Concat(model.Buffers().Select(b => b.Name)).ToList();
        var values = model.Parameters().Concat(model.Buffers()).Select(p => p.Value.ToArray()).ToList();
        long count = model.ParameterCount;

        model.Forward(Tensor.RandomNormal(new Shape(1, 3, 9, 9), 1)).Dispose();

        Assert.Equal(printed, model.ToString());
        Assert.DoesNotContain("PostOp", printed);
        Assert.Equal(["0.weight", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias",
                      "1.running_mean", "1.running_var", "4.running_mean", "4.running_var"], names);
        Assert.Equal(values, model.Parameters().Concat(model.Buffers()).Select(p => p.Value.ToArray()).ToList());
        Assert.Equal(count, model.ParameterCount);
        Assert.Equal(6, model.Count);
        Assert.True(twin.Equals(model) && model.Equals(twin) && twin.GetHashCode() == model.GetHashCode());
    }

    [Fact]
    public void A_with_copy_runs_its_own_layers_not_the_original_plan()
    {
        var conv = Conv(2, 3, 3, 1, true, 21);
        var model = Sequential.Of(conv, new ReLU());
        var x = Tensor.RandomNormal(new Shape(1, 2, 5, 5), 8);
        model.Forward(x).Dispose(); // builds the plan
        var other = model with { Layers = [conv, new Sigmoid()] };
        Assert.Equal(conv.Forward(x).Sigmoid().ToArray(), other.Forward(x).ToArray());
    }

    private static GraphNode Node(string op, string name, string target, params object?[] args) =>
        new(op, name, target, [.. args], ImmutableDictionary<string, object?>.Empty);

    [Fact]
    public void A_graph_folds_BatchNorm_and_applies_a_functional_ReLU_in_the_epilogue_where_one_node_reads_the_value()
    {
        // x -> conv -> bn -> F.relu -> conv2 -> (conv2 + its own input) : conv2's output is read twice only through the add.
        var conv = Conv(3, 6, 3, 1, false, 31);
        var bn = Norm(6, 32);
        var conv2 = Conv(6, 6, 3, 1, true, 33);
        var graph = new Graph(
        [
            Node("placeholder", "x", "x"),
            Node("call_module", "c", "conv", new NodeRef("x")),
            Node("call_module", "b", "bn", new NodeRef("c")),
            Node("call_function", "r", "torch.nn.functional.relu", new NodeRef("b")),
            Node("call_module", "c2", "conv2", new NodeRef("r")),
            Node("call_function", "s", "_operator.add", new NodeRef("c2"), new NodeRef("r")),
            Node("output", "output", "output", new NodeRef("s")),
        ], new Dictionary<string, Layer> { ["conv"] = conv, ["bn"] = bn, ["conv2"] = conv2 });
        var x = Tensor.RandomNormal(new Shape(2, 3, 7, 7), 4);
        var r = bn.Forward(conv.Forward(x)).Relu();
        var expected = (conv2.Forward(r) + r).ToArray();
        var actual = graph.Forward(x).ToArray();
        double scale = Math.Max(1, expected.Max(v => Math.Abs(v)));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * scale, $"element {i}: fused {actual[i]}, layers {expected[i]}");
        // The fold took place (rounding differs somewhere), and a second call gives the same.
        Assert.NotEqual(expected, actual);
        Assert.Equal(actual, graph.Forward(x).ToArray());
    }

    [Fact]
    public void A_graph_value_read_twice_is_not_fused()
    {
        var conv = Conv(3, 4, 3, 1, true, 41);
        var graph = new Graph(
        [
            Node("placeholder", "x", "x"),
            Node("call_module", "c", "conv", new NodeRef("x")),
            Node("call_module", "r", "relu", new NodeRef("c")),
            Node("call_function", "s", "_operator.add", new NodeRef("r"), new NodeRef("c")),
            Node("output", "output", "output", new NodeRef("s")),
        ], new Dictionary<string, Layer> { ["conv"] = conv, ["relu"] = new ReLU() });
        var x = Tensor.RandomNormal(new Shape(1, 3, 6, 6), 5);
        var c = conv.Forward(x);
        Assert.Equal((c.Relu() + c).ToArray(), graph.Forward(x).ToArray());
    }
}
