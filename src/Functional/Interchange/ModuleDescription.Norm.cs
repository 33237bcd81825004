using System.Text.Json;

namespace Functional;

public static partial class ModuleDescription
{
    /// <summary>Normalisation, resampling, pixel shuffling and padding layers.</summary>
    private static IEnumerable<(string Type, Builder Build)> NormBuilders() =>
        new[] { 1, 2, 3 }.SelectMany(rank => new (string, Builder)[]
        {
            ($"BatchNorm{rank}d", (a, w) =>
            {
                var (eps, momentum, none) = EpsMomentum(a);
                return BatchNormNd.Load(rank, w, a.Int("num_features"), eps, momentum, a.Bool("affine", true), a.Bool("track_running_stats", true), none);
            }),
            ($"InstanceNorm{rank}d", (a, w) =>
            {
                var (eps, momentum, none) = EpsMomentum(a);
                return InstanceNormNd.Load(rank, w, a.Int("num_features"), eps, momentum, a.Bool("affine", false), a.Bool("track_running_stats", false), none);
            }),
            ($"ConstantPad{rank}d", (a, _) => ConstantPadNd.Members.Create(rank, (a.Ints("padding", 2 * rank), a.Number("value")))),
            ($"ZeroPad{rank}d", (a, _) => PadNd.Zero.Create(rank, a.Ints("padding", 2 * rank))),
            ($"ReflectionPad{rank}d", (a, _) => PadNd.Reflection.Create(rank, a.Ints("padding", 2 * rank))),
            ($"ReplicationPad{rank}d", (a, _) => PadNd.Replication.Create(rank, a.Ints("padding", 2 * rank))),
            ($"CircularPad{rank}d", (a, _) => PadNd.Circular.Create(rank, a.Ints("padding", 2 * rank))),
        }).Concat(new (string, Builder)[]
        {
            ("LayerNorm", (a, w) =>
            {
                var shape = a.Raw("normalized_shape") is { ValueKind: JsonValueKind.Array } arr
                    ? new Dims(a.Ints("normalized_shape", arr.GetArrayLength()))
                    : new Dims(a.Int("normalized_shape"));
                return LayerNorm.Load(w, shape, a.Has("eps") ? a.Number("eps") : null, a.Bool("elementwise_affine", true));
            }),
            ("GroupNorm", (a, w) => GroupNorm.Load(w, a.Int("num_groups"), a.Int("num_channels"), a.Has("eps") ? a.Number("eps") : null, a.Bool("affine", true))),
            ("Upsample", (a, _) => new Upsample(UpsampleSize(a), UpsampleScale(a), UpsampleModeOf(a), NullableBool(a, "align_corners"),
                NullableBool(a, "recompute_scale_factor")) { SizeIsTuple = SizeIsTuple(a) }),
            ("UpsamplingNearest2d", (a, _) => new UpsamplingNearest2d(UpsampleSize(a), UpsampleScale(a)) { SizeIsTuple = SizeIsTuple(a) }),
            ("UpsamplingBilinear2d", (a, _) => new UpsamplingBilinear2d(UpsampleSize(a), UpsampleScale(a)) { SizeIsTuple = SizeIsTuple(a) }),
            ("PixelShuffle", (a, _) => new PixelShuffle(a.Int("upscale_factor"))),
            ("PixelUnshuffle", (a, _) => new PixelUnshuffle(a.Int("downscale_factor"))),
        });

    /// <summary><c>eps</c> and <c>momentum</c> as written (int or float); <c>momentum: null</c> is PyTorch's None.</summary>
    private static (PyNumber? Eps, PyNumber? Momentum, bool MomentumIsNone) EpsMomentum(ModuleArgs a)
    {
        PyNumber? eps = a.Has("eps") ? a.Number("eps") : null;
        a.Ignore("eps");
        bool present = a.Raw("momentum") is not null;
        bool none = present && !a.Has("momentum");
        PyNumber? momentum = a.Has("momentum") ? a.Number("momentum") : null;
        return (eps, momentum, none);
    }

    private static bool? NullableBool(ModuleArgs a, string name)
    {
        a.Ignore(name);
        return a.Has(name) ? a.Bool(name, false) : null;
    }

    private static bool SizeIsTuple(ModuleArgs a) => a.Raw("size") is { ValueKind: JsonValueKind.Array };

    private static Dims? UpsampleSize(ModuleArgs a) => a.Raw("size") switch
    {
        null or { ValueKind: JsonValueKind.Null } => (Dims?)null,
        { ValueKind: JsonValueKind.Number } => new Dims(a.Int("size")),
        { ValueKind: JsonValueKind.Array } v => new Dims(a.Ints("size", v.GetArrayLength())),
        var v => throw a.Unsupported("size", $"{v} (expected an integer or a list of integers)"),
    };

    private static ScaleFactor? UpsampleScale(ModuleArgs a) => a.Raw("scale_factor") switch
    {
        null or { ValueKind: JsonValueKind.Null } => (ScaleFactor?)null,
        { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
        { ValueKind: JsonValueKind.Array } v when v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) =>
            new ScaleFactor(v.EnumerateArray().Select(e => e.GetDouble()).ToArray(), true),
        var v => throw a.Unsupported("scale_factor", $"{v} (expected a number or a list of numbers)"),
    };

    private static UpsampleMode UpsampleModeOf(ModuleArgs a) =>
        UpsampleModeNamed(a.String("mode", "nearest")) ?? throw a.Unsupported("mode", $"'{a.String("mode", "nearest")}' ({UpsampleModesExpected})");

    internal const string UpsampleModesExpected = "expected nearest, nearest-exact, linear, bilinear, bicubic, trilinear or area";

    /// <summary>PyTorch's interpolation mode by its name (also <c>F.interpolate</c>'s), or null.</summary>
    internal static UpsampleMode? UpsampleModeNamed(string mode) => mode switch
    {
        "nearest" => UpsampleMode.Nearest,
        "nearest-exact" => UpsampleMode.NearestExact,
        "linear" => UpsampleMode.Linear,
        "bilinear" => UpsampleMode.Bilinear,
        "bicubic" => UpsampleMode.Bicubic,
        "trilinear" => UpsampleMode.Trilinear,
        "area" => UpsampleMode.Area,
        _ => null,
    };
}
