using Functional.Parity;

namespace Functional.ParityTests;

/// <summary>
/// Runs every PyTorch parity case: the committed ones under tests/Parity/cases and, when the
/// environment variable FUNCTIONAL_PARITY_DIR names a folder, every case under it. Each file is
/// its own test case; a case that cannot run fails with the reason.
/// </summary>
public class ParityTests
{
    public const string ExtraFolderVariable = "FUNCTIONAL_PARITY_DIR";

    public static string CasesFolder { get; } = FindCasesFolder();

    private static string FindCasesFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Parity", "cases");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/Parity/cases not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Committed cases by path relative to the cases folder, then extra cases by absolute path.</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var f in ParityCase.Find(CasesFolder)) data.Add(Path.GetRelativePath(CasesFolder, f));
        var folder = Environment.GetEnvironmentVariable(ExtraFolderVariable);
        if (!string.IsNullOrEmpty(folder))
        {
            // A folder that is missing or empty still yields a case, so the run fails instead of passing silently.
            var files = Directory.Exists(folder) ? ParityCase.Find(folder) : [];
            if (files.Count == 0) data.Add(Path.Combine(Path.GetFullPath(folder), "<no .safetensors files here>"));
            foreach (var f in files) data.Add(Path.GetFullPath(f));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_PyTorch(string file) => AssertPasses(Path.IsPathRooted(file) ? file : Path.Combine(CasesFolder, file));

    [Fact]
    public void Committed_cases_exist_for_every_family()
    {
        foreach (var family in new[] { "activations", "conv", "pool", "extreme" })
            Assert.True(ParityCase.Find(Path.Combine(CasesFolder, family)).Count > 0, $"no parity cases in {family}/");
    }

    private static void AssertPasses(string path)
    {
        Assert.True(File.Exists(path), $"parity case '{path}' does not exist");
        var result = ParityCase.Run(path);
        Assert.True(result.Passed, $"{result.Name}: {result.Failure}\nlayer: {result.Layer}");
    }
}
