namespace Functional;

/// <summary>Loads a model exported from PyTorch by <c>tools/export.py</c> in one call.</summary>
public static class Model
{
    /// <summary>The format tag <c>tools/export.py</c> writes.</summary>
    public const string Format = "functional-model/1";

    /// <summary>
    /// Rebuilds the module described in the file's metadata with the file's weights. With
    /// <paramref name="strict"/> (PyTorch's <c>strict=True</c>), a float tensor that no layer used
    /// is an error.
    /// </summary>
    public static Layer Load(string path, bool strict = true)
    {
        using var weights = Weights.Load(path);
        using var file = SafeTensors.Open(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != Format)
            throw new SafeTensorsException($"'{path}' is not a model exported by tools/export.py (metadata format '{format}', expected '{Format}')");
        if (!file.Metadata.TryGetValue("module", out var description))
            throw new SafeTensorsException($"'{path}' has no module description in its metadata");
        var layer = ModuleDescription.Build(description, weights);
        if (strict)
        {
            var unused = weights.UnusedKeys().Where(k => file.Describe(k).DType is not (DType.I64 or DType.I32)).ToList();
            if (unused.Count > 0)
                throw new ModuleDescriptionException($"'{path}': weights never used by the model (strict): {string.Join(", ", unused)}");
        }
        return layer;
    }

    /// <summary>PyTorch's printout stored in an exported file, to compare with the loaded layer's.</summary>
    public static string? PyTorchPrintout(string path)
    {
        using var file = SafeTensors.Open(path);
        return file.Metadata.TryGetValue("repr", out var r) ? r : null;
    }
}
