using System.Buffers.Binary;
using System.Text;

namespace Functional;

/// <summary>A global the unpickler allows: a class or function named by module and name; never imported or called.</summary>
internal sealed record PyGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A Python tuple.</summary>
internal sealed record PyTuple(object?[] Items);

/// <summary>A Python dict or OrderedDict, in insertion order; keys are strings, integers or booleans.</summary>
internal sealed class PyDict
{
    public OrderedDictionary<object, object?> Items { get; } = new();
}

/// <summary>A storage named by a persistent id: its bytes are the archive entry <c>data/&lt;Key&gt;</c>.</summary>
internal sealed record StorageRef(string Key, DType DType, long Count);

/// <summary>What <c>torch._utils._rebuild_tensor_v2</c> would build: a strided view of a storage.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, int[] Size, long[] Stride);

/// <summary>
/// A restricted unpickler in the spirit of <c>torch.load(weights_only=True)</c>: it interprets only
/// the opcodes a state_dict needs (protocols 2 to 5, binary forms) and recognises a fixed list of
/// globals by name, which it never imports or calls: <c>collections.OrderedDict</c>,
/// <c>torch._utils._rebuild_tensor_v2</c>, <c>torch._utils._rebuild_parameter</c> and the typed
/// storage classes. Any other global, any object construction (<c>NEWOBJ</c>, <c>INST</c>,
/// <c>OBJ</c>), extension codes and text persistent ids are refused with a message naming them.
/// The result is plain data: <see cref="PyDict"/>, <see cref="PyTuple"/>, lists, strings, numbers,
/// <see cref="TensorRef"/>s.
/// </summary>
internal sealed class Unpickler
{
    /// <summary>Nested MARKs beyond this are refused (the machine itself does not recurse; consumers of the result may).</summary>
    public const int MaxMarkDepth = 1000;

    private static readonly Dictionary<string, DType> StorageTypes = new()
    {
        ["FloatStorage"] = DType.F32, ["HalfStorage"] = DType.F16, ["BFloat16Storage"] = DType.BF16,
        ["DoubleStorage"] = DType.F64, ["LongStorage"] = DType.I64, ["IntStorage"] = DType.I32,
        ["ShortStorage"] = DType.I16, ["CharStorage"] = DType.I8, ["ByteStorage"] = DType.U8, ["BoolStorage"] = DType.BOOL,
    };

    private static readonly PyGlobal OrderedDict = new("collections", "OrderedDict");
    private static readonly PyGlobal RebuildTensor = new("torch._utils", "_rebuild_tensor_v2");
    private static readonly PyGlobal RebuildParameter = new("torch._utils", "_rebuild_parameter");

    /// <summary>The globals accepted, for messages and the README.</summary>
    public static IEnumerable<string> AllowedGlobals =>
        new[] { OrderedDict.ToString(), RebuildTensor.ToString(), RebuildParameter.ToString() }
            .Concat(StorageTypes.Keys.Select(s => "torch." + s));

    private static readonly Dictionary<byte, string> Refused = new()
    {
        [(byte)'i'] = "INST", [(byte)'o'] = "OBJ", [0x81] = "NEWOBJ", [0x92] = "NEWOBJ_EX", [(byte)'P'] = "PERSID",
        [0x82] = "EXT1", [0x83] = "EXT2", [0x84] = "EXT4", [(byte)'I'] = "INT", [(byte)'L'] = "LONG", [(byte)'F'] = "FLOAT",
        [(byte)'S'] = "STRING", [(byte)'V'] = "UNICODE", [(byte)'p'] = "PUT", [(byte)'g'] = "GET", [0x8f] = "EMPTY_SET",
        [0x90] = "ADDITEMS", [0x91] = "FROZENSET", [0x96] = "BYTEARRAY8", [0x97] = "NEXT_BUFFER", [0x98] = "READONLY_BUFFER",
        [(byte)'0'] = "POP", [(byte)'1'] = "POP_MARK", [(byte)'2'] = "DUP",
    };

    private readonly byte[] data;
    private readonly Func<string, Exception> fail;
    private readonly List<object?> stack = [];
    private readonly Stack<int> marks = new();
    private readonly Dictionary<long, object?> memo = [];
    private readonly Dictionary<string, StorageRef> storages = [];
    private int pos;

    private static readonly object Mark = new();

    private Unpickler(byte[] data, Func<string, Exception> fail)
    {
        this.data = data;
        this.fail = fail;
    }

    /// <summary>
    /// Interprets <paramref name="data"/> up to its STOP opcode and returns the object it builds.
    /// Every problem is thrown as the exception <paramref name="fail"/> makes from a message.
    /// </summary>
    public static object? Load(byte[] data, Func<string, Exception> fail) => new Unpickler(data, fail).Run();

    private object? Run()
    {
        while (true)
        {
            if (pos >= data.Length) throw fail($"data.pkl ends at byte {data.Length} without a STOP opcode (truncated)");
            int at = pos;
            byte op = data[pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    byte proto = Bytes(1)[0];
                    if (proto is < 2 or > 5) throw fail($"data.pkl: pickle protocol {proto} is not supported (2 to 5 are)");
                    break;
                case 0x95: Bytes(8); break; // FRAME: a length hint only
                case (byte)'.': // STOP
                    if (stack.Count != 1 || marks.Count != 0) throw fail($"data.pkl: STOP at byte {at} with {stack.Count} values on the stack");
                    return stack[0];
                case (byte)'(': // MARK
                    if (marks.Count >= MaxMarkDepth) throw fail($"data.pkl: nested deeper than {MaxMarkDepth} levels at byte {at}");
                    marks.Push(stack.Count);
                    stack.Add(Mark);
                    break;
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;
                case (byte)'K': stack.Add((long)Bytes(1)[0]); break;
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break;
                case 0x8a: stack.Add(Long(Bytes(1)[0], at)); break; // LONG1
                case 0x8b: stack.Add(Long(Length(4, at), at)); break; // LONG4
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break;
                case (byte)'X': stack.Add(Utf8(Length(4, at), at)); break; // BINUNICODE
                case 0x8c: stack.Add(Utf8(Bytes(1)[0], at)); break; // SHORT_BINUNICODE
                case 0x8d: stack.Add(Utf8(Length(8, at), at)); break; // BINUNICODE8
                case (byte)'T': stack.Add(Latin1(Length(4, at))); break; // BINSTRING (Python 2 str)
                case (byte)'U': stack.Add(Latin1(Bytes(1)[0])); break; // SHORT_BINSTRING
                case (byte)'B': stack.Add(Bytes(Length(4, at)).ToArray()); break; // BINBYTES
                case (byte)'C': stack.Add(Bytes(Bytes(1)[0]).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: stack.Add(Bytes(Length(8, at)).ToArray()); break; // BINBYTES8
                case (byte)']': stack.Add(new List<object?>()); break;
                case (byte)')': stack.Add(new PyTuple([])); break;
                case (byte)'}': stack.Add(new PyDict()); break;
                case (byte)'l': stack.Add(PopMark(at).ToList()); break; // LIST
                case (byte)'t': stack.Add(new PyTuple(PopMark(at))); break; // TUPLE
                case 0x85: stack.Add(new PyTuple(Pop(1, at))); break;
                case 0x86: stack.Add(new PyTuple(Pop(2, at))); break;
                case 0x87: stack.Add(new PyTuple(Pop(3, at))); break;
                case (byte)'d': // DICT
                {
                    var d = new PyDict();
                    SetItems(d, PopMark(at), at);
                    stack.Add(d);
                    break;
                }
                case (byte)'a': // APPEND
                {
                    var v = Pop(1, at)[0];
                    ListAt(stack.Count - 1, at).Add(v);
                    break;
                }
                case (byte)'e': // APPENDS
                {
                    var items = PopMark(at);
                    ListAt(stack.Count - 1, at).AddRange(items);
                    break;
                }
                case (byte)'s': // SETITEM
                {
                    var kv = Pop(2, at);
                    SetItems(DictAt(stack.Count - 1, at), kv, at);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    var items = PopMark(at);
                    SetItems(DictAt(stack.Count - 1, at), items, at);
                    break;
                }
                case (byte)'c': // GLOBAL "module\nname\n"
                {
                    string module = Line(at), name = Line(at);
                    stack.Add(Global(module, name, at));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var mn = Pop(2, at);
                    if (mn[0] is not string module || mn[1] is not string name) throw fail($"data.pkl: STACK_GLOBAL at byte {at} without two strings");
                    stack.Add(Global(module, name, at));
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    var fa = Pop(2, at);
                    stack.Add(Reduce(fa[0], fa[1], at));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    var state = Pop(1, at)[0];
                    if (stack.Count == 0 || stack[^1] is not PyDict || state is not (PyDict or null))
                        throw fail($"data.pkl: BUILD at byte {at} sets state on {Kind(stack.Count == 0 ? null : stack[^1])}; only an OrderedDict's attributes are accepted");
                    break; // the attributes (a state_dict's _metadata) are not needed
                }
                case (byte)'Q': // BINPERSID
                    stack.Add(PersistentLoad(Pop(1, at)[0], at));
                    break;
                case (byte)'q': memo[Bytes(1)[0]] = Top(at); break; // BINPUT
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Top(at); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Top(at); break; // MEMOIZE
                case (byte)'h': stack.Add(Get(Bytes(1)[0], at)); break; // BINGET
                case (byte)'j': stack.Add(Get(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)), at)); break; // LONG_BINGET
                default:
                    throw fail(Refused.TryGetValue(op, out var opName)
                        ? $"data.pkl: refuses the opcode {opName} at byte {at} (a state_dict does not need it)"
                        : $"data.pkl: unknown opcode 0x{op:x2} at byte {at}");
            }
        }
    }

    private ReadOnlySpan<byte> Bytes(long n)
    {
        if (n < 0 || n > data.Length - pos) throw fail($"data.pkl: {n} bytes asked for at byte {pos}, past its end ({data.Length} bytes; truncated or corrupt)");
        var s = data.AsSpan(pos, (int)n);
        pos += (int)n;
        return s;
    }

    private long Length(int width, int at)
    {
        var b = Bytes(width);
        ulong n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);
        if (n > (ulong)(data.Length - pos)) throw fail($"data.pkl: a length of {n} bytes at byte {at} runs past its end ({data.Length} bytes)");
        return (long)n;
    }

    private long Long(long n, int at)
    {
        if (n > 8) throw fail($"data.pkl: an integer of {n} bytes at byte {at} is larger than 64 bits");
        Span<byte> b = stackalloc byte[8];
        var src = Bytes(n);
        src.CopyTo(b);
        if (n > 0 && (src[^1] & 0x80) != 0) b[(int)n..].Fill(0xFF); // two's complement: sign-extend
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }

    private string Utf8(long n, int at)
    {
        try { return new UTF8Encoding(false, true).GetString(Bytes(n)); }
        catch (DecoderFallbackException e) { throw fail($"data.pkl: a string at byte {at} is not valid UTF-8: {e.Message}"); }
    }

    private string Latin1(long n) => Encoding.Latin1.GetString(Bytes(n));

    private string Line(int at)
    {
        int end = Array.IndexOf(data, (byte)'\n', pos);
        if (end < 0 || end - pos > 256) throw fail($"data.pkl: GLOBAL at byte {at} has no name line");
        string s = Latin1(end - pos);
        pos++;
        return s;
    }

    private object? Top(int at) =>
        stack.Count > 0 && stack[^1] != Mark ? stack[^1] : throw fail($"data.pkl: memo store at byte {at} with no value on the stack");

    private object? Get(long index, int at) =>
        memo.TryGetValue(index, out var v) ? v : throw fail($"data.pkl: memo entry {index} read at byte {at} was never stored");

    private object?[] Pop(int n, int at)
    {
        int start = stack.Count - n;
        if (start < (marks.Count > 0 ? marks.Peek() + 1 : 0)) throw fail($"data.pkl: opcode at byte {at} needs {n} values on the stack");
        var items = stack.GetRange(start, n).ToArray();
        stack.RemoveRange(start, n);
        return items;
    }

    private object?[] PopMark(int at)
    {
        if (marks.Count == 0) throw fail($"data.pkl: opcode at byte {at} needs a MARK");
        int m = marks.Pop();
        var items = stack.GetRange(m + 1, stack.Count - m - 1).ToArray();
        stack.RemoveRange(m, stack.Count - m);
        return items;
    }

    private List<object?> ListAt(int i, int at) =>
        i >= 0 && stack[i] is List<object?> l ? l : throw fail($"data.pkl: APPEND at byte {at} to {Kind(i >= 0 ? stack[i] : null)}, not a list");

    private PyDict DictAt(int i, int at) =>
        i >= 0 && stack[i] is PyDict d ? d : throw fail($"data.pkl: SETITEM at byte {at} on {Kind(i >= 0 ? stack[i] : null)}, not a dict");

    private void SetItems(PyDict d, object?[] kv, int at)
    {
        if (kv.Length % 2 != 0) throw fail($"data.pkl: odd number of dict items at byte {at}");
        for (int i = 0; i < kv.Length; i += 2)
            d.Items[kv[i] is string or long or bool ? kv[i]! : throw fail($"data.pkl: a dict key at byte {at} is {Kind(kv[i])}; only strings and integers are accepted")] = kv[i + 1];
    }

    private static string Kind(object? v) => v switch
    {
        null => "None",
        string => "a string",
        long or bool or double => $"the number {v}",
        PyDict => "a dict",
        PyTuple => "a tuple",
        List<object?> => "a list",
        PyGlobal g => $"the global {g}",
        TensorRef => "a tensor",
        StorageRef => "a storage",
        byte[] => "bytes",
        _ => "a MARK",
    };

    private PyGlobal Global(string module, string name, int at)
    {
        var g = new PyGlobal(module, name);
        if (g == OrderedDict || g == RebuildTensor || g == RebuildParameter || (module == "torch" && StorageTypes.ContainsKey(name))) return g;
        throw fail($"data.pkl: refuses the global '{g}' at byte {at}: only {string.Join(", ", AllowedGlobals)} are allowed, as in torch.load(weights_only=True); nothing was executed");
    }

    private object Reduce(object? callable, object? args, int at)
    {
        if (callable is not PyGlobal g) throw fail($"data.pkl: REDUCE at byte {at} calls {Kind(callable)}");
        if (args is not PyTuple { Items: var a }) throw fail($"data.pkl: REDUCE of {g} at byte {at} with {Kind(args)} as arguments");
        if (g == OrderedDict)
            return a.Length == 0 ? new PyDict() : throw fail($"data.pkl: {g} at byte {at} called with {a.Length} arguments; only OrderedDict() is accepted");
        if (g == RebuildParameter)
        {
            if (a.Length != 3 || a[0] is not TensorRef t || a[1] is not bool || a[2] is not PyDict)
                throw fail($"data.pkl: {g} at byte {at} expects (tensor, requires_grad, hooks)");
            return t;
        }
        if (g == RebuildTensor) return RebuildTensorV2(a, at);
        throw fail($"data.pkl: REDUCE at byte {at} calls {g}, which is a storage type, not a function");
    }

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    private TensorRef RebuildTensorV2(object?[] a, int at)
    {
        string where = $"data.pkl: {RebuildTensor} at byte {at}";
        if (a.Length is not (6 or 7) || a[0] is not StorageRef s || a[1] is not long offset || a[2] is not PyTuple size
            || a[3] is not PyTuple stride || a[4] is not bool || a[5] is not PyDict)
            throw fail($"{where} expects (storage, offset, size tuple, stride tuple, requires_grad, hooks[, metadata])");
        if (size.Items.Length != stride.Items.Length) throw fail($"{where}: size has {size.Items.Length} dimensions, stride {stride.Items.Length}");
        var dims = new int[size.Items.Length];
        var strides = new long[dims.Length];
        long count = 1, last = offset;
        for (int i = 0; i < dims.Length; i++)
        {
            if (size.Items[i] is not long n || n < 0 || n > int.MaxValue) throw fail($"{where}: size {Show(size)} has an entry that is not a non-negative 32-bit integer");
            if (stride.Items[i] is not long st || st < 0 || st > long.MaxValue / 4 / Math.Max(n, 1)) throw fail($"{where}: stride {Show(stride)} has an entry that is negative or too large");
            dims[i] = (int)n;
            strides[i] = st;
            count = count != 0 && n > Shape.MaxElements / count ? throw fail($"{where}: size {Show(size)} has more than the {Shape.MaxElements} elements a tensor can hold") : count * n;
            long reach = n > 0 ? (n - 1) * st : 0;
            if (last > long.MaxValue / 2 - reach) throw fail($"{where}: stride {Show(stride)} and offset {offset} reach past 2^62 elements");
            last += reach;
        }
        if (offset < 0) throw fail($"{where}: negative storage offset {offset}");
        if (count > 0 && last >= s.Count)
            throw fail($"{where}: size {Show(size)}, stride {Show(stride)} and offset {offset} reach element {last} of storage '{s.Key}', which has {s.Count}");
        return new TensorRef(s, offset, dims, strides);
    }

    private static string Show(PyTuple t) => $"({string.Join(", ", t.Items)})";

    // ('storage', storage_type, key, location, numel): the data is the archive entry data/<key>.
    private StorageRef PersistentLoad(object? pid, int at)
    {
        if (pid is not PyTuple { Items: ["storage", PyGlobal type, string key, string, long count] })
            throw fail($"data.pkl: persistent id at byte {at} is not ('storage', type, key, location, numel)");
        if (type.Module != "torch" || !StorageTypes.TryGetValue(type.Name, out var dtype))
            throw fail($"data.pkl: persistent id at byte {at} names {type}, not a storage type");
        if (key.Length is 0 or > 64 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw fail($"data.pkl: storage key '{key}' at byte {at} is not a plain name (letters, digits, '_')");
        if (count < 0 || count > long.MaxValue / 8) throw fail($"data.pkl: storage '{key}' declares {count} elements");
        var s = new StorageRef(key, dtype, count);
        if (storages.TryGetValue(key, out var seen))
            return seen == s ? seen : throw fail($"data.pkl: storage '{key}' is declared as {seen.DType}×{seen.Count} and as {dtype}×{count}");
        storages[key] = s;
        return s;
    }
}
