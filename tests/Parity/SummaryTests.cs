using System.Text.Json;
using Functional.Models;
using Functional.Parity;

namespace Functional.ParityTests;

/// <summary>
/// Summary against PyTorch: every layer call of torchvision's ResNet-18 (the DSL model: modules
/// with residual bodies) and of the exported UNet (a torch.fx graph), in PyTorch's call order, with
/// its name path, type, depth, output shape, parameters and torchinfo's multiply-adds, as forward
/// hooks recorded them (summary_oracle.py, frozen in summary_oracle.json).
/// </summary>
public class SummaryTests
{
    private static JsonElement Oracle(string model)
    {
        var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(ParityTests.CasesFolder, "..", "summary_oracle.json")));
        return doc.RootElement.GetProperty(model);
    }

    private static void AssertMatches(Layer model, JsonElement oracle, string[] functional)
    {
        var input = new Shape(oracle.GetProperty("input").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        var summary = model.Summary(input);
        // Calls PyTorch makes as functions (torch.flatten in ResNet's forward) are unnamed rows here.
        var rows = summary.Rows.Where(r => !(r.Name.Length == 0 && r.Depth > 0 && functional.Contains(r.Type))).ToList();
        var expected = oracle.GetProperty("rows").EnumerateArray().ToList();
        Assert.True(expected.Count == rows.Count, $"{rows.Count} rows, PyTorch {expected.Count}:\n" +
            string.Join("\n", rows.Select(r => $"{r.Depth} {r.Name} {r.Type}")));
        for (int i = 0; i < rows.Count; i++)
        {
            var (e, r) = (expected[i], rows[i]);
            string where = $"row {i} ({e.GetProperty("name").GetString()})";
            Assert.True(e.GetProperty("name").GetString() == r.Name, $"{where}: name {r.Name}");
            Assert.True(e.GetProperty("type").GetString() == r.Type, $"{where}: type {r.Type}");
            Assert.True(e.GetProperty("depth").GetInt32() == r.Depth, $"{where}: depth {r.Depth}");
            Assert.Equal(new Shape(e.GetProperty("output").EnumerateArray().Select(v => v.GetInt32()).ToArray()), r.OutputShape);
            if (e.TryGetProperty("params", out var p))
            {
                Assert.True(p.GetInt64() == r.Parameters, $"{where}: params {r.Parameters}");
                Assert.True(e.GetProperty("mult_adds").GetInt64() == r.MultAdds, $"{where}: mult-adds {r.MultAdds}");
            }
            else Assert.Null(r.Parameters);
        }
        Assert.Equal(model.ParameterCount, summary.TotalParameters);
        Assert.Equal(expected.Sum(e => e.TryGetProperty("mult_adds", out var m) ? m.GetInt64() : 0), summary.TotalMultAdds);
        Assert.Equal(model.OutputShape(input), summary.OutputShape);
    }

    [Fact]
    public void ResNet18_summary_lists_PyTorchs_calls()
    {
        using var file = SafeTensors.Open(Path.Combine(ParityTests.CasesFolder, "models", "resnet18_torchvision.safetensors"));
        using var weights = Weights.FromTensors(GeneratedWeights.Create(file.Metadata["generated_weights"]));
        var model = ResNet.ResNet18(weights);
        AssertMatches(model, Oracle("resnet18"), ["Flatten"]);
        var table = model.Summary([1, 3, 224, 224]).ToString();
        Assert.Contains("Total params: 11,689,512", table);
        Assert.Contains("layer2.0.downsample.0: Conv2d", table);
    }

    [Fact]
    public void Exported_UNet_graph_summary_lists_PyTorchs_calls()
    {
        var model = Model.Load(ModelTests.Sample("unet.safetensors"));
        AssertMatches(model, Oracle("unet"), []);
    }

    [Fact]
    public void Summary_fails_as_OutputShape_does()
    {
        var model = Model.Load(ModelTests.Sample("unet.safetensors"));
        var e = Assert.Throws<ShapeException>(() => model.Summary([1, 5, 32, 32]));
        Assert.Equal(Assert.Throws<ShapeException>(() => model.OutputShape([1, 5, 32, 32])).Message, e.Message);
    }
}
