namespace Functional;

/// <summary>
/// Recycled tensor storage. A layer's output is written into memory that was just written and
/// read (a freed intermediate of the same size, still in cache) instead of a fresh array the GC
/// must hand out cold: writing a fresh multi-MB array costs more than a ReLU over it. Arrays come
/// back only through <see cref="Tensor.Dispose"/> (containers dispose the intermediates they
/// alone hold); an array never returned is simply collected. Last in, first out, so the warmest
/// array of a size is reused first.
/// </summary>
internal static class TensorPool
{
    /// <summary>Below this many elements the GC's own allocation is as fast and stays in cache.</summary>
    internal const int MinPooledLength = 16 * 1024;

    /// <summary>Arrays kept per exact length: enough for a container's intermediates in flight.</summary>
    private const int MaxPerLength = 8;

    /// <summary>Bytes kept in all: beyond this a returned array is left to the GC.</summary>
    private const long MaxPooledBytes = 256L << 20;

    private static readonly Dictionary<int, Stack<float[]>> Free = [];
    private static long pooledBytes;

    /// <summary>An array of exactly <paramref name="length"/> elements with unspecified contents.</summary>
    internal static float[] Rent(int length)
    {
        if (length >= MinPooledLength)
            lock (Free)
                if (Free.TryGetValue(length, out var stack) && stack.TryPop(out var array))
                {
                    pooledBytes -= 4L * length;
                    return array;
                }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>An array for a tensor of <paramref name="shape"/>, contents unspecified.</summary>
    internal static float[] Rent(Shape shape) => Rent(checked((int)shape.ElementCount));

    /// <summary>Takes back an array nobody references any more.</summary>
    internal static void Return(float[] array)
    {
        if (array.Length < MinPooledLength) return;
        lock (Free)
        {
            if (pooledBytes + 4L * array.Length > MaxPooledBytes) return;
            if (!Free.TryGetValue(array.Length, out var stack)) Free[array.Length] = stack = new Stack<float[]>();
            if (stack.Count >= MaxPerLength) return;
            stack.Push(array);
            pooledBytes += 4L * array.Length;
        }
    }
}
