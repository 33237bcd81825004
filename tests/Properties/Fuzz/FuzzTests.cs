using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace Functional.Properties.Fuzz;

/// <summary>One fuzz case: a corpus sample, the seed of its mutations and how many there are.</summary>
internal sealed record FuzzCase(Sample Sample, int MutationSeed, int Mutations, bool MutateInput)
{
    public override string ToString() => $"sample '{Sample.Name}', mutation seed {MutationSeed}, {Mutations} mutation(s){(MutateInput ? ", input shape mutated" : "")}";
}

/// <summary>
/// Fuzzing (issue #12): mutated safetensors files and module descriptions through
/// <see cref="SafeTensors.Open"/>, <see cref="Weights.Load"/>, <see cref="Model.Load"/>,
/// <see cref="ModuleDescription.Build(string, Weights)"/>, <see cref="Layer.OutputShape"/>, printing and
/// <see cref="Layer.Forward"/>. Every outcome must be a success or one of the library's own
/// exceptions (<see cref="FuzzRun.Outcome"/>), and a forward pass must give the shape
/// <see cref="Layer.OutputShape"/> promised. 10,500 cases per run (tiny models).
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    /// <summary>Forward runs only on small problems, so thousands of cases stay fast and no case allocates much.</summary>
    private const long SmallElements = 1 << 16;

    private static Gen<FuzzCase> Cases(IReadOnlyList<Sample> samples) =>
        from sample in Gen.Elements(samples.ToArray())
        from seed in Gen.Choose(0, int.MaxValue)
        from count in Gen.Frequency((6, Gen.Constant(1)), (3, Gen.Constant(2)), (1, Gen.Constant(4)))
        from input in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new FuzzCase(sample, seed, count, input);

    /// <summary>The input shape, occasionally changed: a dimension grown, shrunk, emptied or dropped.</summary>
    private static Shape Input(FuzzCase c, Random rng)
    {
        var dims = c.Sample.Input.Shape.ToArray();
        if (!c.MutateInput || dims.Length == 0) return c.Sample.Input.Shape;
        int i = rng.Next(dims.Length);
        switch (rng.Next(4))
        {
            case 0: dims[i] = 0; break;
            case 1: dims[i] += 1; break;
            case 2: dims[i] = Math.Max(1, dims[i] / 2); break;
            default: return new Shape(dims.Where((_, k) => k != i).ToArray());
        }
        return new Shape(dims);
    }

    /// <summary>What a caller does with a loaded layer: print it, ask its output shape, and run it when small.</summary>
    private static void Exercise(Layer layer, Shape input, RawTensor sampleInput, int seed)
    {
        _ = layer.ToString();
        var shape = layer.OutputShape(input);
        if (layer.ParameterCount > SmallElements || shape.ElementCount > SmallElements || input.ElementCount > SmallElements) return;
        // The sample's own input where the shape allows (embeddings need integer indices), else random values.
        using var x = input == sampleInput.Shape ? SafeTensors.ToFloat(sampleInput) : Tensor.RandomNormal(input, seed);
        using var y = layer.Forward(x);
        FuzzRun.Check(y.Shape == shape, $"Forward gave {y.Shape}, OutputShape promised {shape}");
    }

    private static Action Description(FuzzCase c)
    {
        var rng = new Random(c.MutationSeed);
        string json = Mutations.Json(c.Sample.Description, rng, c.Mutations);
        var input = Input(c, rng);
        bool own = rng.Next(4) > 0;
        return () =>
        {
            // Mostly the sample's own weights (shape checks on load), sometimes weights made to measure (large ones take long to make).
            using var weights = own
                ? Weights.FromTensors(c.Sample.Weights.ToDictionary(kv => kv.Key, kv => SafeTensors.ToFloat(kv.Value)))
                : Weights.Random(c.MutationSeed);
            Exercise(ModuleDescription.Build(json, weights), input, c.Sample.Input, c.MutationSeed);
        };
    }

    private static Action ModelFile(FuzzCase c)
    {
        var rng = new Random(c.MutationSeed);
        var bytes = Mutations.File(c.Sample.ModelFile, rng, c.Mutations);
        var input = Input(c, rng);
        return () =>
        {
            using var tmp = TempFile.With(bytes);
            using (var st = SafeTensors.Open(tmp.Path))
                foreach (var name in st.Names) st.ReadFloat(name).Dispose();
            Exercise(Model.Load(tmp.Path), input, c.Sample.Input, c.MutationSeed);
        };
    }

    [Fact]
    public void Mutated_module_descriptions_load_or_throw_the_librarys_exceptions() =>
        FuzzRun.Run("descriptions", 9000, Cases(Corpus.Plain), Description, output);

    [Fact]
    public void Mutated_model_files_load_or_throw_the_librarys_exceptions() =>
        FuzzRun.Run("model files", 1500, Cases(Corpus.Plain), ModelFile, output);

    [Fact]
    public void The_corpus_covers_every_layer_family()
    {
        var names = Corpus.All.Select(s => s.Name).ToList();
        Assert.True(Corpus.Plain.Count > 300, $"only {Corpus.Plain.Count} plain samples");
        foreach (var family in new[] { "conv", "convtranspose", "maxpool", "avgpool", "adaptive", "unpool", "upsample", "pixel", "pad", "linear", "batchnorm", "embedding", "flatten", "softmax" })
            Assert.Contains(names, n => n.Contains(family, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Unmutated_samples_all_succeed()
    {
        // The fuzzers start from working inputs: each sample loads and runs as it is.
        foreach (var s in Corpus.All.Where(s => !s.Description.Contains("MaxUnpool")))
        {
            using var w = Weights.FromTensors(s.Weights.ToDictionary(kv => kv.Key, kv => SafeTensors.ToFloat(kv.Value)));
            Exercise(ModuleDescription.Build(s.Description, w), s.Input.Shape, s.Input, 0);
        }
    }
}
