// Classifies an image with a model exported from PyTorch, preprocessed as torchvision does:
//
//   dotnet run --project samples/Classify -- [model.safetensors] [image.ppm|image.bmp] [--labels file] [--expect file]
//
// Without arguments it runs the committed tiny classifier on sample.ppm. For a real model:
//   /usr/bin/python3 tools/export.py --torchvision resnet18 resnet18.safetensors   (with its trained weights)
using Functional;

var positional = args.Where((a, i) => !a.StartsWith("--") && (i == 0 || !args[i - 1].StartsWith("--"))).ToArray();
string Option(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
string Beside(string file) => Path.Combine(AppContext.BaseDirectory, file);
string modelPath = positional.Length > 0 ? positional[0] : Beside("tiny_classifier.safetensors");
string imagePath = positional.Length > 1 ? positional[1] : Beside("sample.ppm");
var labels = File.ReadAllLines(Option("--labels", Beside("imagenet_classes.txt")));

// torchvision's ImageNet preprocessing, then the model: one pipeline of layers.
var model = Model.Load(modelPath);
var classify = new Resize(256, antialias: true)
             >> new CenterCrop(224)
             >> new Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
             >> model;

var image = Pixels.Load(imagePath);                       // decoding stays outside the library
using var input = ToTensor.FromPixels(image.Data, image.Width, image.Height, image.Format, image.Stride).Unsqueeze(0);
Console.WriteLine(classify.Summary(input.Shape));
using var logits = classify.Forward(input);               // [1, 1000]
using var probabilities = logits.Softmax(1);
var (top, classes) = probabilities.TopK(5, 1);

Console.WriteLine($"{Path.GetFileName(imagePath)} ({image.Width}×{image.Height}), top-5:");
for (int i = 0; i < 5; i++)
    Console.WriteLine($"  {classes.Span[i],4}  {labels[classes.Span[i]],-28} {top.Span[i]:P3}");

// --expect: PyTorch's top-5 for the same image and model (make_sample.py), to the last digits.
if (Option("--expect", "") is { Length: > 0 } expectPath)
{
    var expected = File.ReadAllLines(expectPath).Where(l => !l.StartsWith('#') && l.Length > 0)
        .Select(l => l.Split(' ')).Select(p => (Index: long.Parse(p[0]), P: double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
    var mismatches = expected.Select((e, i) => (e, i))
        .Where(x => x.e.Index != classes.Span[x.i] || Math.Abs(x.e.P - top.Span[x.i]) > 1e-6 + 1e-4 * x.e.P)
        .Select(x => $"#{x.i + 1}: PyTorch {x.e.Index} ({x.e.P:G9}), here {classes.Span[x.i]} ({top.Span[x.i]:G9})").ToList();
    Console.WriteLine(mismatches.Count == 0 ? "matches PyTorch's top-5" : "differs from PyTorch's top-5:\n  " + string.Join("\n  ", mismatches));
    return mismatches.Count == 0 ? 0 : 1;
}
return 0;
