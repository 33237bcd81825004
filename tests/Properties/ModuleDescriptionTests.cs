using System.Collections.Immutable;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>Building activations and sequentials from PyTorch module descriptions (JSON).</summary>
public class ModuleDescriptionTests
{
    private static Layer Build(string json) => ModuleDescription.Build(json, Weights.Random(0));

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The description PyTorch's exporter would write for <paramref name="a"/>, every argument spelled out.</summary>
    private static string Describe(Activation a)
    {
        string inplace = $"\"inplace\": {(a.Inplace ? "true" : "false")}";
        return a switch
        {
            ReLU => $"{{\"type\": \"ReLU\", {inplace}}}",
            ReLU6 => $"{{\"type\": \"ReLU6\", {inplace}}}",
            SiLU => $"{{\"type\": \"SiLU\", {inplace}}}",
            ReLUSquared or Sigmoid or Tanh => $"{{\"type\": \"{a.TypeName}\"}}",
            GELU g => $"{{\"type\": \"GELU\", \"approximate\": \"{(g.Approximate == GeluApproximation.None ? "none" : "tanh")}\"}}",
            LeakyReLU l => $"{{\"type\": \"LeakyReLU\", \"negative_slope\": {Num(l.NegativeSlope)}, {inplace}}}",
            RReLU r => $"{{\"type\": \"RReLU\", \"lower\": {Num(r.Lower)}, \"upper\": {Num(r.Upper)}, {inplace}}}",
            ELU e => $"{{\"type\": \"ELU\", \"alpha\": {Num(e.Alpha)}, {inplace}}}",
            _ => throw new InvalidOperationException(a.ToString()),
        };
    }

    [Property]
    public Property Every_activation_round_trips_through_its_description() =>
        Prop.ForAll(Generators.Activations.ToArbitrary(), a =>
        {
            var built = Build(Describe(a));
            Assert.Equal<Layer>(a, built);
            Assert.Equal(a.ToString(), built.ToString());
        });

    [Property]
    public Property Sequentials_round_trip_with_their_nesting() =>
        Prop.ForAll(Gen.Zip(Generators.Pipelines(3), Generators.Pipelines(3)).ToArbitrary(), t =>
        {
            var (outer, inner) = t;
            string json = "{\"type\": \"Sequential\", \"layers\": ["
                + string.Join(", ", outer.Select(Describe).Append("{\"type\": \"Sequential\", \"layers\": [" + string.Join(", ", inner.Select(Describe)) + "]}"))
                + "]}";
            var built = Assert.IsType<Sequential>(Build(json));
            var expected = Sequential.Nested([.. outer, Sequential.Nested(inner)]);
            Assert.Equal(expected, built);
            Assert.IsType<Sequential>(built[^1]);
            Assert.Equal(expected.ToString(), built.ToString());
        });

    public static TheoryData<string, string> Defaults() => new()
    {
        // Description without optional arguments → PyTorch's printout of the module built with defaults.
        { "{\"type\": \"ReLU\"}", "ReLU()" },
        { "{\"type\": \"ReLU6\"}", "ReLU6()" },
        { "{\"type\": \"ReLUSquared\"}", "ReLUSquared()" },
        { "{\"type\": \"Sigmoid\"}", "Sigmoid()" },
        { "{\"type\": \"SiLU\"}", "SiLU()" },
        { "{\"type\": \"Tanh\"}", "Tanh()" },
        { "{\"type\": \"GELU\"}", "GELU(approximate='none')" },
        { "{\"type\": \"LeakyReLU\"}", "LeakyReLU(negative_slope=0.01)" },
        { "{\"type\": \"RReLU\"}", "RReLU(lower=0.125, upper=0.3333333333333333)" },
        { "{\"type\": \"ELU\"}", "ELU(alpha=1.0)" },
        { "{\"type\": \"ELU\", \"alpha\": null}", "ELU(alpha=1.0)" },
        { "{\"type\": \"ELU\", \"alpha\": 2}", "ELU(alpha=2.0)" },
        { "{\"type\": \"GELU\", \"approximate\": \"tanh\"}", "GELU(approximate='tanh')" },
        { "{\"type\": \"LeakyReLU\", \"negative_slope\": 0.2, \"inplace\": true}", "LeakyReLU(negative_slope=0.2, inplace=True)" },
        { "{\"type\": \"ReLU\", \"inplace\": true}", "ReLU(inplace=True)" },
        { "{\"type\": \"ELU\", \"alpha\": 0.5, \"inplace\": true}", "ELU(alpha=0.5, inplace=True)" },
        { "{\"type\": \"RReLU\", \"lower\": 0.1, \"upper\": 0.3, \"inplace\": false}", "RReLU(lower=0.1, upper=0.3)" },
        { "{\"type\": \"Sequential\", \"layers\": []}", "Sequential()" },
        { "{\"type\": \"Sequential\", \"layers\": [{\"type\": \"ReLU\"}, {\"type\": \"GELU\", \"approximate\": \"tanh\"}]}", "Sequential(\n  (0): ReLU()\n  (1): GELU(approximate='tanh')\n)" },
        { "{\"type\": \"Sequential\", \"layers\": [{\"type\": \"Sequential\", \"layers\": [{\"type\": \"Tanh\"}]}, {\"type\": \"SiLU\"}]}", "Sequential(\n  (0): Sequential(\n    (0): Tanh()\n  )\n  (1): SiLU()\n)" },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Built_layers_print_as_PyTorch(string json, string printout) => Assert.Equal(printout, Build(json).ToString());

    [Fact]
    public void Built_layers_equal_the_layers_made_in_code()
    {
        Assert.Equal<Layer>(new LeakyReLU(0.2), Build("{\"type\": \"LeakyReLU\", \"negative_slope\": 0.2}"));
        Assert.Equal<Layer>(new GELU(GeluApproximation.Tanh), Build("{\"type\": \"GELU\", \"approximate\": \"tanh\"}"));
        Assert.Equal<Layer>(new ELU(1.0), Build("{\"type\": \"ELU\", \"alpha\": 1}"));
        Assert.Equal<Layer>(new RReLU(), Build("{\"type\": \"RReLU\"}"));
        Assert.Equal<Layer>(Sequential.Nested(new ReLU(), Sequential.Nested(new Tanh())),
            Build("{\"type\": \"Sequential\", \"layers\": [{\"type\": \"ReLU\"}, {\"type\": \"Sequential\", \"layers\": [{\"type\": \"Tanh\"}]}]}"));
        // A nested sequential built from a description keeps its nesting (state_dict names need it).
        var nested = Assert.IsType<Sequential>(Build("{\"type\": \"Sequential\", \"layers\": [{\"type\": \"Sequential\", \"layers\": [{\"type\": \"Tanh\"}, {\"type\": \"ReLU\"}]}]}"));
        Assert.Single(nested);
        Assert.NotEqual(Sequential.Of(new Tanh(), new ReLU()), nested);
    }

    [Theory]
    [InlineData("{\"type\": \"Softmax2000\"}", "Softmax2000")]
    [InlineData("{\"type\": \"relu\"}", "relu")]
    [InlineData("{\"type\": \"Sequential\", \"layers\": [{\"type\": \"ReLU\"}, {\"type\": \"Mystery\"}]}", "Mystery")]
    public void Unsupported_type_is_named(string json, string type)
    {
        var e = Assert.Throws<ModuleDescriptionException>(() => Build(json));
        Assert.Contains($"'{type}'", e.Message);
        Assert.Contains("ReLU", e.Message); // lists what is supported
    }

    [Theory]
    [InlineData("{\"type\": \"ReLU\", \"negative_slope\": 0.1}", "negative_slope")]
    [InlineData("{\"type\": \"Sigmoid\", \"inplace\": true}", "inplace")]
    [InlineData("{\"type\": \"Tanh\", \"inplace\": false}", "inplace")]
    [InlineData("{\"type\": \"GELU\", \"inplace\": true}", "inplace")]
    [InlineData("{\"type\": \"ELU\", \"alpah\": 1.0}", "alpah")]
    [InlineData("{\"type\": \"Sequential\", \"layers\": [], \"modules\": []}", "modules")]
    [InlineData("{\"type\": \"Sequential\", \"layers\": [{\"type\": \"ReLU\", \"bogus\": 1}]}", "bogus")]
    public void Unknown_argument_is_named(string json, string argument)
    {
        var e = Assert.Throws<ModuleDescriptionException>(() => Build(json));
        Assert.Contains($"'{argument}'", e.Message);
    }

    [Theory]
    [InlineData("{\"type\": \"GELU\", \"approximate\": \"foo\"}", "approximate", "foo")]
    [InlineData("{\"type\": \"GELU\", \"approximate\": 1}", "approximate", "1")]
    [InlineData("{\"type\": \"LeakyReLU\", \"negative_slope\": \"steep\"}", "negative_slope", "steep")]
    [InlineData("{\"type\": \"ELU\", \"alpha\": [1]}", "alpha", "[1]")]
    [InlineData("{\"type\": \"ReLU\", \"inplace\": \"yes\"}", "inplace", "yes")]
    [InlineData("{\"type\": \"Sequential\", \"layers\": {}}", "layers", "{}")]
    public void Bad_value_is_named_with_its_argument(string json, string argument, string value)
    {
        var e = Assert.Throws<ModuleDescriptionException>(() => Build(json));
        Assert.Contains(argument, e.Message);
        Assert.Contains(value, e.Message);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[{\"type\": \"ReLU\"}]")]
    [InlineData("{\"kind\": \"ReLU\"}")]
    [InlineData("{\"type\": 3}")]
    [InlineData("{\"type\": \"Sequential\"}")]
    public void Malformed_descriptions_are_ModuleDescriptionExceptions(string json) =>
        Assert.Throws<ModuleDescriptionException>(() => Build(json));

    [Fact]
    public void Supported_types_include_every_activation_and_Sequential()
    {
        var supported = ModuleDescription.SupportedTypes.ToHashSet();
        foreach (var t in new[] { "Sequential", "ReLU", "ReLU6", "ReLUSquared", "Sigmoid", "SiLU", "Tanh", "GELU", "LeakyReLU", "RReLU", "ELU" })
        {
            Assert.Contains(t, supported);
            Assert.Equal(t, Build(t == "Sequential" ? "{\"type\": \"Sequential\", \"layers\": []}" : $"{{\"type\": \"{t}\"}}").TypeName);
        }
    }

    [Fact]
    public void Built_activations_compute_like_the_code_made_ones()
    {
        var x = Tensor.Arange(-3f, 3f, 0.25f);
        var built = Build("{\"type\": \"Sequential\", \"layers\": [{\"type\": \"LeakyReLU\", \"negative_slope\": 0.3}, {\"type\": \"GELU\", \"approximate\": \"tanh\"}]}");
        var code = new LeakyReLU(0.3) >> new GELU(GeluApproximation.Tanh);
        Assert.Equal(code.Forward(x).ToArray(), built.Forward(x).ToArray());
    }
    [Fact]
    public void Graphs_are_equal_by_structure_with_arguments_compared_by_value()
    {
        static Graph Make(long dim, string target = "torch.cat") => new(
        [
            new GraphNode("placeholder", "x", "x", [], ImmutableDictionary<string, object?>.Empty),
            new GraphNode("call_module", "a", "relu", [new NodeRef("x")], ImmutableDictionary<string, object?>.Empty),
            new GraphNode("call_function", "c", target, [ImmutableArray.Create<object?>(new NodeRef("x"), new NodeRef("a"))],
                ImmutableDictionary<string, object?>.Empty.Add("dim", dim)),
            new GraphNode("output", "output", "output", [new NodeRef("c")], ImmutableDictionary<string, object?>.Empty),
        ], new Dictionary<string, Layer> { ["relu"] = new ReLU() });

        Assert.Equal(Make(1), Make(1));
        Assert.NotEqual(Make(1), Make(0));
        Assert.NotEqual(Make(1), Make(1, "torch.stack"));
        var x = Tensor.RandomNormal([1, 2, 3], 1);
        Assert.Equal([1, 4, 3], Make(1).Forward(x).Shape.ToArray());
    }
}
