using Functional.Models;
using Functional.Parity;

namespace Functional.ParityTests;

/// <summary>Whole models: the DSL's ResNet-18 against torchvision's, and a model exported by tools/export.py.</summary>
public class ModelTests
{
    private static string Case(string family, string name) => Path.Combine(ParityTests.CasesFolder, family, name + ".safetensors");

    internal static string Sample(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "Tour", file);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"samples/Tour/{file} not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void Dsl_ResNet18_matches_torchvision_numbers_printout_and_parameter_count()
    {
        using var file = SafeTensors.Open(Case("models", "resnet18_torchvision"));
        var meta = file.Metadata;
        using var weights = Weights.FromTensors(GeneratedWeights.Create(meta["generated_weights"]));

        var model = ResNet.ResNet18(weights);

        Assert.Empty(weights.UnusedKeys());
        Assert.Equal(meta["repr"], model.ToString());
        Assert.Equal(11_689_512, model.ParameterCount);
        var input = file.ReadFloat("input");
        Assert.Equal(new Shape(1, 1000), model.OutputShape(input.Shape));
        var expected = file.ReadFloat("output");
        var output = model.Forward(input);
        float atol = float.Parse(meta["atol"], System.Globalization.CultureInfo.InvariantCulture);
        int bad = output.FirstMismatch(expected, atol, atol);
        Assert.True(bad < 0, $"element {bad}: {output.Span[Math.Max(bad, 0)]} vs PyTorch {expected.Span[Math.Max(bad, 0)]}; max abs diff {output.MaxAbsDiff(expected)}");
    }

    [Fact]
    public void Dsl_ResNet18_names_its_parameters_as_torchvision_state_dict()
    {
        using var file = SafeTensors.Open(Case("models", "resnet18_torchvision"));
        var recipe = GeneratedWeights.Create(file.Metadata["generated_weights"]);
        var model = ResNet.ResNet18(Weights.FromTensors(recipe));
        var names = model.Parameters().Select(p => p.Name).Concat(model.Buffers().Select(b => b.Name)).ToHashSet();
        Assert.Contains("layer1.0.conv1.weight", names);
        Assert.Contains("layer2.0.downsample.0.weight", names);
        Assert.Contains("fc.weight", names);
        Assert.Subset(names, recipe.Keys.ToHashSet());
    }

    [Fact]
    public void Exported_model_loads_in_one_call_prints_as_PyTorch_and_matches_its_output()
    {
        string path = Sample("unet.safetensors");
        var model = Model.Load(path);
        Assert.Equal(Model.PyTorchPrintout(path), model.ToString());
        using var io = SafeTensors.Open(Sample("unet.io.safetensors"));
        var output = model.Forward(io.ReadFloat("input"));
        var expected = io.ReadFloat("output");
        Assert.True(output.AllClose(expected, atol: 1e-4f, rtol: 1e-4f), $"max abs diff {output.MaxAbsDiff(expected)}");
    }

    [Fact]
    public void Loading_a_parity_case_as_a_model_is_refused_with_the_reason()
    {
        var e = Assert.Throws<SafeTensorsException>(() => Model.Load(Case("models", "skipnet_residual_concat_flatten")));
        Assert.Contains("not a model exported by tools/export.py", e.Message);
    }

    [Fact]
    public void A_graph_checks_shapes_and_names_the_failing_node()
    {
        var model = Model.Load(Sample("unet.safetensors"));
        var e = Assert.Throws<ShapeException>(() => model.OutputShape([1, 4, 32, 32]));
        Assert.Contains("enc1", e.Message);
        Assert.Contains("3 channels", e.Message);
    }
}
