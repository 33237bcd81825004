namespace Functional.Properties.Fuzz;

/// <summary>A valid starting point: a module description, an input shape it accepts, and its weights.</summary>
internal sealed record Sample(string Name, string Description, RawTensor Input, IReadOnlyList<KeyValuePair<string, RawTensor>> Weights)
{
    /// <summary>Whether the description holds a traced graph (validated by the graph reader).</summary>
    public bool Traced => Description.Contains("\"graph\"", StringComparison.Ordinal);

    /// <summary>The sample as a file of <c>tools/export.py</c>'s format, for <see cref="Model.Load"/>.</summary>
    public byte[] ModelFile => modelFile.Value;

    private readonly Lazy<byte[]> modelFile = new(() =>
    {
        using var tmp = new TempFile();
        SafeTensors.Write(tmp.Path, Weights, new Dictionary<string, string> { ["format"] = Model.Format, ["module"] = Description });
        return File.ReadAllBytes(tmp.Path);
    });

    public override string ToString() => Name;
}

/// <summary>
/// The fuzzers' seeds: every committed parity case small enough to run thousands of times (its
/// description, input shape and weights), read once.
/// </summary>
internal static class Corpus
{
    private static readonly Lazy<IReadOnlyList<Sample>> all = new(Load);

    public static IReadOnlyList<Sample> All => all.Value;

    private static readonly Lazy<IReadOnlyList<Sample>> plain = new(() => All.Where(s => !s.Traced).ToList());
    private static readonly Lazy<IReadOnlyList<Sample>> traced = new(() => All.Where(s => s.Traced).ToList());

    /// <summary>Plain module descriptions (no traced graph).</summary>
    public static IReadOnlyList<Sample> Plain => plain.Value;

    /// <summary>Descriptions with a traced graph.</summary>
    public static IReadOnlyList<Sample> Traced => traced.Value;

    private static string CasesFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Parity", "cases");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/Parity/cases not found above {AppContext.BaseDirectory}");
    }

    private static IReadOnlyList<Sample> Load()
    {
        var samples = new List<Sample>();
        foreach (var path in Functional.Parity.ParityCase.Find(CasesFolder()))
        {
            if (new FileInfo(path).Length > 40_000) continue;
            using var file = SafeTensors.Open(path);
            if (!file.Metadata.TryGetValue("module", out var description) || file.Metadata.ContainsKey("generated_weights")) continue;
            var weights = file.Names.Where(n => n.StartsWith("module.", StringComparison.Ordinal))
                .Select(n => KeyValuePair.Create(n["module.".Length..], file.ReadRaw(n))).ToList();
            samples.Add(new Sample(Path.GetFileNameWithoutExtension(path), description, file.ReadRaw("input"), weights));
        }
        return samples;
    }
}
