using Functional.Models;

namespace Functional.ParityTests;

/// <summary>
/// PyTorch checkpoints written by torch.save (tests/Parity/checkpoints.py): every tensor read back
/// as torch.load gives it, hostile ones refused without running anything, and the DSL's ResNet-18
/// loading a torch.save'd state_dict with PyTorch's output.
/// </summary>
public class CheckpointTests
{
    private static string Folder { get; } = Path.Combine(Path.GetDirectoryName(ParityTests.CasesFolder)!, "checkpoints");

    private static string File(string name) => Path.Combine(Folder, name);

    /// <summary>Every .pth that has an expectation beside it.</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Folder, "*.pth").Order(StringComparer.Ordinal))
            if (System.IO.File.Exists(Path.ChangeExtension(f, ".safetensors"))) data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    [Fact]
    public void Every_kind_of_case_is_there()
    {
        var names = ((IEnumerable<object[]>)Cases()).Select(c => (string)c[0]).ToList();
        Assert.Superset(new HashSet<string> { "state_dict_layers", "dtypes_buffers", "shared_storage", "transposed_views", "nested_dicts",
            "parameters", "full_checkpoint", "archive_folder_deflated" }, names.ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Checkpoint_tensors_equal_what_torch_load_gives(string name)
    {
        using var pth = PyTorchCheckpoint.Open(File(name + ".pth"));
        using var expected = SafeTensors.Open(File(name + ".safetensors"));
        Assert.Equal(expected.Names.ToArray(), pth.Names.ToArray());
        foreach (var n in expected.Names)
        {
            Assert.Equal(expected.Describe(n), pth.Describe(n));
            var want = expected.ReadRaw(n);
            var got = pth.ReadRaw(n);
            Assert.True(want.Bytes.Span.SequenceEqual(got.Bytes.Span), $"{name}: tensor '{n}' ({want.DType}{want.Shape}) differs");
            Assert.True(expected.ReadFloat(n).Span.SequenceEqual(pth.ReadFloat(n).Span), $"{name}: tensor '{n}' as float32 differs");
        }
        using var w = Weights.Load(File(name + ".pth"));
        Assert.Equal(expected.Names.ToArray(), w.Keys);
    }

    [Fact]
    public void A_model_is_built_from_the_state_dict_inside_a_full_checkpoint()
    {
        using var w = Weights.Load(File("full_checkpoint.pth")).Subset("model");
        var model = Linear.Load(w.At("0"), 3, 4) >> BatchNorm1d.Load(w.At("1"), 4) >> Linear.Load(w.At("2"), 4, 2);
        Assert.Equal(["1.num_batches_tracked"], w.UnusedKeys());
        Assert.Contains("optimizer.state.0.exp_avg", Weights.Load(File("full_checkpoint.pth")).Keys);
        Assert.Equal(new Shape(5, 2), model.OutputShape([5, 3]));
    }

    [Theory]
    [InlineData("hostile_posix_system", "'posix.system'")]
    [InlineData("hostile_builtins_eval", "'__builtin__.eval'")] // protocol 2 writes Python 2's module name
    [InlineData("hostile_namespace", "'argparse.Namespace'")]
    public void Checkpoints_with_foreign_globals_are_refused_naming_the_global(string name, string global)
    {
        var e = Assert.Throws<PyTorchCheckpointException>(() => Weights.Load(File(name + ".pth")));
        Assert.Contains($"refuses the global {global}", e.Message);
        Assert.Contains("nothing was executed", e.Message);
        Assert.False(System.IO.File.Exists("/tmp/functional-pwned"));
        Assert.False(System.IO.File.Exists("/tmp/functional-pwned-eval"));
    }

    [Fact]
    public void The_legacy_non_zip_format_is_refused_with_the_reason()
    {
        var e = Assert.Throws<PyTorchCheckpointException>(() => Weights.Load(File("legacy_format.pth")));
        Assert.Contains("legacy torch.save format", e.Message);
        var s = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(File("legacy_format.pth")));
        Assert.Contains("legacy torch.save format", s.Message);
        var z = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(File("parameters.pth")));
        Assert.Contains("a zip archive (a PyTorch checkpoint?", z.Message);
    }

    [Fact]
    public void Dsl_ResNet18_loads_a_torch_saved_state_dict_and_matches_PyTorch()
    {
        using var io = SafeTensors.Open(File("resnet18_width4.io.safetensors"));

        using var weights = Weights.Load(File("resnet18_width4.pth"));
        var model = ResNet.ResNet18(weights, numClasses: 10, width: 4);

        Assert.Equal(weights.Keys.Where(k => k.EndsWith(".num_batches_tracked")), weights.UnusedKeys()); // a counter for training only
        Assert.Equal(io.Metadata["repr"], model.ToString());
        var output = model.Forward(io.ReadFloat("input"));
        var expected = io.ReadFloat("output");
        float atol = float.Parse(io.Metadata["atol"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(output.AllClose(expected, atol: atol, rtol: atol), $"max abs diff {output.MaxAbsDiff(expected)}");
    }
}
