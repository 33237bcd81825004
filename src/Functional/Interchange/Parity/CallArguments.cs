using System.Text.Json;

namespace Functional.Parity;

/// <summary>
/// The forward-call arguments of a parity case beyond the input: <c>__metadata__.call</c>
/// (<c>{"output_size": [...]}</c>) and the <c>input.indices</c> tensor a max-unpool takes.
/// </summary>
internal sealed record CallArguments(int[]? OutputSize, IndexTensor? Indices)
{
    public static CallArguments Parse(string? json, SafeTensors file)
    {
        int[]? outputSize = null;
        if (json is not null)
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModuleDescriptionException($"call arguments must be a JSON object: {json}");
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name != "output_size" || p.Value.ValueKind != JsonValueKind.Array)
                    throw new ModuleDescriptionException($"unsupported call argument {p.Name}={p.Value}");
                outputSize = p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray();
            }
        }
        IndexTensor? indices = null;
        if (file.Contains("input.indices"))
        {
            var (values, shape) = file.ReadInt64("input.indices");
            indices = IndexTensor.FromSpan(values, shape);
        }
        return new(outputSize, indices);
    }

    public (Tensor Output, IndexTensor? Indices) Invoke(Layer layer, Tensor input, bool wantIndices)
    {
        if (Indices is not null)
            return layer is IUnpool unpool
                ? (unpool.Forward(input, Indices, OutputSize), null)
                : throw new ModuleDescriptionException($"{layer.TypeName} does not take an indices argument");
        if (OutputSize is not null)
            return layer is IAcceptsOutputSize sized
                ? (sized.Forward(input, OutputSize), null)
                : throw new ModuleDescriptionException($"{layer.TypeName} does not take an output_size argument");
        if (wantIndices)
            return layer is IReturnsIndices pool
                ? pool.ForwardWithIndices(input)
                : throw new ModuleDescriptionException($"{layer.TypeName} cannot return indices");
        return (layer.Forward(input), null);
    }
}
