using System.Diagnostics;
using Functional;
using Functional.Parity;

// A tour of Functional: build layers fluently, load PyTorch weights, run, and check against PyTorch.

Console.WriteLine("== 1. Layers are values; >> composes them into a flat Sequential ==");
var model = new GELU() >> new LeakyReLU(0.2) >> new Tanh();
Console.WriteLine(model);
var x = Tensor.RandomNormal([2, 3, 4], seed: 0);
Console.WriteLine($"input  {x.Shape} -> output {model.OutputShape(x.Shape)}");
Console.WriteLine(model.Forward(x));
Console.WriteLine();

Console.WriteLine("== 2. Every PyTorch parity case: rebuilt from its description, PyTorch's weights loaded by state_dict name ==");
string casesFolder = FindCases();
var results = ParityCase.Find(casesFolder).Select(ParityCase.Run).ToList();
Console.WriteLine($"{"case",-58} {"PyTorch printout",-70} {"output",-20} {"max |diff|",10} {"time",10}");
foreach (var r in results)
{
    string printout = (r.Layer?.ToString() ?? "-").Replace("\n", " ").Replace("  ", " ");
    if (printout.Length > 70) printout = printout[..67] + "...";
    string diff = r.Passed ? r.MaxAbsDiff.ToString("0.0e+0") : "FAIL";
    Console.WriteLine($"{r.Name,-58} {printout,-70} {r.OutputShape?.ToString() ?? "-",-20} {diff,10} {r.Elapsed.TotalMilliseconds,8:0.000}ms");
    if (!r.Passed) Console.WriteLine($"    {r.Failure}");
}
Console.WriteLine($"parity: {results.Count(r => r.Passed)} of {results.Count} cases match PyTorch");
return results.All(r => r.Passed) ? 0 : 1;

static string FindCases()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var c = Path.Combine(dir.FullName, "tests", "Parity", "cases");
        if (Directory.Exists(c)) return c;
    }
    throw new DirectoryNotFoundException("tests/Parity/cases not found");
}
