using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Functional.Properties.Fuzz;

/// <summary>
/// Mutations of JSON texts (module descriptions, safetensors headers) and of safetensors files,
/// driven by a seed so that a case is replayed from its printout alone.
/// </summary>
internal static class Mutations
{
    /// <summary>Numbers that break size arithmetic: zero, negatives, int and long limits, powers of two that overflow products, floats where ints go.</summary>
    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "2", "3", "7", "65536", "-65536", "2147483647", "-2147483648", "2147483648", "4294967296", "4294967297",
        "9223372036854775807", "-9223372036854775808", "18446744073709551616", "9007199254740993", "1e30", "-1e30", "1e-30",
        "0.5", "-0.0", "1e308", "1.5e38", "3.4028235e38",
    ];

    private static readonly string[] Strings = ["", "x", "none", "same", "valid", "zeros", "reflect", "circular", "nearest", "bicubic", "tanh", ".", "a.b", "0", "é", "torch.cat", "_operator.add", "output", "placeholder", "call_module", "call_function", "call_method", "get_attr"];

    private static readonly Lazy<string[]> types = new(() => ModuleDescription.SupportedTypes.Concat(["Module", "Sequential", "Nope"]).ToArray());

    /// <summary>Applies <paramref name="count"/> random edits to the JSON text; returns the result (not always valid JSON).</summary>
    public static string Json(string json, Random rng, int count)
    {
        for (int i = 0; i < count; i++)
            json = rng.Next(10) switch
            {
                0 => TextEdit(json, rng),
                _ => TreeEdit(json, rng),
            };
        return json;
    }

    /// <summary>Edits of the text that no tree can express: duplicate keys, lone surrogates, deep nesting, truncation.</summary>
    private static string TextEdit(string json, Random rng)
    {
        int brace = json.IndexOf('{', rng.Next(Math.Max(1, json.Length)));
        int at = rng.Next(json.Length + 1);
        switch (rng.Next(6))
        {
            case 0 when brace >= 0:
                // A repeated key: the first member of some object, written twice with another value.
                int colon = json.IndexOf(':', brace);
                if (colon < 0) return json;
                string key = json[(brace + 1)..colon];
                return json.Insert(brace + 1, $"{key}: {Pick(rng, Numbers)}, ");
            case 1:
                int quote = json.IndexOf('"', at);
                return quote < 0 ? json : json.Insert(quote + 1, rng.Next(2) == 0 ? "\\ud800" : "\\udfff\\ud800");
            case 2:
                int depth = rng.Next(2) == 0 ? 70 : 3000;
                return json.Insert(at, new string('[', depth) + new string(']', depth) + ",");
            case 3: return json[..at];
            case 4: return json.Insert(at, ((char)rng.Next(0xD800, 0xE000)).ToString());
            default: return json.Insert(at, Pick(rng, ["{", "}", "[", "]", ",", ":", "\"", "null", "1e999", "-", "\\"]));
        }
    }

    private static string TreeEdit(string json, Random rng)
    {
        // JsonNode parses lazily: text it cannot hold (lone surrogates, too deep) may fail at any step.
        try { return TreeEditOrThrow(json, rng); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { return TextEdit(json, rng); }
    }

    private static string TreeEditOrThrow(string json, Random rng)
    {
        var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 4000 });
        if (root is null) return json;
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[rng.Next(nodes.Count)];
        var replacement = Replacement(target, rng);
        if (target.Parent is null) return replacement?.ToJsonString() ?? "null";
        if (ReferenceEquals(replacement, Remove))
        {
            switch (target.Parent)
            {
                case JsonObject o: o.Remove(target.GetPropertyName()); break;
                case JsonArray a: a.RemoveAt(target.GetElementIndex()); break;
            }
        }
        else
        {
            switch (target.Parent)
            {
                case JsonObject o: o[target.GetPropertyName()] = replacement; break;
                case JsonArray a: a[target.GetElementIndex()] = replacement; break;
            }
        }
        return root.ToJsonString();
    }

    private static readonly JsonNode Remove = JsonValue.Create("<remove>")!;

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        if (node is JsonObject o) foreach (var (_, v) in o.ToList()) { if (v is not null) Collect(v, into); }
        else if (node is JsonArray a) foreach (var v in a.ToList()) { if (v is not null) Collect(v, into); }
    }

    private static JsonNode? Replacement(JsonNode target, Random rng)
    {
        string? name = target.Parent is JsonObject ? target.GetPropertyName() : null;
        // Numbers mostly stay numbers, so the size arithmetic behind a valid-looking argument is reached.
        if (target.GetValueKind() == JsonValueKind.Number && rng.Next(3) > 0) return JsonNode.Parse(Pick(rng, Numbers));
        switch (rng.Next(12))
        {
            case 0: return Remove;
            case 1: return null;
            case 2: return JsonValue.Create(Pick(rng, Strings));
            case 3: return JsonValue.Create(rng.Next(2) == 0);
            case 4: return new JsonArray();
            case 5: return new JsonObject();
            case 6: return new JsonObject { ["node"] = rng.Next(2) == 0 ? JsonValue.Create(Pick(rng, Strings)) : JsonValue.Create(rng.Next(-1, 6)) };
            case 7 when name == "type" || target.GetValueKind() == JsonValueKind.String: return JsonValue.Create(Pick(rng, types.Value));
            case 8 when target is JsonArray a:
                // Arity: drop, repeat or add an element.
                var copy = JsonNode.Parse(a.ToJsonString())!.AsArray();
                if (copy.Count > 0 && rng.Next(2) == 0) copy.RemoveAt(rng.Next(copy.Count));
                else copy.Add(copy.Count > 0 ? JsonNode.Parse(copy[rng.Next(copy.Count)]?.ToJsonString() ?? "null") : JsonValue.Create(1));
                return copy;
            case 9 when target is JsonObject o:
                var extra = JsonNode.Parse(o.ToJsonString())!.AsObject();
                extra[Pick(rng, ["bogus", "type", "graph", "children", "layers", "args", "kwargs", "target", "op", "name"])] = JsonValue.Create(Pick(rng, Strings));
                return extra;
            case 10: return new JsonArray(JsonNode.Parse(target.ToJsonString()));
            default: return JsonNode.Parse(Pick(rng, Numbers));
        }
    }

    private static T Pick<T>(Random rng, IReadOnlyList<T> from) => from[rng.Next(from.Count)];

    /// <summary>The header with its metadata's module description edited (the description is a JSON string inside JSON).</summary>
    private static string EditDescription(string header, Random rng)
    {
        try
        {
            if (JsonNode.Parse(header) is JsonObject root && root["__metadata__"] is JsonObject meta
                && meta["module"] is JsonValue v && v.TryGetValue(out string? module))
            {
                meta["module"] = Json(module, rng, 1);
                return root.ToJsonString();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { }
        return Json(header, rng, 1);
    }

    // ---- safetensors files ----

    /// <summary>Applies <paramref name="count"/> random edits to a safetensors file's bytes.</summary>
    public static byte[] File(byte[] file, Random rng, int count)
    {
        for (int i = 0; i < count; i++)
            file = rng.Next(8) switch
            {
                0 => Truncate(file, rng),
                1 => FlipBits(file, rng),
                2 => SetHeaderLength(file, rng),
                3 => InvalidUtf8(file, rng),
                _ => Header(file, rng),
            };
        return file;
    }

    private static byte[] Truncate(byte[] f, Random rng) => f[..rng.Next(f.Length + 1)];

    private static byte[] FlipBits(byte[] f, Random rng)
    {
        var c = (byte[])f.Clone();
        if (c.Length == 0) return c;
        // Mostly in the header, where a flip changes meaning; sometimes anywhere.
        int limit = rng.Next(4) == 0 ? c.Length : Math.Min(c.Length, 8 + (int)Math.Min(HeaderLength(c), c.Length));
        for (int n = rng.Next(1, 4); n > 0; n--) c[rng.Next(limit)] ^= (byte)(1 << rng.Next(8));
        return c;
    }

    private static long HeaderLength(byte[] f) => f.Length < 8 ? 0 : (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(f), (ulong)int.MaxValue);

    private static byte[] SetHeaderLength(byte[] f, Random rng)
    {
        var c = (byte[])f.Clone();
        if (c.Length < 8) return c;
        ulong now = BinaryPrimitives.ReadUInt64LittleEndian(c);
        ulong[] choices = [0, 1, 2, now - 1, now + 1, now + 8, (ulong)c.Length, (ulong)c.Length - 8, (ulong)c.Length - 7, uint.MaxValue, ulong.MaxValue, 1UL << 63, 100_000_000, 100_000_001];
        BinaryPrimitives.WriteUInt64LittleEndian(c, choices[rng.Next(choices.Length)]);
        return c;
    }

    private static byte[] InvalidUtf8(byte[] f, Random rng)
    {
        var c = (byte[])f.Clone();
        long hl = HeaderLength(c);
        if (hl <= 2 || 8 + hl > c.Length) return c;
        byte[][] bad = [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]];
        var b = bad[rng.Next(bad.Length)];
        int at = 8 + rng.Next((int)hl - b.Length);
        b.CopyTo(c, at);
        return c;
    }

    /// <summary>Parses the header, edits it as JSON (dtype, shape, offsets, metadata, names, keys) and writes it back, usually with a correct length.</summary>
    private static byte[] Header(byte[] f, Random rng)
    {
        long hl = HeaderLength(f);
        if (f.Length < 8 || 8 + hl > f.Length) return FlipBits(f, rng);
        string header;
        try { header = new UTF8Encoding(false, true).GetString(f, 8, (int)hl); }
        catch (DecoderFallbackException) { return FlipBits(f, rng); }
        string edited = rng.Next(2) == 0 ? EditDescription(header, rng) : Json(header, rng, 1);
        var bytes = Encoding.UTF8.GetBytes(edited);
        var c = new byte[8 + bytes.Length + (f.Length - 8 - hl)];
        BinaryPrimitives.WriteUInt64LittleEndian(c, rng.Next(8) == 0 ? (ulong)hl : (ulong)bytes.Length);
        bytes.CopyTo(c, 8);
        Array.Copy(f, 8 + hl, c, 8 + bytes.Length, f.Length - 8 - hl);
        return c;
    }
}
