using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Functional.Parity;

/// <summary>What running one parity case gave.</summary>
/// <param name="Name">The case file's name without extension.</param>
/// <param name="Layer">The layer built from the description (null when building failed).</param>
/// <param name="OutputShape">The shape Functional produced.</param>
/// <param name="MaxAbsDiff">Largest absolute difference from PyTorch's output.</param>
/// <param name="Elapsed">Time of one forward call (after one warm-up call).</param>
/// <param name="Failure">Why the case failed, or null when it passed.</param>
public sealed record ParityResult(string Name, Layer? Layer, Shape? OutputShape, float MaxAbsDiff, TimeSpan Elapsed, string? Failure)
{
    /// <summary>Whether Functional matched PyTorch within the case's tolerances.</summary>
    public bool Passed => Failure is null;
}

/// <summary>
/// One parity case in the project's format (<c>tests/Parity/FORMAT.md</c>, version 1): a PyTorch
/// module's description, weights, input and PyTorch's output, frozen into one safetensors file.
/// <see cref="Run"/> rebuilds the module, runs it and compares.
/// </summary>
public static class ParityCase
{
    /// <summary>The format tag this reader understands.</summary>
    public const string Format = "functional-parity/1";

    /// <summary>Runs the case in <paramref name="path"/>; never throws for a bad case, it reports it as a failure.</summary>
    public static ParityResult Run(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        Layer? layer = null;
        try
        {
            using var file = SafeTensors.Open(path);
            var meta = file.Metadata;
            using var weights = meta.TryGetValue("generated_weights", out var recipe)
                ? Weights.FromTensors(GeneratedWeights.Create(recipe, "module."))
                : Weights.Load(path);
            string Meta(string key) => meta.TryGetValue(key, out var v) ? v : throw new SafeTensorsException($"{name}: metadata '{key}' is missing");
            if (Meta("format") != Format) return Fail($"format '{Meta("format")}' is not '{Format}'");
            float atol = float.Parse(Meta("atol"), CultureInfo.InvariantCulture);
            float rtol = float.Parse(Meta("rtol"), CultureInfo.InvariantCulture);

            layer = ModuleDescription.Build(Meta("module"), weights.At("module"));
            var input = file.ReadFloat("input");
            var call = CallArguments.Parse(meta.TryGetValue("call", out var c) ? c : null, file);

            var stopwatch = Stopwatch.StartNew();
            var (output, indices) = call.Invoke(layer, input, wantIndices: file.Contains("indices"));
            stopwatch.Restart();
            (output, indices) = call.Invoke(layer, input, wantIndices: file.Contains("indices"));
            var elapsed = stopwatch.Elapsed;

            var unused = weights.UnusedKeys()
                .Where(k => k.StartsWith("module.", StringComparison.Ordinal) && !(file.Contains(k) && file.Describe(k).DType is DType.I64 or DType.I32))
                .ToList();
            if (unused.Count > 0) return Fail($"weights never used by {layer.TypeName}: {string.Join(", ", unused)}");

            if (meta.TryGetValue("repr", out var printout) && printout != layer.ToString())
                return Fail($"printout differs from PyTorch's:\n  PyTorch:    {printout.Replace("\n", "\n              ")}\n  Functional: {layer.ToString().Replace("\n", "\n              ")}");

            var expected = file.ReadFloat("output");
            if (output.Shape != expected.Shape)
                return new(name, layer, output.Shape, float.PositiveInfinity, elapsed, $"output shape {output.Shape}, PyTorch gave {expected.Shape}");
            float diff = output.MaxAbsDiff(expected);
            int bad = output.FirstMismatch(expected, atol, rtol);
            string? failure = bad < 0 ? null
                : $"element {bad}: got {output.Span[bad]}, PyTorch {expected.Span[bad]} (atol {atol}, rtol {rtol}; max abs diff {diff})";
            if (failure is null && file.Contains("indices"))
            {
                var (want, wantShape) = file.ReadInt64("indices");
                if (indices is null) failure = "PyTorch returned indices but the layer gave none";
                else if (indices.Shape != wantShape || !indices.Span.SequenceEqual(want))
                    failure = $"indices differ from PyTorch's (shape {indices.Shape} vs {wantShape})";
            }
            return new(name, layer, output.Shape, diff, elapsed, failure);
        }
        catch (Exception e) when (e is ArgumentException or IOException or KeyNotFoundException or JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            return Fail($"{e.GetType().Name}: {e.Message}");
        }

        ParityResult Fail(string why) => new(name, layer, null, float.PositiveInfinity, TimeSpan.Zero, why);
    }

    /// <summary>Every <c>.safetensors</c> file under <paramref name="folder"/>, recursively, sorted.</summary>
    public static IReadOnlyList<string> Find(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : throw new DirectoryNotFoundException($"parity case folder '{folder}' does not exist");
}
