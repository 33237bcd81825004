using System.Text.Json;

namespace Functional;

public static partial class ModuleDescription
{
    /// <summary>Linear, reshaping, dropouts, the softmax family, the remaining activations and Embedding.</summary>
    private static IEnumerable<(string Type, Builder Build)> BasicBuilders() =>
    [
        ("Linear", (a, w) => Linear.Load(w, a.Int("in_features"), a.Int("out_features"), a.Bool("bias", true))),
        ("Flatten", (a, _) => new Flatten(a.Int("start_dim", 1), a.Int("end_dim", -1))),
        ("Unflatten", (a, _) =>
        {
            if (a.Raw("dim") is { ValueKind: JsonValueKind.String } named)
                throw a.Unsupported("dim", $"'{named.GetString()}' (named dimensions are not supported; expected an integer)");
            return new Unflatten(a.Int("dim"), UnflattenedSize(a));
        }),
        ("Identity", (a, _) => new Identity()),
        ("Dropout", (a, _) => new Dropout(NumberOr(a, "p", 0.5), a.Bool("inplace", false))),
        ("Dropout1d", (a, _) => new Dropout1d(NumberOr(a, "p", 0.5), a.Bool("inplace", false))),
        ("Dropout2d", (a, _) => new Dropout2d(NumberOr(a, "p", 0.5), a.Bool("inplace", false))),
        ("Dropout3d", (a, _) => new Dropout3d(NumberOr(a, "p", 0.5), a.Bool("inplace", false))),
        ("AlphaDropout", (a, _) => new AlphaDropout(NumberOr(a, "p", 0.5), a.Bool("inplace", false))),
        ("FeatureAlphaDropout", (a, _) => new FeatureAlphaDropout(NumberOr(a, "p", 0.5), a.Bool("inplace", false))),
        ("Softmax", (a, _) => new Softmax(a.NullableInt("dim"))),
        ("LogSoftmax", (a, _) => new LogSoftmax(a.NullableInt("dim"))),
        ("Softmin", (a, _) => new Softmin(a.NullableInt("dim"))),
        ("Softmax2d", (a, _) => new Softmax2d()),
        ("Hardtanh", (a, _) =>
        {
            // min_value / max_value are PyTorch's deprecated spellings: when given they win, as in PyTorch.
            var min = NullableNumber(a, "min_value") ?? NumberOr(a, "min_val", -1.0);
            var max = NullableNumber(a, "max_value") ?? NumberOr(a, "max_val", 1.0);
            if (!(max.Value > min.Value)) throw a.Unsupported("max_val", $"{max} (must be greater than min_val={min})");
            return new Hardtanh(min, max) { Inplace = a.Bool("inplace", false) };
        }),
        ("Hardswish", (a, _) => new Hardswish { Inplace = a.Bool("inplace", false) }),
        ("Hardsigmoid", (a, _) => new Hardsigmoid { Inplace = a.Bool("inplace", false) }),
        ("Mish", (a, _) => new Mish { Inplace = a.Bool("inplace", false) }),
        ("Softplus", (a, _) => new Softplus(NumberOr(a, "beta", 1), NumberOr(a, "threshold", 20))),
        ("PReLU", (a, w) => PReLU.Load(w, a.Int("num_parameters", 1), a.Double("init", 0.25))),
        ("SELU", (a, _) => new SELU { Inplace = a.Bool("inplace", false) }),
        ("CELU", (a, _) =>
        {
            var alpha = NumberOr(a, "alpha", 1.0);
            if (alpha.Value == 0) throw a.Unsupported("alpha", "0 (PyTorch: ZeroDivisionError: alpha cannot be 0 for CELU)");
            return new CELU(alpha) { Inplace = a.Bool("inplace", false) };
        }),
        ("Softsign", (a, _) => new Softsign()),
        ("Softshrink", (a, _) =>
        {
            var lambd = NumberOr(a, "lambd", 0.5);
            if (!(lambd.Value >= 0)) throw a.Unsupported("lambd", $"{lambd} (lambda must be greater or equal to 0)");
            return new Softshrink(lambd);
        }),
        ("Hardshrink", (a, _) => new Hardshrink(NumberOr(a, "lambd", 0.5))),
        ("Tanhshrink", (a, _) => new Tanhshrink()),
        ("LogSigmoid", (a, _) => new LogSigmoid()),
        ("Threshold", (a, _) => new Threshold(a.Number("threshold"), a.Number("value")) { Inplace = a.Bool("inplace", false) }),
        ("GLU", (a, _) => new GLU(a.Int("dim", -1))),
        ("Embedding", (a, w) =>
        {
            if (a.Raw("max_norm") is { ValueKind: not JsonValueKind.Null } maxNorm)
                throw a.Unsupported("max_norm", $"{maxNorm} (only None: PyTorch renormalises the weight rows in place during forward, which a frozen layer cannot do)");
            int num = a.Int("num_embeddings"), dim = a.Int("embedding_dim");
            int? paddingIdx = a.NullableInt("padding_idx");
            if (paddingIdx is { } p && (p >= num || p < -num))
                throw a.Unsupported("padding_idx", $"{p} (must be within num_embeddings={num})");
            return Embedding.Load(w, num, dim, paddingIdx) with
            {
                NormType = NumberOr(a, "norm_type", 2.0),
                ScaleGradByFreq = a.Bool("scale_grad_by_freq", false),
                Sparse = a.Bool("sparse", false),
            };
        }),
    ];

    /// <summary>A number argument kept as an int or a float as written, with PyTorch's default when absent or null.</summary>
    private static PyNumber NumberOr(ModuleArgs a, string name, PyNumber fallback) =>
        a.Raw(name) is { ValueKind: not JsonValueKind.Null } ? a.Number(name) : fallback;

    /// <summary>A number argument, or null when absent or null.</summary>
    private static PyNumber? NullableNumber(ModuleArgs a, string name) =>
        a.Raw(name) is { ValueKind: not JsonValueKind.Null } ? a.Number(name) : null;

    /// <summary>Unflatten's sizes: a list of ints (one may be −1), kept as given.</summary>
    private static Dims UnflattenedSize(ModuleArgs a)
    {
        var v = a.Raw("unflattened_size");
        if (v is not { ValueKind: JsonValueKind.Array } array || array.GetArrayLength() == 0)
            throw a.Unsupported("unflattened_size", $"{(v is null ? "(missing)" : v.ToString())} (expected a non-empty list of integers)");
        var sizes = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var e in array.EnumerateArray())
            sizes[i++] = e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int s)
                ? s
                : throw a.Unsupported("unflattened_size", $"{array} (expected integers; named sizes are not supported)");
        return new Dims(sizes);
    }
}
