using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Functional.Kernels;

/// <summary>
/// Single-precision <c>exp</c> and <c>expm1</c> and the activations built on them, each in one pass
/// over a span: sigmoid, SiLU, tanh, the ELU family (ELU, SELU, CELU), Mish, softplus and log-sigmoid.
/// <para>
/// The core is one polynomial: after Cody–Waite reduction <c>x = n·ln 2 + r</c>, |r| ≤ ½ln 2, a
/// degree-7 minimax fit <c>expm1(r) ≈ r + r²(½ + c₃r + … + c₇r⁵)</c> (relative error 4e-10, well
/// below float rounding), then <c>exp(x) = 2ⁿ(1 + expm1(r))</c> and <c>expm1(x) = 2ⁿ·expm1(r) + (2ⁿ − 1)</c>,
/// each a single fused multiply-add, the power of two built from exponent bits. Sigmoid and SiLU have
/// their own cheaper form, <c>sigmoid(x) = 2ᵐ/(2ᵐ + e⁻ʳ)</c> with a degree-6 fit of <c>e⁻ʳ − 1</c>: one
/// reduction, one polynomial, one division, no select. Measured worst errors (dense sweeps against
/// double references, tests/Properties/Kernels/ActivationKernelTests.cs): exp 1.0 ulp, expm1 1.5,
/// sigmoid 2.45, SiLU 2.9 (every float of [−110, 25]), tanh 2.5, ELU/SELU/CELU 1.6, Mish 3.7, softplus
/// and log-sigmoid 1.6, and below 1e-7 absolute on [−½, ½] (expm1 and tanh keep full relative accuracy
/// down to subnormals). Results below the normal range are subnormal (SiLU and Mish there only to an
/// absolute 1e-40). Overflow gives ∞, underflow gradually reaches subnormals and 0, NaN stays NaN.
/// </para>
/// <para>
/// Every path — AVX-512 (sigmoid and SiLU, where Vector512 is accelerated), AVX2+FMA, and the scalar
/// fallback — performs the same IEEE operations (fused multiply-adds, one division where there is one)
/// in the same order, so results are identical whatever the hardware path. The span methods are
/// single-threaded (callers split work into blocks); a destination may be the source itself.
/// </para>
/// </summary>
public static class Exponential
{
    // expm1(r) ≈ r + r²·(½ + r·(C3 + r·(C4 + r·(C5 + r·(C6 + r·C7))))) on |r| ≤ ½ln 2 (relative-error minimax).
    private const float C3 = 0.16666666299310262f;
    private const float C4 = 0.041666482709787164f;
    private const float C5 = 0.008333419615209989f;
    private const float C6 = 0.0013933244589398688f;
    private const float C7 = 0.0001982412701911941f;

    private const float Log2E = 1.4426950216293335f;
    private const float Ln2Hi = 0.6931471824645996f;          // float(ln 2)
    private const float Ln2Lo = -1.9046542121259336e-09f;    // ln 2 − Ln2Hi
    // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits.
    private const float Shifter = 12582912f;
    private const int ShifterBits = 0x4B400000;

    // exp: below ExpMin the result rounds to 0, above ExpMax to ∞ (n stays within [-151, 128]).
    private const float ExpMin = -104f;
    private const float ExpMax = 89f;
    // expm1: below Expm1Min it is −1 in float.
    private const float Expm1Min = -24f;

    // Cephes logf: log(1 + f) ≈ f − f²/2 + f³·P(f) for f in [√½ − 1, √2 − 1].
    private const float L8 = 7.0376836292e-2f;
    private const float L7 = -1.1514610310e-1f;
    private const float L6 = 1.1676998740e-1f;
    private const float L5 = -1.2420140846e-1f;
    private const float L4 = 1.4249322787e-1f;
    private const float L3 = -1.6668057665e-1f;
    private const float L2 = 2.0000714765e-1f;
    private const float L1 = -2.4999993993e-1f;
    private const float L0 = 3.3333331174e-1f;
    private const float Sqrt2 = 1.41421356f;

    private static bool UseAvx => Avx2.IsSupported && Fma.IsSupported;

    // ---- span API ----

    /// <summary><c>destination[i] = exp(x[i])</c>.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Exp(ReadOnlySpan<float> x, Span<float> destination) => Apply(new ExpOp(), x, destination);

    /// <summary><c>destination[i] = exp(x[i]) − 1</c>, accurate near 0.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Expm1(ReadOnlySpan<float> x, Span<float> destination) => Apply(new Expm1Op(), x, destination);

    /// <summary>
    /// <c>destination[i] = 1 / (1 + exp(−x[i]))</c>, as <c>2ᵐ / (2ᵐ + e⁻ʳ)</c> with <c>x = m·ln 2 + r</c>
    /// (<c>x</c> clamped to [−130, 20], where sigmoid is already 0 or 1 in float), so nothing overflows
    /// and results down to the smallest subnormal keep their value.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> destination) => Sigmoid(x, destination, silu: false, MaxVectorBits);

    /// <summary><c>destination[i] = x[i] · sigmoid(x[i])</c> (SiLU, swish), the product of <c>x</c> and <see cref="Sigmoid(float)"/>.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Silu(ReadOnlySpan<float> x, Span<float> destination) => Sigmoid(x, destination, silu: true, MaxVectorBits);

    /// <summary><c>destination[i] = tanh(x[i])</c>, as <c>sign(x)·(−u)/(2 + u)</c> with <c>u = expm1(−2|x|)</c>.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> destination) => Apply(new TanhOp(), x, destination);

    /// <summary>
    /// PyTorch's ELU kernel: <c>x·positiveScale</c> where <c>x &gt; 0</c>, else <c>negativeScale·expm1(x·inputScale)</c>
    /// (ELU: 1, α, 1; SELU: 1, λα, λ; CELU: 1/α, α, 1).
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Elu(ReadOnlySpan<float> x, Span<float> destination, float inputScale, float negativeScale, float positiveScale) =>
        Apply(new EluOp(inputScale, negativeScale, positiveScale), x, destination);

    /// <summary>
    /// <c>destination[i] = x · tanh(softplus(x))</c> (Mish), as <c>x·m/(m + 2)</c> with <c>w = exp(min(x, 20))</c>,
    /// <c>m = w(w + 2)</c>: the identity <c>tanh(log(1 + w)) = m/(m + 2)</c> has no cancellation.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Mish(ReadOnlySpan<float> x, Span<float> destination) => Apply(new MishOp(), x, destination);

    /// <summary>
    /// PyTorch's softplus: <c>x</c> where <c>β·x &gt; threshold</c>, else <c>log(1 + exp(β·x)) / β</c>, the
    /// logarithm taken in the stable form <c>max(z, 0) + log1p(exp(−|z|))</c>, <c>z = β·x</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void Softplus(ReadOnlySpan<float> x, Span<float> destination, float beta, float threshold) =>
        Apply(new SoftplusOp(beta, threshold), x, destination);

    /// <summary><c>destination[i] = log(sigmoid(x)) = min(x, 0) − log1p(exp(−|x|))</c>.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void LogSigmoid(ReadOnlySpan<float> x, Span<float> destination) => Apply(new LogSigmoidOp(), x, destination);

    // ---- scalar API (the same values as the span methods) ----

    /// <summary>exp of one value, the same result as <see cref="Exp(ReadOnlySpan{float}, Span{float})"/> gives for it.</summary>
    public static float Exp(float x) => ExpS(x);

    /// <summary>expm1 of one value, the same result as the span method gives for it.</summary>
    public static float Expm1(float x) => Expm1S(x);

    /// <summary>Sigmoid of one value, the same result as the span method gives for it.</summary>
    public static float Sigmoid(float x) => SigmoidS(x);

    /// <summary>SiLU of one value, the same result as the span method gives for it.</summary>
    public static float Silu(float x) => x * SigmoidS(x);

    /// <summary>tanh of one value, the same result as the span method gives for it.</summary>
    public static float Tanh(float x) => new TanhOp().Scalar(x);

    /// <summary>The ELU kernel on one value, the same result as the span method gives for it.</summary>
    public static float Elu(float x, float inputScale, float negativeScale, float positiveScale) =>
        new EluOp(inputScale, negativeScale, positiveScale).Scalar(x);

    /// <summary>Mish of one value, the same result as the span method gives for it.</summary>
    public static float Mish(float x) => new MishOp().Scalar(x);

    /// <summary>Softplus of one value, the same result as the span method gives for it.</summary>
    public static float Softplus(float x, float beta, float threshold) => new SoftplusOp(beta, threshold).Scalar(x);

    /// <summary>Log-sigmoid of one value, the same result as the span method gives for it.</summary>
    public static float LogSigmoid(float x) => new LogSigmoidOp().Scalar(x);

    // ---- driver ----

    private interface IOp
    {
        Vector256<float> Vector(Vector256<float> x);
        float Scalar(float x);
    }

    private static unsafe void Apply<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> destination) where TOp : struct, IOp
    {
        if (destination.Length != x.Length)
            throw new ArgumentException(
                $"destination has {destination.Length} elements; expected {x.Length} (the length of x).", nameof(destination));
        int n = x.Length, i = 0;
        fixed (float* px = x)
        fixed (float* pd = destination)
        {
            if (UseAvx)
            {
                for (; i + 16 <= n; i += 16)
                {
                    var a = op.Vector(Avx.LoadVector256(px + i));
                    var b = op.Vector(Avx.LoadVector256(px + i + 8));
                    Avx.Store(pd + i, a);
                    Avx.Store(pd + i + 8, b);
                }
                for (; i + 8 <= n; i += 8)
                    Avx.Store(pd + i, op.Vector(Avx.LoadVector256(px + i)));
            }
            for (; i < n; i++) pd[i] = op.Scalar(px[i]);
        }
    }

    // ---- the exp core ----

    // Estrin's scheme (three FMA levels instead of six in Horner's): the chain from r to the result is
    // what limits throughput, many independent vectors being in flight.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float PolyS(float r)
    {
        float r2 = r * r;
        float a = MathF.FusedMultiplyAdd(C3, r, 0.5f);
        float b = MathF.FusedMultiplyAdd(C5, r, C4);
        float c = MathF.FusedMultiplyAdd(C7, r, C6);
        float t = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(c, r2, b), r2, a);
        return MathF.FusedMultiplyAdd(r2, t, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PolyV(Vector256<float> r)
    {
        var r2 = Avx.Multiply(r, r);
        var a = Fma.MultiplyAdd(Vector256.Create(C3), r, Vector256.Create(0.5f));
        var b = Fma.MultiplyAdd(Vector256.Create(C5), r, Vector256.Create(C4));
        var c = Fma.MultiplyAdd(Vector256.Create(C7), r, Vector256.Create(C6));
        var t = Fma.MultiplyAdd(Fma.MultiplyAdd(c, r2, b), r2, a);
        return Fma.MultiplyAdd(r2, t, r);
    }

    /// <summary>Reduction: returns r and n (as int bits) with x = n·ln 2 + r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ReduceS(float x, out int n)
    {
        float k = MathF.FusedMultiplyAdd(x, Log2E, Shifter);
        n = BitConverter.SingleToInt32Bits(k) - ShifterBits;
        float nf = k - Shifter;
        float r = MathF.FusedMultiplyAdd(nf, -Ln2Hi, x);
        return MathF.FusedMultiplyAdd(nf, -Ln2Lo, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ReduceV(Vector256<float> x, out Vector256<int> n)
    {
        var k = Fma.MultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(Shifter));
        n = Avx2.Subtract(k.AsInt32(), Vector256.Create(ShifterBits));
        var nf = Avx.Subtract(k, Vector256.Create(Shifter));
        var r = Fma.MultiplyAddNegated(nf, Vector256.Create(Ln2Hi), x);
        return Fma.MultiplyAddNegated(nf, Vector256.Create(Ln2Lo), r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Pow2S(int n) => BitConverter.Int32BitsToSingle((n + 127) << 23);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Pow2V(Vector256<int> n) =>
        Avx2.ShiftLeftLogical(Avx2.Add(n, Vector256.Create(127)), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpS(float x)
    {
        // Clamp, letting NaN through (as the vector min/max operand order does).
        float c = float.IsNaN(x) ? x : x > ExpMax ? ExpMax : x < ExpMin ? ExpMin : x;
        float r = ReduceS(c, out int n);
        float q = PolyS(r);
        // 2ⁿ as two normal factors, so that subnormal results round once and overflow gives ∞.
        int n1 = n >> 1;
        float s1 = Pow2S(n1);
        return MathF.FusedMultiplyAdd(q, s1, s1) * Pow2S(n - n1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpV(Vector256<float> x)
    {
        // minps/maxps return their second operand when either is NaN: with the constants first NaN propagates.
        var c = Avx.Max(Vector256.Create(ExpMin), Avx.Min(Vector256.Create(ExpMax), x));
        var r = ReduceV(c, out var n);
        var q = PolyV(r);
        var n1 = Avx2.ShiftRightArithmetic(n, 1);
        var s1 = Pow2V(n1);
        return Avx.Multiply(Fma.MultiplyAdd(q, s1, s1), Pow2V(Avx2.Subtract(n, n1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Expm1S(float x)
    {
        float c = float.IsNaN(x) ? x : x > ExpMax ? ExpMax : x < Expm1Min ? Expm1Min : x;
        float r = ReduceS(c, out int n);
        float q = PolyS(r);
        // expm1 = 2ⁿq + (2ⁿ − 1). For n > 0 it is evaluated as 2·(2ⁿ⁻¹q + (2ⁿ⁻¹ − ½)), identical
        // in value, so that n = 128 (just above the float range) still yields ∞ rather than bad bits.
        int h = n > 0 ? 1 : 0;
        float s = Pow2S(n - h);
        return MathF.FusedMultiplyAdd(q, s, s - Pow2S(-h)) * Pow2S(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Expm1V(Vector256<float> x)
    {
        var c = Avx.Max(Vector256.Create(Expm1Min), Avx.Min(Vector256.Create(ExpMax), x));
        var r = ReduceV(c, out var n);
        var q = PolyV(r);
        var h = Avx2.Subtract(Vector256<int>.Zero, Avx2.CompareGreaterThan(n, Vector256<int>.Zero)); // 1 where n > 0
        var s = Pow2V(Avx2.Subtract(n, h));
        var m = Fma.MultiplyAdd(q, s, Avx.Subtract(s, Pow2V(Avx2.Subtract(Vector256<int>.Zero, h))));
        return Avx.Multiply(m, Pow2V(h));
    }

    // exp for x ≤ 40 (n ≤ 58), cheaper than ExpS: one scale 2ⁿ⁺⁶⁴ (normal for every n ≥ −151), then an
    // exact ·2⁻⁶⁴ that rounds once into the subnormals. Identical values to ExpS on its domain.
    private const float TwoToMinus64 = 5.421010862427522e-20f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpLowS(float x)
    {
        float c = float.IsNaN(x) ? x : x < ExpMin ? ExpMin : x;
        float r = ReduceS(c, out int n);
        float q = PolyS(r);
        float s = Pow2S(n + 64);
        return MathF.FusedMultiplyAdd(q, s, s) * TwoToMinus64;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpLowV(Vector256<float> x)
    {
        var c = Avx.Max(Vector256.Create(ExpMin), x);
        var r = ReduceV(c, out var n);
        var q = PolyV(r);
        var s = Avx2.ShiftLeftLogical(Avx2.Add(n, Vector256.Create(127 + 64)), 23).AsSingle();
        return Avx.Multiply(Fma.MultiplyAdd(q, s, s), Vector256.Create(TwoToMinus64));
    }

    // expm1 of min(x, 0): 2ⁿq + (2ⁿ − 1) with n in [−35, 0]. Identical values to Expm1S for x ≤ 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Expm1NonPositiveS(float x)
    {
        float c = float.IsNaN(x) ? x : x > 0f ? 0f : x < Expm1Min ? Expm1Min : x;
        float r = ReduceS(c, out int n);
        float q = PolyS(r);
        float s = Pow2S(n);
        return MathF.FusedMultiplyAdd(q, s, s - 1f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Expm1NonPositiveV(Vector256<float> x)
    {
        var c = Avx.Max(Vector256.Create(Expm1Min), Avx.Min(Vector256<float>.Zero, x));
        var r = ReduceV(c, out var n);
        var q = PolyV(r);
        var s = Pow2V(n);
        return Fma.MultiplyAdd(q, s, Avx.Subtract(s, Vector256.Create(1f)));
    }

    /// <summary>log1p(y) for y in [0, 1]: log(u) + (y − (u − 1))/u with u = fl(1 + y), log(u) by Cephes' logf polynomial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Log1pUnitS(float y)
    {
        float u = 1f + y;
        float correction = (y - (u - 1f)) / u;
        bool big = u > Sqrt2;
        float f = (big ? u * 0.5f : u) - 1f;
        float k = big ? 1f : 0f;
        float p = MathF.FusedMultiplyAdd(L8, f, L7);
        p = MathF.FusedMultiplyAdd(p, f, L6);
        p = MathF.FusedMultiplyAdd(p, f, L5);
        p = MathF.FusedMultiplyAdd(p, f, L4);
        p = MathF.FusedMultiplyAdd(p, f, L3);
        p = MathF.FusedMultiplyAdd(p, f, L2);
        p = MathF.FusedMultiplyAdd(p, f, L1);
        p = MathF.FusedMultiplyAdd(p, f, L0);
        float f2 = f * f;
        // f − f²/2 + f³P(f) + k·ln 2 + correction, small terms first.
        float t = MathF.FusedMultiplyAdd(f2 * f, p, MathF.FusedMultiplyAdd(k, Ln2Lo, correction));
        t = MathF.FusedMultiplyAdd(f2, -0.5f, t);
        return MathF.FusedMultiplyAdd(k, Ln2Hi, f + t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Log1pUnitV(Vector256<float> y)
    {
        var one = Vector256.Create(1f);
        var u = Avx.Add(one, y);
        var correction = Avx.Divide(Avx.Subtract(y, Avx.Subtract(u, one)), u);
        var big = Avx.CompareGreaterThan(u, Vector256.Create(Sqrt2));
        var f = Avx.Subtract(Avx.BlendVariable(u, Avx.Multiply(u, Vector256.Create(0.5f)), big), one);
        var k = Avx.And(big, one);
        var p = Fma.MultiplyAdd(Vector256.Create(L8), f, Vector256.Create(L7));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(L6));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(L5));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(L4));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(L3));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(L2));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(L1));
        p = Fma.MultiplyAdd(p, f, Vector256.Create(L0));
        var f2 = Avx.Multiply(f, f);
        var t = Fma.MultiplyAdd(Avx.Multiply(f2, f), p, Fma.MultiplyAdd(k, Vector256.Create(Ln2Lo), correction));
        t = Fma.MultiplyAdd(f2, Vector256.Create(-0.5f), t);
        return Fma.MultiplyAdd(k, Vector256.Create(Ln2Hi), Avx.Add(f, t));
    }

    private static Vector256<float> SignMask => Vector256.Create(-0f);

    // ---- sigmoid and SiLU ----
    //
    // sigmoid(x) = 1/(1 + e⁻ˣ) = 2ᵐ/(2ᵐ + e⁻ʳ) with x = m·ln 2 + r: one reduction, one polynomial, one
    // division and no select (the stable e/(1 + e) form needs exp(−|x|), a blend and exp's two-step
    // scaling). x is clamped to [SigmoidLow, SigmoidHigh], so m is in [−188, 29]. Numerator and
    // denominator are both scaled by 2⁶⁴: 2ᵐ⁺⁶⁴ is a normal float built from exponent bits, the quotient
    // is the same real number, and its one rounding is correct even for subnormal results.
    // The denominator is one fused multiply-add, r·t(r) + (2ᵐ + 1)·2⁶⁴ (t's coefficients carry the 2⁶⁴),
    // with 2ᵐ + 1 exact for |m| ≤ 23: e⁻ʳ is never rounded on its own.

    // e⁻ʳ − 1 ≈ r·(−1 + r·(S2 + r·(S3 + r·(S4 + r·(S5 + r·S6))))) on |r| ≤ ½ln 2: the minimax fit of
    // expm1 with its first coefficient fixed at 1 (absolute error 4.6e-9 with these float coefficients).
    private const float S2 = 0.5f;
    private const float S3 = -0.16666518f;
    private const float S4 = 0.041666206f;
    private const float S5 = -0.00836889f;
    private const float S6 = 0.0013950492f;
    private const float TwoTo64 = 18446744073709551616f;
    // sigmoid is 1 in float above 17.4 and 0 below −104.
    private const float SigmoidLow = -130f;
    private const float SigmoidHigh = 20f;
    // Added to the bits of k = m + Shifter (ReduceS), then shifted into the exponent field: 2ᵐ⁺⁶⁴.
    private const int Pow2Bias = 127 + 64 - ShifterBits;

    // Vector512 only where the runtime treats it as accelerated (on some AVX-512 parts it does not, to avoid down-clocking).
    private static bool UseAvx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>The widest vector path the span methods take on this machine: 512, 256 or 0 (scalar).</summary>
    internal static int MaxVectorBits => UseAvx512 ? 512 : UseAvx ? 256 : 0;

    /// <summary>
    /// Sigmoid (or SiLU) through vector paths no wider than <paramref name="maxVectorBits"/> (512, 256, 0),
    /// so that tests can run each path on one machine; every path gives the same bits.
    /// </summary>
    // Not inlined into the public wrappers: inlined there, it left too little inlining budget for the loops.
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static unsafe void Sigmoid(ReadOnlySpan<float> x, Span<float> destination, bool silu, int maxVectorBits)
    {
        if (destination.Length != x.Length)
            throw new ArgumentException(
                $"destination has {destination.Length} elements; expected {x.Length} (the length of x).", nameof(destination));
        int n = x.Length, i = 0;
        fixed (float* px = x)
        fixed (float* pd = destination)
        {
            if (maxVectorBits >= 512 && UseAvx512) i = SigmoidLoop<Vector512<float>, Ops512>(px, pd, n, silu);
            if (maxVectorBits >= 256 && UseAvx) i += SigmoidLoop<Vector256<float>, Ops256>(px + i, pd + i, n - i, silu);
            for (; i < n; i++)
            {
                float v = px[i];
                pd[i] = silu ? v * SigmoidS(v) : SigmoidS(v);
            }
        }
    }

    /// <summary>Sigmoid or SiLU over the whole vectors of <c>px[0..n)</c>; returns how many elements it wrote.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe int SigmoidLoop<TV, TOps>(float* px, float* pd, int n, bool silu)
        where TV : struct
        where TOps : struct, IVectorOps<TV>
    {
        // The constants live in registers (the JIT would otherwise reload them every iteration), and four
        // vectors advance step by step: the JIT emits in source order, and interleaving the four long
        // dependency chains (reduction, Horner, division) lets the core overlap them (1.07× faster with
        // Vector512, 1.3× with Vector256 than one vector after another).
        var low = TOps.Create(SigmoidLow);
        var high = TOps.Create(SigmoidHigh);
        var log2e = TOps.Create(Log2E);
        var shifter = TOps.Create(Shifter);
        var ln2Hi = TOps.Create(Ln2Hi);
        var ln2Lo = TOps.Create(Ln2Lo);
        var s6 = TOps.Create(S6 * TwoTo64);
        var s5 = TOps.Create(S5 * TwoTo64);
        var s4 = TOps.Create(S4 * TwoTo64);
        var s3 = TOps.Create(S3 * TwoTo64);
        var s2 = TOps.Create(S2 * TwoTo64);
        var s1 = TOps.Create(-TwoTo64);
        var scale = TOps.Create(TwoTo64);
        int w = TOps.Count, i = 0;
        for (; i + 4 * w <= n; i += 4 * w)
        {
            var x0 = TOps.Load(px + i);
            var x1 = TOps.Load(px + i + w);
            var x2 = TOps.Load(px + i + 2 * w);
            var x3 = TOps.Load(px + i + 3 * w);
            // Clamp; a NaN passes (minps/maxps return the second operand) and makes every later step NaN.
            var c0 = TOps.Max(low, TOps.Min(high, x0));
            var c1 = TOps.Max(low, TOps.Min(high, x1));
            var c2 = TOps.Max(low, TOps.Min(high, x2));
            var c3 = TOps.Max(low, TOps.Min(high, x3));
            var k0 = TOps.MultiplyAdd(c0, log2e, shifter);
            var k1 = TOps.MultiplyAdd(c1, log2e, shifter);
            var k2 = TOps.MultiplyAdd(c2, log2e, shifter);
            var k3 = TOps.MultiplyAdd(c3, log2e, shifter);
            var m0 = TOps.Subtract(k0, shifter);
            var m1 = TOps.Subtract(k1, shifter);
            var m2 = TOps.Subtract(k2, shifter);
            var m3 = TOps.Subtract(k3, shifter);
            // m = round(c·log₂e), r = c − m·ln 2 (as ReduceS).
            var r0 = TOps.MultiplyAddNegated(m0, ln2Lo, TOps.MultiplyAddNegated(m0, ln2Hi, c0));
            var r1 = TOps.MultiplyAddNegated(m1, ln2Lo, TOps.MultiplyAddNegated(m1, ln2Hi, c1));
            var r2 = TOps.MultiplyAddNegated(m2, ln2Lo, TOps.MultiplyAddNegated(m2, ln2Hi, c2));
            var r3 = TOps.MultiplyAddNegated(m3, ln2Lo, TOps.MultiplyAddNegated(m3, ln2Hi, c3));
            var t0 = TOps.MultiplyAdd(s6, r0, s5);
            var t1 = TOps.MultiplyAdd(s6, r1, s5);
            var t2 = TOps.MultiplyAdd(s6, r2, s5);
            var t3 = TOps.MultiplyAdd(s6, r3, s5);
            t0 = TOps.MultiplyAdd(t0, r0, s4);
            t1 = TOps.MultiplyAdd(t1, r1, s4);
            t2 = TOps.MultiplyAdd(t2, r2, s4);
            t3 = TOps.MultiplyAdd(t3, r3, s4);
            t0 = TOps.MultiplyAdd(t0, r0, s3);
            t1 = TOps.MultiplyAdd(t1, r1, s3);
            t2 = TOps.MultiplyAdd(t2, r2, s3);
            t3 = TOps.MultiplyAdd(t3, r3, s3);
            t0 = TOps.MultiplyAdd(t0, r0, s2);
            t1 = TOps.MultiplyAdd(t1, r1, s2);
            t2 = TOps.MultiplyAdd(t2, r2, s2);
            t3 = TOps.MultiplyAdd(t3, r3, s2);
            t0 = TOps.MultiplyAdd(t0, r0, s1);
            t1 = TOps.MultiplyAdd(t1, r1, s1);
            t2 = TOps.MultiplyAdd(t2, r2, s1);
            t3 = TOps.MultiplyAdd(t3, r3, s1);
            // y = 2ᵐ⁺⁶⁴ / (r·t + 2ᵐ⁺⁶⁴ + 2⁶⁴)
            var p0 = TOps.Pow2Plus64(k0);
            var p1 = TOps.Pow2Plus64(k1);
            var p2 = TOps.Pow2Plus64(k2);
            var p3 = TOps.Pow2Plus64(k3);
            var y0 = TOps.Divide(p0, TOps.MultiplyAdd(t0, r0, TOps.Add(p0, scale)));
            var y1 = TOps.Divide(p1, TOps.MultiplyAdd(t1, r1, TOps.Add(p1, scale)));
            var y2 = TOps.Divide(p2, TOps.MultiplyAdd(t2, r2, TOps.Add(p2, scale)));
            var y3 = TOps.Divide(p3, TOps.MultiplyAdd(t3, r3, TOps.Add(p3, scale)));
            if (silu)
            {
                y0 = TOps.Multiply(x0, y0);
                y1 = TOps.Multiply(x1, y1);
                y2 = TOps.Multiply(x2, y2);
                y3 = TOps.Multiply(x3, y3);
            }
            TOps.Store(pd + i, y0);
            TOps.Store(pd + i + w, y1);
            TOps.Store(pd + i + 2 * w, y2);
            TOps.Store(pd + i + 3 * w, y3);
        }
        for (; i + w <= n; i += w)
        {
            var x0 = TOps.Load(px + i);
            var c0 = TOps.Max(low, TOps.Min(high, x0));
            var k0 = TOps.MultiplyAdd(c0, log2e, shifter);
            var m0 = TOps.Subtract(k0, shifter);
            var r0 = TOps.MultiplyAddNegated(m0, ln2Lo, TOps.MultiplyAddNegated(m0, ln2Hi, c0));
            var t0 = TOps.MultiplyAdd(s6, r0, s5);
            t0 = TOps.MultiplyAdd(t0, r0, s4);
            t0 = TOps.MultiplyAdd(t0, r0, s3);
            t0 = TOps.MultiplyAdd(t0, r0, s2);
            t0 = TOps.MultiplyAdd(t0, r0, s1);
            var p0 = TOps.Pow2Plus64(k0);
            var y0 = TOps.Divide(p0, TOps.MultiplyAdd(t0, r0, TOps.Add(p0, scale)));
            TOps.Store(pd + i, silu ? TOps.Multiply(x0, y0) : y0);
        }
        return i;
    }

    /// <summary>The same steps as <see cref="SigmoidLoop"/>, on one value (the scaled coefficients written out).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SigmoidS(float x)
    {
        float c = float.IsNaN(x) ? x : x > SigmoidHigh ? SigmoidHigh : x < SigmoidLow ? SigmoidLow : x;
        float k = MathF.FusedMultiplyAdd(c, Log2E, Shifter);
        float m = k - Shifter;
        float r = MathF.FusedMultiplyAdd(m, -Ln2Lo, MathF.FusedMultiplyAdd(m, -Ln2Hi, c));
        float t = MathF.FusedMultiplyAdd(S6 * TwoTo64, r, S5 * TwoTo64);
        t = MathF.FusedMultiplyAdd(t, r, S4 * TwoTo64);
        t = MathF.FusedMultiplyAdd(t, r, S3 * TwoTo64);
        t = MathF.FusedMultiplyAdd(t, r, S2 * TwoTo64);
        t = MathF.FusedMultiplyAdd(t, r, -TwoTo64);
        float p = BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(k) + Pow2Bias) << 23);
        return p / MathF.FusedMultiplyAdd(t, r, p + TwoTo64);
    }

    /// <summary>The operations of <see cref="SigmoidLoop"/> for one vector width (the JIT specialises the loop per struct).</summary>
    private unsafe interface IVectorOps<TV> where TV : struct
    {
        static abstract int Count { get; }
        static abstract TV Create(float value);
        static abstract TV Load(float* source);
        static abstract void Store(float* destination, TV value);
        /// <summary>minps: the second operand where either is NaN (so a NaN <c>x</c> passes a clamp written <c>Min(bound, x)</c>).</summary>
        static abstract TV Min(TV a, TV b);
        /// <summary>maxps: the second operand where either is NaN.</summary>
        static abstract TV Max(TV a, TV b);
        static abstract TV Add(TV a, TV b);
        static abstract TV Subtract(TV a, TV b);
        static abstract TV Multiply(TV a, TV b);
        static abstract TV Divide(TV a, TV b);
        /// <summary><c>a·b + c</c>, rounded once.</summary>
        static abstract TV MultiplyAdd(TV a, TV b, TV c);
        /// <summary><c>−(a·b) + c</c>, rounded once.</summary>
        static abstract TV MultiplyAddNegated(TV a, TV b, TV c);
        /// <summary>2ᵐ⁺⁶⁴ from <c>k = m + Shifter</c> (m in [−190, 63]), by integer arithmetic on the exponent bits.</summary>
        static abstract TV Pow2Plus64(TV k);
    }

    private readonly unsafe struct Ops512 : IVectorOps<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;
        public static Vector512<float> Create(float value) => Vector512.Create(value);
        public static Vector512<float> Load(float* source) => Avx512F.LoadVector512(source);
        public static void Store(float* destination, Vector512<float> value) => Avx512F.Store(destination, value);
        public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Avx512F.Min(a, b);
        public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Avx512F.Max(a, b);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => Avx512F.Add(a, b);
        public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => Avx512F.Subtract(a, b);
        public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => Avx512F.Multiply(a, b);
        public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => Avx512F.Divide(a, b);
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
        public static Vector512<float> MultiplyAddNegated(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
            Avx512F.FusedMultiplyAddNegated(a, b, c);
        public static Vector512<float> Pow2Plus64(Vector512<float> k) =>
            Avx512F.ShiftLeftLogical(Avx512F.Add(k.AsInt32(), Vector512.Create(Pow2Bias)), 23).AsSingle();
    }

    private readonly unsafe struct Ops256 : IVectorOps<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;
        public static Vector256<float> Create(float value) => Vector256.Create(value);
        public static Vector256<float> Load(float* source) => Avx.LoadVector256(source);
        public static void Store(float* destination, Vector256<float> value) => Avx.Store(destination, value);
        public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Avx.Min(a, b);
        public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Avx.Max(a, b);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => Avx.Add(a, b);
        public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => Avx.Subtract(a, b);
        public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => Avx.Multiply(a, b);
        public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => Avx.Divide(a, b);
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
        public static Vector256<float> MultiplyAddNegated(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
            Fma.MultiplyAddNegated(a, b, c);
        public static Vector256<float> Pow2Plus64(Vector256<float> k) =>
            Avx2.ShiftLeftLogical(Avx2.Add(k.AsInt32(), Vector256.Create(Pow2Bias)), 23).AsSingle();
    }

    // ---- operations ----

    private readonly struct ExpOp : IOp
    {
        public Vector256<float> Vector(Vector256<float> x) => ExpV(x);
        public float Scalar(float x) => ExpS(x);
    }

    private readonly struct Expm1Op : IOp
    {
        public Vector256<float> Vector(Vector256<float> x) => Expm1V(x);
        public float Scalar(float x) => Expm1S(x);
    }

    private readonly struct TanhOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Vector(Vector256<float> x)
        {
            var sign = Avx.And(x, SignMask);
            var a = Avx.AndNot(SignMask, x);
            var u = Expm1NonPositiveV(Avx.Multiply(a, Vector256.Create(-2f))); // in (−1, 0]
            var t = Avx.Divide(Avx.Subtract(Vector256<float>.Zero, u), Avx.Add(Vector256.Create(2f), u)); // 0 − u: +0 for u = 0
            return Avx.Or(t, sign);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float x)
        {
            float u = Expm1NonPositiveS(MathF.Abs(x) * -2f);
            float t = (0f - u) / (2f + u);
            return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(t) | (BitConverter.SingleToInt32Bits(x) & int.MinValue));
        }
    }

    // Where inputScale ≥ 0 the negative branch only ever sees arguments ≤ 0 (the positive lanes'
    // values are discarded), so the cheaper non-positive expm1 serves; it gives the same values there.
    private readonly struct EluOp(float inputScale, float negativeScale, float positiveScale) : IOp
    {
        private readonly bool general = !(inputScale >= 0);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Vector(Vector256<float> x)
        {
            var a = Avx.Multiply(x, Vector256.Create(inputScale));
            var negative = Avx.Multiply(Vector256.Create(negativeScale), general ? Expm1V(a) : Expm1NonPositiveV(a));
            var positive = Avx.Multiply(x, Vector256.Create(positiveScale));
            return Avx.BlendVariable(negative, positive, Avx.CompareGreaterThan(x, Vector256<float>.Zero));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float x) => x > 0 ? x * positiveScale : negativeScale * Expm1S(x * inputScale);
    }

    private readonly struct MishOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Vector(Vector256<float> x)
        {
            var w = ExpLowV(Avx.Min(Vector256.Create(20f), x));
            var m = Fma.MultiplyAdd(w, w, Avx.Add(w, w));
            return Avx.Multiply(x, Avx.Divide(m, Avx.Add(m, Vector256.Create(2f))));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float x)
        {
            float w = ExpLowS(float.IsNaN(x) ? x : x > 20f ? 20f : x);
            float m = MathF.FusedMultiplyAdd(w, w, w + w);
            return x * (m / (m + 2f));
        }
    }

    private readonly struct SoftplusOp(float beta, float threshold) : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Vector(Vector256<float> x)
        {
            var z = Avx.Multiply(x, Vector256.Create(beta));
            var l = Log1pUnitV(ExpLowV(Avx.Or(z, SignMask)));
            var s = Avx.Divide(Avx.Add(Avx.Max(z, Vector256<float>.Zero), l), Vector256.Create(beta));
            return Avx.BlendVariable(s, x, Avx.CompareGreaterThan(z, Vector256.Create(threshold)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float x)
        {
            float z = x * beta;
            if (z > threshold) return x;
            float l = Log1pUnitS(ExpLowS(-MathF.Abs(z)));
            // maxps(z, 0) returns 0 for a NaN z; the NaN then comes through l.
            return ((z > 0f ? z : 0f) + l) / beta;
        }
    }

    private readonly struct LogSigmoidOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Vector(Vector256<float> x)
        {
            var l = Log1pUnitV(ExpLowV(Avx.Or(x, SignMask)));
            return Avx.Subtract(Avx.Min(x, Vector256<float>.Zero), l);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Scalar(float x)
        {
            float l = Log1pUnitS(ExpLowS(-MathF.Abs(x)));
            return (x < 0f ? x : 0f) - l;
        }
    }
}
