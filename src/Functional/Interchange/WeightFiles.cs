using System.Collections.Immutable;
using System.Text;

namespace Functional;

/// <summary>A file of named tensors that <see cref="Weights"/> can serve from: safetensors or a PyTorch checkpoint.</summary>
internal interface ITensorFile : IDisposable
{
    string Path { get; }
    ImmutableArray<string> Names { get; }
    (DType DType, Shape Shape) Describe(string name);
    Tensor ReadFloat(string name);
}

/// <summary>
/// Paths as users have them: symbolic links (the Hugging Face cache links every file into
/// <c>blobs/</c>) resolved before sizing and mapping, a file's kind told by its first bytes, and a
/// directory or <c>*.index.json</c> opened as a sharded set.
/// </summary>
internal static class WeightFiles
{
    private enum Kind { SafeTensors, Zip, Pickle, Json, Other }

    /// <summary>
    /// The final target of <paramref name="path"/> through any chain of symbolic links (relative
    /// ones resolved against the link's folder), checked to be an existing file.
    /// </summary>
    public static string ResolveFile(string path, Func<string, Exception?, SafeTensorsException> fail)
    {
        if (Directory.Exists(path))
            throw fail("is a directory; Weights.Load opens a directory of sharded safetensors (with its *.index.json) or of a single .safetensors file", null);
        string target;
        try
        {
            var info = new FileInfo(path);
            target = info.LinkTarget is null ? path : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        { throw fail($"cannot follow the symbolic link: {e.Message}", e); }
        if (!File.Exists(target))
            throw fail(target == path ? "file not found" : $"file not found: it is a symbolic link to '{target}', which does not exist", null);
        return target;
    }

    /// <summary>
    /// Null when the first bytes could begin a safetensors file; else what the file is, for a
    /// message. A safetensors file starts with its header length, at most
    /// <see cref="SafeTensors.MaxHeaderBytes"/>, so the magic numbers of the other kinds never
    /// collide with a valid one.
    /// </summary>
    public static string? NotSafeTensors(string file) => Sniff(file) switch
    {
        Kind.Zip => "a zip archive (a PyTorch checkpoint? Weights.Load and PyTorchCheckpoint.Open read those), not a safetensors file",
        Kind.Pickle => LegacyPickle,
        Kind.Json => "a JSON file (a sharded model's *.index.json? Weights.Load reads those), not a safetensors file",
        _ => null,
    };

    private const string LegacyPickle =
        "a bare pickle: PyTorch's legacy torch.save format (_use_new_zipfile_serialization=False, before PyTorch 1.6), which is not read; "
        + "load and save it again with a newer torch.save, or convert it to safetensors";

    private static Kind Sniff(string file)
    {
        Span<byte> head = stackalloc byte[8];
        int n;
        try
        {
            using var s = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            n = s.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Kind.SafeTensors; } // let the reader report it
        head = head[..n];
        if (n == 8 && BitConverter.ToUInt64(head) <= SafeTensors.MaxHeaderBytes) return Kind.SafeTensors;
        if (head.StartsWith("PK\u0003\u0004"u8) || head.StartsWith("PK\u0005\u0006"u8)) return Kind.Zip;
        if (n >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5) return Kind.Pickle;
        var trimmed = head.TrimStart(" \t\r\n"u8);
        if (trimmed.Length > 0 && trimmed[0] is (byte)'{' or (byte)'[') return Kind.Json;
        return n < 8 ? Kind.SafeTensors : Kind.Other;
    }

    /// <summary>
    /// Opens what <paramref name="path"/> names: a safetensors file, a PyTorch zip checkpoint, an
    /// <c>*.index.json</c> of shards, or a directory holding one index or one safetensors file.
    /// </summary>
    public static List<ITensorFile> Open(string path)
    {
        if (Directory.Exists(path)) return OpenDirectory(path);
        if (path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) return ShardedWeights.Open(path);
        return [OpenFile(path)];
    }

    /// <summary>Opens one file of tensors by its kind: safetensors or a PyTorch zip checkpoint.</summary>
    public static ITensorFile OpenFile(string path)
    {
        SafeTensorsException Fail(string m, Exception? e) => new($"weights '{path}': {m}", e);
        string file = ResolveFile(path, Fail);
        return Sniff(file) switch
        {
            Kind.Zip => PyTorchCheckpoint.Open(path),
            Kind.Pickle => throw new PyTorchCheckpointException($"PyTorch checkpoint '{path}': {LegacyPickle}"),
            Kind.Json => throw Fail("is a JSON file; a sharded model is opened by its *.index.json (with \"weight_map\")", null),
            _ => SafeTensors.Open(path),
        };
    }

    private static List<ITensorFile> OpenDirectory(string dir)
    {
        string[] Files(string pattern) => Directory.GetFiles(dir, pattern).Order(StringComparer.Ordinal).ToArray();
        var indexes = Files("*.safetensors.index.json");
        if (indexes.Length == 0) indexes = Files("*.index.json");
        if (indexes.Length == 1) return ShardedWeights.Open(indexes[0]);
        if (indexes.Length > 1)
            throw new SafeTensorsException($"weights directory '{dir}' holds several indexes ({string.Join(", ", indexes.Select(Path.GetFileName))}); pass the one to load");
        var singles = Files("*.safetensors");
        if (singles.Length == 1) return [SafeTensors.Open(singles[0])];
        var names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(10).ToList();
        throw new SafeTensorsException(
            $"weights directory '{dir}' holds no *.index.json and {(singles.Length == 0 ? "no" : $"{singles.Length}")} .safetensors files, so which to load is unclear"
            + $" (it holds: {(names.Count == 0 ? "nothing" : string.Join(", ", names))}); pass a file");
    }
}

/// <summary>
/// A sharded model: <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map":
/// {tensor: shard file}}</c>) beside its shards. Every indexed tensor must be in its shard, no
/// tensor listed twice, and every shard hold exactly the tensors the index gives it.
/// </summary>
internal static class ShardedWeights
{
    public static List<ITensorFile> Open(string indexPath)
    {
        SafeTensorsException Fail(string m, Exception? e = null) => new($"shard index '{indexPath}': {m}", e);
        string file = WeightFiles.ResolveFile(indexPath, Fail);
        // Shards sit beside the index as the user names it (in the Hugging Face cache both are links into blobs/).
        string dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        if (new FileInfo(file).Length > SafeTensors.MaxHeaderBytes) throw Fail($"over the {SafeTensors.MaxHeaderBytes}-byte limit");
        var map = new Dictionary<string, string>();
        var byShard = new Dictionary<string, List<string>>();
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(file), new() { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var wm) || wm.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw Fail("has no \"weight_map\" object");
            foreach (var p in wm.EnumerateObject())
            {
                if (p.Value.ValueKind != System.Text.Json.JsonValueKind.String) throw Fail($"tensor '{p.Name}' maps to {p.Value.ValueKind}, not a file name");
                string shard = p.Value.GetString()!;
                if (shard.Length == 0 || shard.Contains('/') || shard.Contains('\\') || shard is "." or ".." || Path.IsPathRooted(shard))
                    throw Fail($"tensor '{p.Name}' maps to '{shard}', which is not a file name beside the index");
                if (!map.TryAdd(p.Name, shard)) throw Fail($"tensor '{p.Name}' appears twice in the weight_map");
                if (!byShard.TryGetValue(shard, out var list)) byShard[shard] = list = [];
                list.Add(p.Name);
            }
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or DecoderFallbackException or IOException && e is not SafeTensorsException)
        { throw Fail($"is not a valid index: {e.Message}", e); }

        var files = new List<ITensorFile>();
        try
        {
            foreach (var (shard, names) in byShard.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var opened = WeightFiles.OpenFile(Path.Combine(dir, shard));
                files.Add(opened);
                var held = opened.Names.ToHashSet();
                foreach (var n in names)
                    if (!held.Contains(n)) throw Fail($"maps tensor '{n}' to '{shard}', which does not hold it");
                foreach (var n in held)
                    if (!map.TryGetValue(n, out var other)) throw Fail($"shard '{shard}' holds tensor '{n}', which the index does not list");
                    else if (other != shard) throw Fail($"shard '{shard}' holds tensor '{n}', which the index maps to '{other}'");
            }
            return files;
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }
}
