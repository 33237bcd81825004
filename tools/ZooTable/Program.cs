// Writes README.md's zoo table from the parity cases under tests/Parity/cases/zoo: each case is
// run as the parity test runs it, and its row says the model, its parameter count and its largest
// difference from PyTorch relative to the output's scale (max|diff| / max(1, max|y|)).
// Run from the repository: dotnet run --project tools/ZooTable -c Release
using System.Globalization;
using System.Text;
using Functional;
using Functional.Parity;

const string Begin = "<!-- zoo-table: written by tools/ZooTable, do not edit by hand -->";
const string End = "<!-- /zoo-table -->";

string root = FindRoot(AppContext.BaseDirectory) ?? FindRoot(Directory.GetCurrentDirectory())
    ?? throw new DirectoryNotFoundException("run from within the repository (README.md and tests/Parity/cases/zoo not found)");
string readme = Path.Combine(root, "README.md");
var rows = new StringBuilder();
// The speed column is left for the ONNX Runtime benchmark (bench/) to fill.
rows.AppendLine("| model | input | parameters | max rel. diff to PyTorch | time vs ONNX Runtime |");
rows.AppendLine("| --- | --- | ---: | ---: | ---: |");
int failed = 0;
foreach (var path in ParityCase.Find(Path.Combine(root, "tests", "Parity", "cases", "zoo")))
{
    var result = ParityCase.Run(path);
    using var file = SafeTensors.Open(path);
    var input = file.ReadFloat("input");
    var output = file.ReadFloat("output");
    float scale = 1;
    foreach (float y in output.Span) scale = Math.Max(scale, Math.Abs(y));
    string diff = result.Passed ? (result.MaxAbsDiff / scale).ToString("0.0e0", CultureInfo.InvariantCulture) : $"fails: {result.Failure?.Split('\n')[0]}";
    if (!result.Passed) failed++;
    string parameters = result.Layer?.ParameterCount.ToString("N0", CultureInfo.InvariantCulture) ?? "?";
    rows.AppendLine($"| {result.Name} | {string.Join("×", input.Shape)} | {parameters} | {diff} | — |");
    Console.WriteLine($"{result.Name}: {diff}");
}

string text = File.ReadAllText(readme);
int begin = text.IndexOf(Begin, StringComparison.Ordinal), end = text.IndexOf(End, StringComparison.Ordinal);
if (begin < 0 || end < begin) throw new InvalidDataException($"README.md lacks the markers '{Begin}' ... '{End}'");
File.WriteAllText(readme, text[..(begin + Begin.Length)] + "\n" + rows + text[end..]);
Console.WriteLine($"README.md: zoo table written ({failed} failing)");
return failed == 0 ? 0 : 1;

static string? FindRoot(string start)
{
    for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "README.md")) && Directory.Exists(Path.Combine(dir.FullName, "tests", "Parity", "cases", "zoo")))
            return dir.FullName;
    return null;
}
