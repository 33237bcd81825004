using System.Collections.Immutable;
using System.Globalization;

namespace Functional;

/// <summary>A slice argument of a graph node, <c>{"slice": [start, stop, step]}</c>; each part a constant, a node reference or null.</summary>
public sealed record SliceArg(object? Start, object? Stop, object? Step);

/// <summary>A dict argument of a graph node (a <c>forward</c> returning <c>{"out": ..., "aux": ...}</c>), keys in order.</summary>
public sealed record DictArg(ImmutableArray<(string Key, object? Value)> Entries);

/// <summary>What kind of value a graph node or argument holds, as far as the load-time check can tell.</summary>
internal enum ValueKind
{
    /// <summary>Not known before running (getitem of a tuple, arithmetic on operands of unknown kind).</summary>
    Any,
    /// <summary>A tensor.</summary>
    Tensor,
    /// <summary>Anything but a tensor: an int, a float, a tuple of ints (<c>x.shape</c>) or of tensors (<c>chunk</c>).</summary>
    Value,
}

/// <summary>
/// One parameter of a graph function, as PyTorch's signature has it: <c>name: kind = default</c>;
/// kinds are <c>Tensor</c>, <c>Tensors</c> (a list of tensors), <c>operand</c> (a tensor or a
/// number), <c>int</c>, <c>ints</c> (an int or a list of ints), <c>float</c>, <c>bool</c>,
/// <c>str</c>, <c>any</c>; a trailing <c>?</c> admits None; <c>*name</c> collects the remaining
/// positional arguments (<c>x.view(2, -1)</c> and <c>x.view((2, -1))</c> alike).
/// </summary>
internal sealed record Parameter(string Name, string Kind, bool Optional, bool Required, object? Default, bool Variadic);

/// <summary>A PyTorch signature: parameters bound by position, then by keyword, then by default.</summary>
internal sealed class Signature
{
    public Signature(string text)
    {
        Parameters = text.Length == 0 ? [] : [.. text.Split(", ").Select(Parse)];
    }

    public ImmutableArray<Parameter> Parameters { get; }

    private static Parameter Parse(string p)
    {
        var (head, def) = p.Split(" = ") is [var h, var d] ? (h, d) : (p, null);
        var (name, kind) = head.Split(": ") is [var n, var k] ? (n, k) : throw new InvalidOperationException($"bad parameter '{p}'");
        bool variadic = name.StartsWith('*');
        bool optional = kind.EndsWith('?');
        return new Parameter(name.TrimStart('*'), kind.TrimEnd('?'), optional, def is null && !variadic, def is null ? null : Literal(def), variadic);
    }

    private static object? Literal(string s) => s switch
    {
        "None" => null,
        "True" => true,
        "False" => false,
        _ when s.StartsWith('\'') => s.Trim('\''),
        _ when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long i) => i,
        _ => double.Parse(s, CultureInfo.InvariantCulture),
    };

    /// <summary>The arguments by parameter, or an error message when they do not fit.</summary>
    public (object?[] Values, string? Error) Bind(IReadOnlyList<object?> args, IReadOnlyDictionary<string, object?> kwargs)
    {
        var values = new object?[Parameters.Length];
        var set = new bool[Parameters.Length];
        int p = 0;
        for (int i = 0; i < args.Count; i++, p++)
        {
            if (p >= Parameters.Length) return (values, $"takes at most {Parameters.Length} positional arguments ({this}) but {args.Count} were given");
            if (Parameters[p].Variadic)
            {
                // One list argument is the whole size (view((2, -1))), else the remaining arguments are.
                var rest = args.Skip(i).ToImmutableArray();
                values[p] = rest.Length == 1 && rest[0] is ImmutableArray<object?> or List<object?> ? rest[0] : rest;
                set[p] = true;
                p++;
                break;
            }
            values[p] = args[i];
            set[p] = true;
        }
        foreach (var (name, value) in kwargs)
        {
            int k = Parameters.IndexOf(Parameters.FirstOrDefault(q => q.Name == name)!);
            if (k < 0) return (values, $"got an unexpected keyword argument '{name}' ({this})");
            if (set[k]) return (values, $"got multiple values for argument '{name}' ({this})");
            values[k] = value;
            set[k] = true;
        }
        for (int k = 0; k < Parameters.Length; k++)
        {
            if (set[k]) continue;
            if (Parameters[k].Required) return (values, $"missing required argument '{Parameters[k].Name}' ({this})");
            values[k] = Parameters[k].Variadic ? ImmutableArray<object?>.Empty : Parameters[k].Default;
        }
        return (values, null);
    }

    public override string ToString() => string.Join(", ", Parameters.Select(p => (p.Variadic ? "*" : "") + p.Name));
}

/// <summary>
/// The arguments of one call of a graph function, bound to its parameters and read by name with
/// their kind checked: <see cref="Shapes"/> says whether tensors are <see cref="Tensor"/>s (Forward)
/// or <see cref="Shape"/>s (OutputShape); parameters and buffers (<c>get_attr</c>) are tensors in both.
/// A kind that does not fit fails with a <see cref="ModuleDescriptionException"/>.
/// </summary>
internal sealed class Call
{
    private readonly GraphFunction function;
    private readonly object?[] values;

    internal Call(GraphFunction function, object?[] values, bool shapes, Tensor? consumable, bool isStatic)
    {
        this.function = function;
        this.values = values;
        Shapes = shapes;
        Consumable = consumable;
        IsStatic = isStatic;
    }

    /// <summary>Whether this call computes shapes (OutputShape) rather than tensors.</summary>
    public bool Shapes { get; }

    /// <summary>An argument the graph alone holds and no later node reads: the call may write its result over it.</summary>
    public Tensor? Consumable { get; }

    /// <summary>Whether this is the load-time call that sees only constants (reading anything else stops it).</summary>
    private bool IsStatic { get; }

    /// <summary>Thrown when the load-time call reads an argument only a run knows.</summary>
    internal sealed class NotStatic : Exception;

    private object? Raw(string name)
    {
        int i = function.Signature.Parameters.IndexOf(function.Signature.Parameters.FirstOrDefault(p => p.Name == name)!);
        if (i < 0) throw new InvalidOperationException($"{function.Target} has no parameter '{name}'");
        var v = values[i];
        if (IsStatic && Graph.IsUnresolved(v)) throw new NotStatic();
        return v;
    }

    private ModuleDescriptionException Kind(string name, object? v, string expected) =>
        new($"argument '{name}' is {Describe(v)}, expected {expected}");

    /// <summary>A short description of a value for error messages.</summary>
    internal static string Describe(object? v) => v switch
    {
        null => "None",
        Tensor t => $"a tensor of shape {t.Shape}",
        Shape s => $"a tensor of shape {s}",
        string s => $"the string '{s}'",
        bool b => b ? "True" : "False",
        long or double => $"the number {Convert.ToString(v, CultureInfo.InvariantCulture)}",
        IReadOnlyList<object?> l => $"a list of {l.Count}",
        _ => $"a {v.GetType().Name}",
    };

    public object? Value(string name) => Raw(name);

    /// <summary>The rank of the <c>input</c> argument (known only when running).</summary>
    public int InputRank => ShapeOf("input").Rank;

    public bool IsNone(string name) => Raw(name) is null;

    public static bool IsTensor(object? v) => v is Tensor or Shape;

    public bool IsTensor(string name) => IsTensor(Raw(name));

    /// <summary>A tensor argument in a Forward run.</summary>
    public Tensor TensorArg(string name) => Raw(name) as Tensor ?? throw Kind(name, Raw(name), "a tensor");

    /// <summary>The shape of a tensor argument, in either mode.</summary>
    public Shape ShapeOf(string name) => ShapeOf(name, Raw(name));

    private Shape ShapeOf(string name, object? v) => v switch
    {
        Tensor t => t.Shape,
        Shape s => s,
        _ => throw Kind(name, v, "a tensor"),
    };

    /// <summary>A parameter or buffer given as an argument (F.conv2d's weight): a tensor in both modes.</summary>
    public Tensor Weight(string name) => Raw(name) switch
    {
        Tensor t => t,
        Shape => throw new ModuleDescriptionException($"argument '{name}' must be a parameter or buffer of the module (a get_attr node) to compute shapes without running; a computed weight is not supported"),
        var v => throw Kind(name, v, "a tensor"),
    };

    public Tensor? OptionalWeight(string name) => IsNone(name) ? null : Weight(name);

    /// <summary>Each tensor of a list argument (torch.cat's tensors), or their shapes.</summary>
    public IReadOnlyList<object> TensorList(string name) => Raw(name) switch
    {
        IReadOnlyList<object?> l when l.Count > 0 && l.All(IsTensor) => l.Select(e => e!).ToList(),
        var v => throw Kind(name, v, "a non-empty list of tensors"),
    };

    public long Long(string name) => Raw(name) switch
    {
        long i => i,
        var v => throw Kind(name, v, "an int"),
    };

    public int Int(string name)
    {
        long v = Long(name);
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new ModuleDescriptionException($"argument '{name}' = {v} is out of range");
    }

    public int? OptionalInt(string name) => IsNone(name) ? null : Int(name);

    public double Double(string name) => Raw(name) switch
    {
        long i => i,
        double d => d,
        var v => throw Kind(name, v, "a number"),
    };

    public double? OptionalDouble(string name) => IsNone(name) ? null : Double(name);

    /// <summary>A number kept as written (int or float), for layers that print it.</summary>
    public PyNumber Number(string name) => Raw(name) is long i ? i : new PyNumber(Double(name), false);

    public bool Bool(string name) => Raw(name) switch
    {
        bool b => b,
        var v => throw Kind(name, v, "True or False"),
    };

    public bool? OptionalBool(string name) => IsNone(name) ? null : Bool(name);

    public string String(string name) => Raw(name) switch
    {
        string s => s,
        var v => throw Kind(name, v, "a string"),
    };

    /// <summary>An "int or tuple of ints" argument as a list.</summary>
    public int[] Ints(string name) => Raw(name) switch
    {
        long => [Int(name)],
        IReadOnlyList<object?> l => l.Select(e => e is long i && i is >= int.MinValue and <= int.MaxValue ? (int)i : throw Kind(name, e, "a list of ints")).ToArray(),
        var v => throw Kind(name, v, "an int or a list of ints"),
    };

    public int[]? OptionalInts(string name) => IsNone(name) ? null : Ints(name);

    /// <summary>An "int or tuple" argument kept as given (one int stays one), for layers that print it.</summary>
    public Dims DimsArg(string name) => Raw(name) is long ? new Dims(Int(name)) : new Dims(Ints(name));

    public Dims? OptionalDims(string name) => IsNone(name) || Raw(name) is IReadOnlyList<object?> { Count: 0 } ? (Dims?)null : DimsArg(name);

    /// <summary>A ModuleDescriptionException for an argument value the function does not support.</summary>
    public ModuleDescriptionException Unsupported(string name, string why) => new($"unsupported {name}={Describe(Raw(name))}: {why}");

    /// <summary>Runs <paramref name="layer"/> on the argument <paramref name="name"/> (over it when the graph may give it away).</summary>
    public object Apply(Layer layer, string name = "input")
    {
        if (Shapes) return layer.OutputShape(ShapeOf(name));
        var x = TensorArg(name);
        return ReferenceEquals(x, Consumable) ? layer.Run(x, layer.Plan(x.Shape), consuming: true) : layer.Forward(x);
    }

    /// <summary>Maps the tensor argument <paramref name="name"/> by a shape-preserving function.</summary>
    public object Map(Func<Tensor, Tensor> f, string name = "input") => Shapes ? ShapeOf(name) : f(TensorArg(name));
}
