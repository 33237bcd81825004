using System.Buffers.Binary;
using System.Collections.Immutable;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Functional;

/// <summary>The element types of the safetensors format that this library reads and writes.</summary>
public enum DType
{
    /// <summary>IEEE double.</summary>
    F64,
    /// <summary>IEEE single.</summary>
    F32,
    /// <summary>IEEE half.</summary>
    F16,
    /// <summary>bfloat16 (the upper half of a float32).</summary>
    BF16,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>One byte, 0 or 1.</summary>
    BOOL,
}

/// <summary>
/// A weights file (safetensors, a shard index, or a PyTorch checkpoint as <see cref="PyTorchCheckpointException"/>)
/// is malformed or does not hold what was asked for. The message names the file and the tensor.
/// </summary>
public class SafeTensorsException : IOException
{
    /// <summary>Creates the exception with its message.</summary>
    public SafeTensorsException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>One tensor's raw little-endian bytes with its element type and shape, for writing any dtype.</summary>
public sealed record RawTensor(DType DType, Shape Shape, ReadOnlyMemory<byte> Bytes)
{
    /// <summary>A float32 tensor's bytes.</summary>
    public static RawTensor FromTensor(Tensor t) => new(DType.F32, t.Shape, MemoryMarshal.AsBytes(t.Span).ToArray());

    /// <summary>An int64 tensor's bytes.</summary>
    public static RawTensor FromInt64(ReadOnlySpan<long> values, Shape shape) =>
        new(DType.I64, shape, MemoryMarshal.AsBytes(values).ToArray());
}

/// <summary>
/// A safetensors file opened memory-mapped: the header is parsed and validated strictly at open,
/// tensor bytes are read from the mapping only when asked for. Dispose to unmap.
/// </summary>
public sealed class SafeTensors : IDisposable, ITensorFile
{
    /// <summary>Headers above this size are refused before being read (as the reference implementation does).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MemoryMappedFile? file;
    private readonly MemoryMappedViewAccessor? view;
    private readonly long dataStart;
    private readonly ImmutableDictionary<string, Entry> entries;

    private readonly record struct Entry(DType DType, Shape Shape, long Begin, long End);

    /// <summary>The file's path (for messages).</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public ImmutableDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names, in file order.</summary>
    public ImmutableArray<string> Names { get; }

    private SafeTensors(string path)
    {
        Path = path;
        string target = WeightFiles.ResolveFile(path, Fail); // a symbolic link's own length is not the file's
        if (WeightFiles.NotSafeTensors(target) is { } other) throw Fail($"this is {other}");
        long length;
        try { length = new FileInfo(target).Length; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Fail($"cannot read the file: {e.Message}", e); }
        if (length < 8) throw Fail($"truncated: {length} bytes, fewer than the 8-byte header length");

        file = MemoryMappedFile.CreateFromFile(target, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        try
        {
            ulong headerLength = view.ReadUInt64(0);
            if (headerLength > MaxHeaderBytes) throw Fail($"header length {headerLength} is over the {MaxHeaderBytes}-byte limit");
            if (8 + (long)headerLength > length) throw Fail($"header length {headerLength} runs past the end of the {length}-byte file");
            var header = new byte[headerLength];
            // An empty header is left to the JSON parser: the accessor refuses any position at the end of the file.
            if (header.Length > 0) view.ReadArray(8, header, 0, header.Length);
            dataStart = 8 + (long)headerLength;
            (entries, Names, Metadata) = ParseHeader(header, length - dataStart);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates a safetensors file.</summary>
    public static SafeTensors Open(string path) => new(path);

    private SafeTensorsException Fail(string message, Exception? inner = null) => new($"safetensors file '{Path}': {message}", inner);

    private (ImmutableDictionary<string, Entry>, ImmutableArray<string>, ImmutableDictionary<string, string>) ParseHeader(byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (Exception e) when (e is JsonException or ArgumentException or DecoderFallbackException)
        { throw Fail($"header is not valid JSON: {e.Message}", e); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Fail($"header is a JSON {doc.RootElement.ValueKind}, not an object");

        var map = ImmutableDictionary.CreateBuilder<string, Entry>();
        var names = ImmutableArray.CreateBuilder<string>();
        var metadata = ImmutableDictionary<string, string>.Empty;
        bool sawMetadata = false;
        string? current = null;
        try
        {
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                current = null; // reading the name may itself fail
                current = prop.Name;
                if (prop.Name == "__metadata__")
                {
                    if (sawMetadata) throw Fail("duplicate '__metadata__'");
                    sawMetadata = true;
                    metadata = ParseMetadata(prop.Value);
                    continue;
                }
                if (map.ContainsKey(prop.Name)) throw Fail($"duplicate tensor name '{prop.Name}'");
                map[prop.Name] = ParseEntry(prop.Name, prop.Value, dataLength);
                names.Add(prop.Name);
            }
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json refuses to turn a string with a lone surrogate escape ("\ud800") into a .NET string.
            throw Fail($"{(current is null ? "header" : $"entry '{current}'")} has a string that is not valid UTF-16: {e.Message}", e);
        }

        // The tensors must tile the data section exactly: no overlap, no gap, nothing trailing.
        long expected = 0;
        foreach (var (name, e) in map.OrderBy(kv => kv.Value.Begin).ThenBy(kv => kv.Value.End))
        {
            if (e.Begin < expected) throw Fail($"tensor '{name}' bytes [{e.Begin}, {e.End}) overlap the previous tensor (ending at {expected})");
            if (e.Begin > expected) throw Fail($"gap in the data section: bytes [{expected}, {e.Begin}) before tensor '{name}' belong to no tensor");
            expected = e.End;
        }
        if (expected != dataLength) throw Fail($"{dataLength - expected} trailing bytes after the last tensor belong to no tensor");
        return (map.ToImmutable(), names.ToImmutable(), metadata);
    }

    private ImmutableDictionary<string, string> ParseMetadata(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Fail("'__metadata__' is not an object");
        var b = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String) throw Fail($"metadata '{m.Name}' is not a string");
            if (b.ContainsKey(m.Name)) throw Fail($"duplicate metadata key '{m.Name}'");
            b[m.Name] = m.Value.GetString()!;
        }
        return b.ToImmutable();
    }

    private Entry ParseEntry(string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object) throw Fail($"tensor '{name}': entry is not an object");
        // JsonElement's lookups take the last of repeated fields; the reference implementation refuses them.
        var seen = new HashSet<string>();
        foreach (var p in value.EnumerateObject())
        {
            if (p.Name is not ("dtype" or "shape" or "data_offsets")) throw Fail($"tensor '{name}': unexpected field '{p.Name}'");
            if (!seen.Add(p.Name)) throw Fail($"tensor '{name}': duplicate field '{p.Name}'");
        }
        if (!value.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw Fail($"tensor '{name}': missing string 'dtype'");
        if (!Enum.GetNames<DType>().Contains(dt.GetString()))
            throw Fail($"tensor '{name}': unknown dtype '{dt.GetString()}'");
        var dtype = Enum.Parse<DType>(dt.GetString()!);
        if (!value.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw Fail($"tensor '{name}': missing array 'shape'");
        var dims = new List<int>();
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int n) || n < 0)
                throw Fail($"tensor '{name}': shape entry {d} is not a non-negative integer");
            dims.Add(n);
        }
        long count = Shape.ElementCountOf(dims.ToArray());
        if (count > Shape.MaxElements)
            throw Fail($"tensor '{name}': shape [{string.Join(", ", dims)}] has more than the {Shape.MaxElements} elements a tensor can hold");
        if (!value.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw Fail($"tensor '{name}': missing 'data_offsets' [begin, end]");
        if (off[0].ValueKind != JsonValueKind.Number || off[1].ValueKind != JsonValueKind.Number
            || !off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Fail($"tensor '{name}': data_offsets {off} are not 0 <= begin <= end");
        if (end > dataLength) throw Fail($"tensor '{name}': data_offsets [{begin}, {end}) run past the {dataLength}-byte data section");
        long bytes = count * Size(dtype);
        if (bytes != end - begin)
            throw Fail($"tensor '{name}': shape [{string.Join(", ", dims)}] of {dtype} needs {bytes} bytes but data_offsets give {end - begin}");
        return new Entry(dtype, new Shape(dims.ToArray()), begin, end);
    }

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int Size(DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 or DType.I16 => 2,
        _ => 1,
    };

    /// <summary>Whether the file holds a tensor of that name.</summary>
    public bool Contains(string name) => entries.ContainsKey(name);

    /// <summary>The stored element type and shape of a tensor.</summary>
    public (DType DType, Shape Shape) Describe(string name)
    {
        var e = Find(name);
        return (e.DType, e.Shape);
    }

    private Entry Find(string name) =>
        entries.TryGetValue(name, out var e) ? e : throw Fail($"no tensor named '{name}'");

    /// <summary>The tensor's raw bytes, copied out of the mapping.</summary>
    public RawTensor ReadRaw(string name)
    {
        var e = Find(name);
        if (e.End - e.Begin > Array.MaxLength) throw Fail($"tensor '{name}' has {e.End - e.Begin} bytes, more than one array can hold");
        var bytes = new byte[e.End - e.Begin];
        ObjectDisposedException.ThrowIf(view is null, this);
        // A zero-size tensor may sit at the very end of the file, where the accessor refuses any position.
        if (bytes.Length > 0) view.ReadArray(dataStart + e.Begin, bytes, 0, bytes.Length);
        return new RawTensor(e.DType, e.Shape, bytes);
    }

    /// <summary>The tensor as float32, converting from any stored dtype as PyTorch's <c>.float()</c> does.</summary>
    public Tensor ReadFloat(string name) => ToFloat(ReadRaw(name));

    /// <summary>An integer tensor's values as int64 (float dtypes are refused).</summary>
    public (long[] Values, Shape Shape) ReadInt64(string name)
    {
        var raw = ReadRaw(name);
        if (raw.DType is DType.F64 or DType.F32 or DType.F16 or DType.BF16)
            throw Fail($"tensor '{name}' is {raw.DType}, not an integer tensor");
        var b = raw.Bytes.Span;
        int n = (int)raw.Shape.ElementCount;
        var v = new long[n];
        for (int i = 0; i < n; i++)
            v[i] = raw.DType switch
            {
                DType.I64 => BinaryPrimitives.ReadInt64LittleEndian(b[(i * 8)..]),
                DType.I32 => BinaryPrimitives.ReadInt32LittleEndian(b[(i * 4)..]),
                DType.I16 => BinaryPrimitives.ReadInt16LittleEndian(b[(i * 2)..]),
                DType.I8 => (sbyte)b[i],
                DType.U8 or DType.BOOL => b[i],
                _ => throw Fail($"tensor '{name}' is {raw.DType}, not an integer tensor"),
            };
        return (v, raw.Shape);
    }

    /// <summary>Converts raw bytes of any supported dtype to a float32 tensor.</summary>
    public static Tensor ToFloat(RawTensor raw)
    {
        var b = raw.Bytes.Span;
        int n = (int)raw.Shape.ElementCount;
        var f = GC.AllocateUninitializedArray<float>(n);
        switch (raw.DType)
        {
            case DType.F32: MemoryMarshal.Cast<byte, float>(b).CopyTo(f); break;
            case DType.F64: for (int i = 0; i < n; i++) f[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(b[(i * 8)..]); break;
            case DType.F16: for (int i = 0; i < n; i++) f[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(b[(i * 2)..]); break;
            case DType.BF16: for (int i = 0; i < n; i++) f[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(i * 2)..]) << 16); break;
            case DType.I64: for (int i = 0; i < n; i++) f[i] = BinaryPrimitives.ReadInt64LittleEndian(b[(i * 8)..]); break;
            case DType.I32: for (int i = 0; i < n; i++) f[i] = BinaryPrimitives.ReadInt32LittleEndian(b[(i * 4)..]); break;
            case DType.I16: for (int i = 0; i < n; i++) f[i] = BinaryPrimitives.ReadInt16LittleEndian(b[(i * 2)..]); break;
            case DType.I8: for (int i = 0; i < n; i++) f[i] = (sbyte)b[i]; break;
            case DType.U8: for (int i = 0; i < n; i++) f[i] = b[i]; break;
            case DType.BOOL: for (int i = 0; i < n; i++) f[i] = b[i] != 0 ? 1f : 0f; break;
        }
        return Tensor.Own(f, raw.Shape);
    }

    /// <summary>Writes float32 tensors (and optional metadata) as a safetensors file.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(kv => new KeyValuePair<string, RawTensor>(kv.Key, RawTensor.FromTensor(kv.Value))), metadata);

    /// <summary>Writes tensors of any dtype (and optional metadata) as a safetensors file, header padded to 8 bytes.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, RawTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var kv in metadata) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            var names = new HashSet<string>();
            long offset = 0;
            foreach (var (name, t) in list)
            {
                if (name == "__metadata__" || !names.Add(name)) throw new ArgumentException($"safetensors: duplicate or reserved tensor name '{name}'.", nameof(tensors));
                long bytes = t.Shape.ElementCount * Size(t.DType);
                if (bytes != t.Bytes.Length) throw new ArgumentException($"safetensors: tensor '{name}' has {t.Bytes.Length} bytes; shape {t.Shape} of {t.DType} needs {bytes}.", nameof(tensors));
                w.WriteStartObject(name);
                w.WriteString("dtype", t.DType.ToString());
                w.WriteStartArray("shape");
                foreach (int d in t.Shape.Dims) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        while (ms.Length % 8 != 0) ms.WriteByte((byte)' ');
        using var f = File.Create(path);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)ms.Length);
        f.Write(len);
        ms.Position = 0;
        ms.CopyTo(f);
        foreach (var (_, t) in list) f.Write(t.Bytes.Span);
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        view?.Dispose();
        file?.Dispose();
    }
}
