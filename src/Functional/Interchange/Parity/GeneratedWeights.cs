using System.Text.Json;

namespace Functional.Parity;

/// <summary>
/// Weights that a parity case does not store but names with a recipe, so large models
/// (ResNet-18's 46 MB) stay out of the repository: every element is
/// <c>low + (high − low)·u</c> in float32, with <c>u</c> the top 24 bits of SplitMix64 over
/// (FNV-1a of the key, seed, element index) scaled by 2⁻²⁴. <c>generate.py</c> computes the same
/// values with NumPy, bit for bit.
/// </summary>
public static class GeneratedWeights
{
    /// <summary>
    /// Builds the tensors of a recipe: JSON <c>{"seed": s, "tensors": [[key, [shape], low, high], ...]}</c>,
    /// keys prefixed with <paramref name="prefix"/>.
    /// </summary>
    public static Dictionary<string, Tensor> Create(string recipe, string prefix = "")
    {
        using var doc = JsonDocument.Parse(recipe);
        ulong seed = doc.RootElement.GetProperty("seed").GetUInt64();
        var result = new Dictionary<string, Tensor>();
        foreach (var entry in doc.RootElement.GetProperty("tensors").EnumerateArray())
        {
            string key = entry[0].GetString()!;
            var shape = new Shape(entry[1].EnumerateArray().Select(e => e.GetInt32()).ToArray());
            float low = entry[2].GetSingle(), high = entry[3].GetSingle();
            result[prefix + key] = Tensor.Own(Values(key, seed, (int)shape.ElementCount, low, high), shape);
        }
        return result;
    }

    /// <summary>The generated values of one tensor.</summary>
    public static float[] Values(string key, ulong seed, int count, float low, float high)
    {
        const ulong Golden = 0x9E3779B97F4A7C15;
        ulong h = 14695981039346656037;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(key)) h = (h ^ b) * 1099511628211;
        h ^= seed * Golden;
        float range = high - low;
        var v = GC.AllocateUninitializedArray<float>(count);
        for (int i = 0; i < count; i++)
        {
            ulong z = h + (ulong)(i + 1) * Golden;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z ^= z >> 31;
            float u = (z >> 40) * (1f / 16777216f);
            v[i] = low + range * u;
        }
        return v;
    }
}
