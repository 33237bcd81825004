using System.Text.Json;

namespace Functional;

public static partial class ModuleDescription
{
    /// <summary>
    /// torchvision's tensor transforms (Resize, CenterCrop, Normalize, and ToTensor of an H×W×C
    /// array), so an exported <c>nn.Sequential(transforms..., model)</c> loads as one pipeline.
    /// </summary>
    private static IEnumerable<(string Type, Builder Build)> PreprocessBuilders() =>
    [
        ("Resize", (a, _) =>
        {
            var size = a.Raw("size") is { ValueKind: JsonValueKind.Array } s && s.GetArrayLength() == 2 ? a.Sizes("size", 2) : a.Sizes("size", 1);
            string mode = a.String("interpolation", "bilinear");
            var interpolation = mode switch
            {
                "nearest" => InterpolationMode.Nearest,
                "bilinear" => InterpolationMode.Bilinear,
                "bicubic" => InterpolationMode.Bicubic,
                _ => throw a.Unsupported("interpolation", $"'{mode}' (tensors support nearest, bilinear, bicubic)"),
            };
            a.Ignore("antialias");
            bool? antialias = a.Has("antialias") ? a.Bool("antialias", false) : null;
            return new Resize(size, interpolation, a.NullableInt("max_size"), antialias);
        }),
        ("CenterCrop", (a, _) => new CenterCrop(a.Raw("size") is { ValueKind: JsonValueKind.Array } s && s.GetArrayLength() == 2 ? a.Sizes("size", 2) : a.Sizes("size", 1))),
        ("Normalize", (a, _) =>
        {
            // inplace only decides whether torchvision overwrites its input; the result is the same.
            a.Bool("inplace", false);
            double[] Values(string name) => a.Array(name).Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw a.Unsupported(name, $"{e} (expected numbers)")).ToArray();
            return new Normalize(Values("mean"), Values("std"));
        }),
        ("ToTensor", (_, _) => new ToTensor()),
    ];
}
