using System.Numerics.Tensors;

namespace Functional.Kernels;

/// <summary>
/// A convolution's weight, [OutChannels, InChannels/Groups, kD, kH, kW], together with the
/// repacked forms kernels derive from it (output-channel panels, Winograd-transformed filters),
/// each made on first use and kept. Repacking a ResNet layer's 9 MB of weights on every call
/// costs as much as a third of the convolution; a layer holds one of these per weight instead.
/// The array must never change after it is wrapped. Safe to share between threads.
/// </summary>
public sealed class ConvWeights
{
    private readonly float[] weight;
    private Derived? panels, winograd;
    private float maxMagnitude = -1; // not yet computed: a magnitude is never negative

    /// <summary>Wraps <paramref name="weight"/> (not copied: it must never change).</summary>
    public ConvWeights(float[] weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        this.weight = weight;
    }

    /// <summary>The weight as given.</summary>
    public ReadOnlySpan<float> Weight => weight;

    /// <summary>The largest |w| (NaN when any weight is NaN), computed once: fast paths check their range with it.</summary>
    internal float MaxMagnitude
    {
        get
        {
            float m = Volatile.Read(ref maxMagnitude);
            if (m == -1) Volatile.Write(ref maxMagnitude, m = MaxMagnitudeOf(weight));
            return m;
        }
    }

    /// <summary>The largest |w| of <paramref name="values"/>, NaN when any is NaN, 0 when empty.</summary>
    internal static float MaxMagnitudeOf(ReadOnlySpan<float> values) => values.IsEmpty ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(values));

    /// <summary>A derived array together with the layout parameters it was made for.</summary>
    private sealed record Derived(float[] Data, long Key);

    /// <summary>
    /// The derived form for <paramref name="key"/> (the layout parameters packed into one number),
    /// made by <paramref name="make"/> from <paramref name="state"/> when absent or made for another
    /// key (state, not a closure, so a call that finds it allocates nothing). Concurrent first
    /// callers may both make it; either result is the same.
    /// </summary>
    private static float[] GetOrMake<TState>(ref Derived? slot, long key, TState state, Func<TState, float[]> make)
    {
        var d = Volatile.Read(ref slot);
        if (d is null || d.Key != key)
        {
            d = new Derived(make(state), key);
            Volatile.Write(ref slot, d);
        }
        return d.Data;
    }

    internal float[] Panels<TState>(long key, TState state, Func<TState, float[]> make) => GetOrMake(ref panels, key, state, make);

    internal float[] Winograd<TState>(long key, TState state, Func<TState, float[]> make) => GetOrMake(ref winograd, key, state, make);
}
