using System.Diagnostics;
using Functional;
using Functional.Parity;

// A tour of Functional: build layers fluently, load PyTorch weights, run, and check against PyTorch.

Console.WriteLine("== 1. Layers are values; >> composes them into a flat Sequential ==");
var weights = Weights.Random(seed: 0);   // PyTorch's default initialisation; Weights.Load("model.safetensors") reads real ones
var model = Conv2d.Load(weights.At("0"), 3, 16, kernelSize: 3, stride: 2, bias: false)
          >> new ReLU()
          >> new MaxPool2d(3, stride: 2)
          >> Conv2d.Load(weights.At("3"), 16, 32, kernelSize: (3, 1), padding: Padding.Same, paddingMode: PaddingMode.Reflect)
          >> new GELU(GeluApproximation.Tanh)
          >> new AdaptiveAvgPool2d(1);
Console.WriteLine(model);
Console.WriteLine($"parameters: {model.ParameterCount:N0}");
Shape imageShape = [1, 3, 224, 224];
Console.WriteLine($"output shape for {imageShape}, without running: {model.OutputShape(imageShape)}");
var y = model.Forward(Tensor.RandomNormal(imageShape, seed: 1));
Console.WriteLine($"ran: {y.Shape}, first values {string.Join(", ", y.ToArray().Take(4).Select(v => v.ToString("0.0000")))}");
try { model.Check([1, 4, 224, 224]); }
catch (ShapeException e) { Console.WriteLine($"a wrong input is caught when composing: {e.Message}"); }
var variant = (MaxPool2d)model[2] with { CeilMode = true };
Console.WriteLine($"a variant with `with`: {variant}");
Console.WriteLine($"pools as tensor functions: x.MaxPool2d(3, 2) on {imageShape} gives {Tensor.Zeros(imageShape).MaxPool2d(3, 2).Shape}");
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
