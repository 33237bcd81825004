using System.Globalization;

namespace Functional;

/// <summary>Formats values the way Python's <c>repr</c> does, so printouts diff cleanly against PyTorch's.</summary>
public static class PyRepr
{
    /// <summary>A Python float: shortest round-trip digits, always with a decimal point or exponent (<c>1.0</c>, <c>0.01</c>, <c>1e-05</c>).</summary>
    public static string Float(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        double abs = Math.Abs(v);
        if (abs != 0 && (abs < 1e-4 || abs >= 1e16))
        {
            // Python: mantissa in shortest form, exponent with sign and at least two digits.
            string r = v.ToString("E16", CultureInfo.InvariantCulture);
            string shortest = v.ToString("R", CultureInfo.InvariantCulture);
            int e = shortest.IndexOfAny(['E', 'e']);
            string mantissa;
            int exponent;
            if (e >= 0) { mantissa = shortest[..e]; exponent = int.Parse(shortest[(e + 1)..], CultureInfo.InvariantCulture); }
            else
            {
                exponent = int.Parse(r[(r.IndexOf('E') + 1)..], CultureInfo.InvariantCulture);
                mantissa = (v / Math.Pow(10, exponent)).ToString("R", CultureInfo.InvariantCulture);
            }
            return $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }
        string s = v.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') ? s : s + ".0";
    }

    /// <summary>A Python bool: <c>True</c> / <c>False</c>.</summary>
    public static string Bool(bool v) => v ? "True" : "False";

    /// <summary>A Python string literal in single quotes.</summary>
    public static string Str(string v) => "'" + v.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    /// <summary>A Python tuple of ints: <c>(3, 3)</c>, <c>(3,)</c>.</summary>
    public static string Tuple(ReadOnlySpan<int> values) =>
        values.Length == 1 ? $"({values[0]},)" : "(" + string.Join(", ", values.ToArray()) + ")";
}

/// <summary>
/// A Python number that remembers whether it was an int or a float, so it prints as PyTorch
/// prints it (<c>norm_type=2</c> versus <c>norm_type=2.0</c>).
/// </summary>
public readonly record struct PyNumber(double Value, bool IsInteger)
{
    /// <summary>An int.</summary>
    public static implicit operator PyNumber(int value) => new(value, true);

    /// <summary>A float.</summary>
    public static implicit operator PyNumber(double value) => new(value, false);

    /// <summary>The value.</summary>
    public static implicit operator double(PyNumber n) => n.Value;

    /// <summary>Python's repr.</summary>
    public override string ToString() => IsInteger ? ((long)Value).ToString(System.Globalization.CultureInfo.InvariantCulture) : PyRepr.Float(Value);
}
