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

Console.WriteLine("== 2. A model exported from PyTorch by tools/export.py, loaded in one call ==");
string unetPath = Path.Combine(FindUp("samples/Tour"), "unet.safetensors");
var unet = Model.Load(unetPath);
Console.WriteLine(unet);
Console.WriteLine($"printout identical to PyTorch's: {unet.ToString() == Model.PyTorchPrintout(unetPath)}; parameters: {unet.ParameterCount:N0}");
using (var io = SafeTensors.Open(Path.Combine(FindUp("samples/Tour"), "unet.io.safetensors")))
{
    var segmentation = unet.Forward(io.ReadFloat("input"));
    Console.WriteLine($"ran on {io.ReadFloat("input").Shape} -> {segmentation.Shape}; max |diff| to PyTorch {segmentation.MaxAbsDiff(io.ReadFloat("output")):0.0e+0}");
}
Console.WriteLine();

Console.WriteLine("== 3. ResNet-18 written in the DSL, loading torchvision's state_dict names ==");
using (var resnetCase = SafeTensors.Open(Path.Combine(FindUp("tests/Parity/cases"), "models", "resnet18_torchvision.safetensors")))
{
    var resnet = Functional.Models.ResNet.ResNet18(Weights.FromTensors(GeneratedWeights.Create(resnetCase.Metadata["generated_weights"])));
    var image = resnetCase.ReadFloat("input");
    var logits = resnet.Forward(image);
    // The first calls repack weights and run before the JIT's optimised code: time the median of later ones.
    var times = new List<double>();
    for (int call = 0; call < 40; call++)
    {
        var clock = Stopwatch.StartNew();
        resnet.Forward(image).Dispose();
        if (call >= 30) times.Add(clock.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    Console.WriteLine($"{resnet.ParameterCount:N0} parameters; {image.Shape} -> {logits.Shape} in {times[times.Count / 2]:0.0} ms (median of 10 calls); " +
                      $"max |diff| to torchvision {logits.MaxAbsDiff(resnetCase.ReadFloat("output")):0.0e+0}");
    Console.WriteLine(string.Join("\n", resnet.ToString().Split('\n').Take(12)) + "\n  ...");
}
Console.WriteLine();

Console.WriteLine("== 3b. A .pth saved by torch.save, read without Python (a restricted unpickler that executes nothing) ==");
string checkpoints = FindUp("tests/Parity/checkpoints");
using (var pth = Weights.Load(Path.Combine(checkpoints, "resnet18_width4.pth")))   // torchvision's ResNet-18, every width / 16
using (var io = SafeTensors.Open(Path.Combine(checkpoints, "resnet18_width4.io.safetensors")))
{
    var narrow = Functional.Models.ResNet.ResNet18(pth, numClasses: 10, width: 4);
    var logits = narrow.Forward(io.ReadFloat("input"));
    Console.WriteLine($"{pth.Keys.Count} tensors from resnet18_width4.pth; {narrow.ParameterCount:N0} parameters; max |diff| to PyTorch {logits.MaxAbsDiff(io.ReadFloat("output")):0.0e+0}");
}
try { Weights.Load(Path.Combine(checkpoints, "hostile_posix_system.pth")); }
catch (PyTorchCheckpointException e) { Console.WriteLine($"a checkpoint that would run os.system in torch.load is refused: {e.Message[e.Message.IndexOf("refuses")..][..60]}..."); }
Console.WriteLine();

Console.WriteLine("== 4. Every PyTorch parity case: rebuilt from its description, PyTorch's weights loaded by state_dict name ==");
string casesFolder = FindUp("tests/Parity/cases");
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

static string FindUp(string relative)
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var c = Path.Combine(dir.FullName, relative);
        if (Directory.Exists(c)) return c;
    }
    throw new DirectoryNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
}
