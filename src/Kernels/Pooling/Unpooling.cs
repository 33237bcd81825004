namespace Functional.Kernels;

/// <summary>Max unpooling: scatters pooled values back to the positions their indices name.</summary>
public static class Unpooling
{
    /// <summary>
    /// MaxUnpool: <paramref name="destination"/> <c>[planes, output volume]</c> is zero-filled, then
    /// <c>destination[p, indices[p, i]] = source[p, i]</c> in serial order within each plane (later writes win).
    /// </summary>
    /// <param name="planes">Independent planes (batch × channels), at least 0.</param>
    /// <param name="input">Extents of <paramref name="source"/> (the pooled tensor), each at least 1.</param>
    /// <param name="output">Extents of <paramref name="destination"/>, each at least 1.</param>
    /// <param name="source">planes × input volume values.</param>
    /// <param name="indices">One flat index per source value, into its plane of the output.</param>
    /// <param name="destination">planes × output volume values, fully written.</param>
    /// <exception cref="ArgumentException">A size or span length is invalid, or an index lies outside
    /// <c>[0, output volume)</c> (PyTorch: "Found an invalid max index"); the destination's content is then unspecified.</exception>
    public static unsafe void MaxUnpool(int planes, Dim3 input, Dim3 output, ReadOnlySpan<float> source, ReadOnlySpan<long> indices, Span<float> destination)
    {
        if (planes < 0)
            throw new ArgumentOutOfRangeException(nameof(planes), planes, "MaxUnpool planes must be at least 0.");
        if (input.D < 1 || input.H < 1 || input.W < 1)
            throw new ArgumentException($"MaxUnpool input size {input}; expected every extent at least 1.", nameof(input));
        if (output.D < 1 || output.H < 1 || output.W < 1)
            throw new ArgumentException($"MaxUnpool output size {output}; expected every extent at least 1.", nameof(output));
        long expectedIn = PoolCore.Length(planes, input);
        if (source.Length != expectedIn)
            throw new ArgumentException(
                $"source has {source.Length} elements; expected {PoolCore.Describe(expectedIn)} ({planes} planes × {input}).", nameof(source));
        if (indices.Length != source.Length)
            throw new ArgumentException(
                $"indices has {indices.Length} elements; expected {source.Length} (one per source element).", nameof(indices));
        long expectedOut = PoolCore.Length(planes, output);
        if (destination.Length != expectedOut)
            throw new ArgumentException(
                $"destination has {destination.Length} elements; expected {PoolCore.Describe(expectedOut)} ({planes} planes × {output}).", nameof(destination));
        if (destination.IsEmpty) return;

        // Position (flat, in indices) of the first invalid index found; planes are independent so
        // the scatter runs in parallel, and the smallest bad position is reported deterministically.
        long firstBad = long.MaxValue;
        fixed (float* ps = source)
        fixed (long* pi = indices)
        fixed (float* pd = destination)
        {
            var job = new Job((int)input.Volume, (int)output.Volume, (nint)ps, (nint)pi, (nint)pd, (nint)(&firstBad));
            PoolCore.Run(planes, output.Volume + 2 * input.Volume, job);
        }
        if (firstBad != long.MaxValue)
            throw new ArgumentException(
                $"Found an invalid max index: {indices[(int)firstBad]} at position {firstBad} of indices " +
                $"(each plane of the output has {output.Volume} elements, output size {output}).", nameof(indices));
    }

    private readonly unsafe struct Job(int inVolume, int outVolume, nint source, nint indices, nint destination, nint firstBad) : IRangeJob
    {
        public void Run(int start, int end)
        {
            for (int p = start; p < end; p++)
            {
                float* src = (float*)source + (long)p * inVolume;
                long* idx = (long*)indices + (long)p * inVolume;
                float* dst = (float*)destination + (long)p * outVolume;
                new Span<float>(dst, outVolume).Clear();
                for (int i = 0; i < inVolume; i++)
                {
                    long k = idx[i];
                    if ((ulong)k >= (ulong)outVolume)
                    {
                        Report((long)p * inVolume + i);
                        break;
                    }
                    dst[k] = src[i];
                }
            }
        }

        private void Report(long position)
        {
            ref long slot = ref *(long*)firstBad;
            long seen = Volatile.Read(ref slot);
            while (position < seen)
            {
                long prior = Interlocked.CompareExchange(ref slot, position, seen);
                if (prior == seen) break;
                seen = prior;
            }
        }
    }
}
