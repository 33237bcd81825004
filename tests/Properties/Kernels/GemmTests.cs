using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Functional.Kernels;

namespace Functional.Properties.Kernels;

/// <summary>The packed SGEMM core against a naive triple loop, both micro-kernels.</summary>
public class GemmTests
{
    private static void Check(int m, int n, int k, int seed, bool fast)
    {
        var rng = new Random(seed);
        var a = ConvCases.Random(m * k, rng);
        var b = ConvCases.Random(k * n, rng);
        var c = new float[m * n];
        Array.Fill(c, float.NaN);
        Gemm.Multiply(m, n, k, a, b, c, fast);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, mag = 0;
                for (int t = 0; t < k; t++) { s += (double)a[i * k + t] * b[t * n + j]; mag += Math.Abs((double)a[i * k + t] * b[t * n + j]); }
                Assert.True(Math.Abs(c[i * n + j] - s) <= 1e-6 + 1e-5 * mag, $"m={m} n={n} k={k} fast={fast}: C[{i},{j}] = {c[i * n + j]}, expected {s}");
            }
    }

    [Property(MaxTest = 100)]
    public Property Small_products_match_naive() =>
        Prop.ForAll(Gen.Choose(1, 30).ToArbitrary(), Gen.Choose(1, 60).ToArbitrary(), Gen.Choose(0, 40).ToArbitrary(), (m, n, k) =>
        {
            Check(m, n, k, m * 1000 + n * 10 + k, fast: true);
            Check(m, n, k, m * 1000 + n * 10 + k, fast: false);
        });

    [Theory]
    [InlineData(4, 24, 1)]
    [InlineData(130, 250, 300)]
    [InlineData(7, 481, 513)]
    [InlineData(129, 24, 256)]
    public void Blocking_edges_match_naive(int m, int n, int k)
    {
        Check(m, n, k, 7, fast: true);
        Check(m, n, k, 8, fast: false);
    }
}
