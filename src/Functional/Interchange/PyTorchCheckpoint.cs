using System.Collections.Immutable;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Functional;

/// <summary>
/// A PyTorch checkpoint is malformed, of a format not read here, or holds something the restricted
/// unpickler refuses (a global other than the state_dict ones, an object construction). The message
/// names the file and, for a refused global, the global. Derives from <see cref="SafeTensorsException"/>,
/// so one <c>catch</c> covers every weights file.
/// </summary>
public sealed class PyTorchCheckpointException : SafeTensorsException
{
    /// <summary>Creates the exception with its message.</summary>
    public PyTorchCheckpointException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A PyTorch checkpoint written by <c>torch.save</c> (the zip format, PyTorch ≥ 1.6), read without
/// Python: <c>&lt;top&gt;/data.pkl</c> is interpreted by a restricted unpickler that accepts only what
/// a state_dict is made of (see the README: dicts, lists, tuples, numbers, strings, tensors and
/// parameters of the ten storage types) and refuses every other global, as
/// <c>torch.load(weights_only=True)</c> does; nothing in the file is ever executed. Tensors are
/// named by their path through the pickled dicts and lists, joined with dots, so a full checkpoint
/// <c>{"model": state_dict, "optimizer": ...}</c> holds <c>model.conv1.weight</c> (see
/// <see cref="Weights.Subset"/>); other values (numbers, strings) are skipped. Tensor bytes are read
/// from the archive's <c>&lt;top&gt;/data/&lt;key&gt;</c> entries when asked for; views of shared
/// storages (offsets, strides) come out contiguous in PyTorch's logical order. Dispose to close.
/// </summary>
public sealed class PyTorchCheckpoint : IDisposable, ITensorFile
{
    /// <summary><c>data.pkl</c> above this size is refused before being read (as a safetensors header is).</summary>
    public const long MaxPickleBytes = SafeTensors.MaxHeaderBytes;

    /// <summary>Dicts and lists nested deeper than this are refused.</summary>
    public const int MaxNesting = 64;

    private readonly FileStream stream;
    private readonly ZipArchive zip;
    private readonly Dictionary<string, ZipArchiveEntry> storages = [];
    private readonly ImmutableDictionary<string, TensorRef> tensors;
    private bool disposed;

    /// <summary>The file's path (for messages).</summary>
    public string Path { get; }

    /// <summary>Tensor names, in the order the pickle holds them.</summary>
    public ImmutableArray<string> Names { get; }

    private PyTorchCheckpoint(string path, string file)
    {
        Path = path;
        try { stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Fail($"cannot read the file: {e.Message}", e); }
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            string top = TopFolder();
            CheckByteOrder(top);
            var pickle = ReadEntry(zip.GetEntry(top + "/data.pkl")!, MaxPickleBytes, "data.pkl");
            var root = Unpickler.Load(pickle, m => Fail(m));
            (tensors, Names) = Flatten(root);
            foreach (var s in tensors.Values.Select(t => t.Storage).Distinct())
            {
                var entry = zip.GetEntry($"{top}/data/{s.Key}") ?? throw Fail($"storage '{s.Key}' has no entry '{top}/data/{s.Key}' in the archive");
                long bytes = s.Count * SafeTensors.Size(s.DType);
                if (entry.Length != bytes)
                    throw Fail($"storage '{s.Key}' declares {s.Count} {s.DType} elements ({bytes} bytes) but its entry holds {entry.Length} bytes");
                storages[s.Key] = entry;
            }
        }
        catch (Exception e) when (IsZipDamage(e))
        {
            Dispose();
            throw Fail($"the zip archive cannot be read (truncated or damaged?): {e.Message}", e);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Opens a PyTorch zip checkpoint and unpickles its structure (tensor bytes stay in the file until read).</summary>
    public static PyTorchCheckpoint Open(string path) => new(path, WeightFiles.ResolveFile(path, (m, e) => new PyTorchCheckpointException($"PyTorch checkpoint '{path}': {m}", e)));

    private PyTorchCheckpointException Fail(string message, Exception? inner = null) => new($"PyTorch checkpoint '{Path}': {message}", inner);

    // The zip library reports damage as InvalidDataException, or IOException when the file ends early.
    private static bool IsZipDamage(Exception e) => e is InvalidDataException or IOException or NotSupportedException && e is not SafeTensorsException;

    // torch.save names the top folder after the file ("resnet18/data.pkl"); other writers use "archive/".
    // Every entry must live under it, with a plain relative name.
    private string TopFolder()
    {
        var tops = new List<string>();
        var seen = new HashSet<string>();
        foreach (var e in zip.Entries)
        {
            string n = e.FullName;
            if (!seen.Add(n)) throw Fail($"zip entry '{n}' occurs twice");
            var parts = n.Split('/');
            if (n.Length == 0 || n.Contains('\\') || n.Contains(':') || n.StartsWith('/') || parts.Any(p => p is "" or "." or ".."))
                throw Fail($"zip entry '{n}' is not a plain relative path (path traversal?)");
            if (parts is [_, "data.pkl"]) tops.Add(parts[0]);
        }
        if (tops.Count != 1)
            throw Fail(tops.Count == 0
                ? "the zip archive has no '<folder>/data.pkl': not a PyTorch checkpoint"
                : $"the zip archive has {tops.Count} data.pkl files ({string.Join(", ", tops.Select(t => t + "/data.pkl"))})");
        string top = tops[0];
        foreach (var e in zip.Entries)
            if (!e.FullName.StartsWith(top + "/", StringComparison.Ordinal))
                throw Fail($"zip entry '{e.FullName}' lies outside the checkpoint's folder '{top}/'");
        return top;
    }

    private void CheckByteOrder(string top)
    {
        var entry = zip.GetEntry(top + "/byteorder");
        if (entry is null) return; // written since PyTorch 1.x's zip format; little-endian before
        string order = System.Text.Encoding.ASCII.GetString(ReadEntry(entry, 16, "byteorder")).Trim();
        if (order != "little") throw Fail($"byteorder is '{order}'; only little-endian checkpoints are read");
    }

    private byte[] ReadEntry(ZipArchiveEntry entry, long limit, string what)
    {
        if (entry.Length > limit) throw Fail($"{what} declares {entry.Length} bytes, over the {limit}-byte limit");
        var bytes = new byte[entry.Length];
        using var s = entry.Open();
        s.ReadExactly(bytes);
        return bytes;
    }

    // Names tensors by their path of dict keys and list indices, joined with dots.
    private (ImmutableDictionary<string, TensorRef>, ImmutableArray<string>) Flatten(object? root)
    {
        if (root is not (PyDict or List<object?> or PyTuple))
            throw Fail(root is TensorRef ? "holds a single tensor, not a dict of tensors (save a state_dict)" : "holds no dict of tensors");
        var map = ImmutableDictionary.CreateBuilder<string, TensorRef>();
        var names = ImmutableArray.CreateBuilder<string>();
        long visits = 0;
        void Walk(object? v, string name, int depth)
        {
            // A shared container visited from many places could otherwise make the walk exponential.
            if (++visits > 10_000_000) throw Fail("the pickle's containers are shared too often (over 10^7 visits)");
            if (depth > MaxNesting) throw Fail($"dicts or lists nested deeper than {MaxNesting} levels at '{name}'");
            string Child(object key) => name.Length == 0 ? $"{key}" : $"{name}.{key}";
            switch (v)
            {
                case TensorRef t:
                    if (!map.TryAdd(name, t)) throw Fail($"tensor name '{name}' occurs twice");
                    names.Add(name);
                    break;
                case PyDict d:
                    foreach (var (k, x) in d.Items) Walk(x, Child(k), depth + 1);
                    break;
                case List<object?> l:
                    for (int i = 0; i < l.Count; i++) Walk(l[i], Child(i), depth + 1);
                    break;
                case PyTuple tu:
                    for (int i = 0; i < tu.Items.Length; i++) Walk(tu.Items[i], Child(i), depth + 1);
                    break;
            }
        }
        Walk(root, "", 0);
        return (map.ToImmutable(), names.ToImmutable());
    }

    /// <summary>Whether the checkpoint holds a tensor of that name.</summary>
    public bool Contains(string name) => tensors.ContainsKey(name);

    private TensorRef Find(string name) => tensors.TryGetValue(name, out var t) ? t : throw Fail($"no tensor named '{name}'");

    /// <summary>The stored element type and shape of a tensor.</summary>
    public (DType DType, Shape Shape) Describe(string name)
    {
        var t = Find(name);
        return (t.Storage.DType, new Shape(t.Size));
    }

    /// <summary>The tensor's elements in PyTorch's logical (row-major) order, as raw little-endian bytes of its dtype.</summary>
    public RawTensor ReadRaw(string name)
    {
        var t = Find(name);
        var shape = new Shape(t.Size);
        long size = SafeTensors.Size(t.Storage.DType);
        if (shape.ElementCount * size > Array.MaxLength) throw Fail($"tensor '{name}' has {shape.ElementCount * size} bytes, more than one array can hold");
        var bytes = new byte[shape.ElementCount * size];
        Gather(name, t, bytes);
        return new RawTensor(t.Storage.DType, shape, bytes);
    }

    /// <summary>The tensor as float32, converting from any stored dtype as <see cref="SafeTensors.ReadFloat"/> does.</summary>
    public Tensor ReadFloat(string name)
    {
        var t = Find(name);
        if (t.Storage.DType != DType.F32) return SafeTensors.ToFloat(ReadRaw(name));
        // float32: read straight into the tensor's array.
        var shape = new Shape(t.Size);
        var f = GC.AllocateUninitializedArray<float>((int)shape.ElementCount);
        Gather(name, t, MemoryMarshal.AsBytes(f.AsSpan()));
        return Tensor.Own(f, shape);
    }

    // Reads the storage range the view touches and lays its elements out contiguously.
    private void Gather(string name, TensorRef t, Span<byte> into)
    {
        if (into.Length == 0) return;
        int size = SafeTensors.Size(t.Storage.DType);
        long first = t.Offset, last = t.Offset;
        for (int i = 0; i < t.Size.Length; i++) last += (t.Size[i] - 1) * t.Stride[i];
        long rangeBytes = (last - first + 1) * size;
        if (IsContiguous(t) && rangeBytes == into.Length)
        {
            ReadStorage(name, t.Storage, first * size, into);
            return;
        }
        if (rangeBytes > Array.MaxLength) throw Fail($"tensor '{name}' is a view spanning {rangeBytes} bytes of its storage, over {Array.MaxLength}");
        var range = new byte[rangeBytes];
        ReadStorage(name, t.Storage, first * size, range);
        // Walk the view's indices in row-major order, advancing the source offset by the strides (an odometer).
        int rank = t.Size.Length;
        var index = new int[rank];
        long src = 0;
        for (int o = 0; o < into.Length; o += size)
        {
            range.AsSpan((int)(src * size), size).CopyTo(into[o..]);
            for (int d = rank - 1; d >= 0; d--)
            {
                src += t.Stride[d];
                if (++index[d] < t.Size[d]) break;
                src -= t.Stride[d] * t.Size[d];
                index[d] = 0;
            }
        }
    }

    private static bool IsContiguous(TensorRef t)
    {
        long expected = 1;
        for (int d = t.Size.Length - 1; d >= 0; d--)
        {
            if (t.Size[d] != 1 && t.Stride[d] != expected) return false;
            expected *= t.Size[d];
        }
        return true;
    }

    private void ReadStorage(string name, StorageRef s, long offset, Span<byte> into)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var entry = storages[s.Key];
        lock (zip)
        {
            try
            {
                using var stream = entry.Open();
                if (stream.CanSeek) stream.Seek(offset, SeekOrigin.Begin);
                else Skip(stream, offset);
                stream.ReadExactly(into);
            }
            catch (Exception e) when (IsZipDamage(e))
            { throw Fail($"tensor '{name}': storage entry '{entry.FullName}' cannot be read (truncated or damaged?): {e.Message}", e); }
        }
    }

    private static void Skip(Stream s, long n)
    {
        var scratch = new byte[(int)Math.Min(n, 1 << 16)];
        while (n > 0)
        {
            int read = s.Read(scratch, 0, (int)Math.Min(n, scratch.Length));
            if (read == 0) throw new EndOfStreamException();
            n -= read;
        }
    }

    /// <summary>Closes the archive.</summary>
    public void Dispose()
    {
        disposed = true;
        zip?.Dispose();
        stream?.Dispose();
    }
}
