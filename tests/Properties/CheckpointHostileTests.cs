using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Functional.Properties;

/// <summary>Writes pickle opcodes by hand, as a hostile file's author would.</summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream s = new();

    public PickleWriter Op(params byte[] bytes)
    {
        s.Write(bytes);
        return this;
    }

    public PickleWriter Op(char op, params byte[] args) => Op((byte)op).Op(args);

    public PickleWriter Str(string v)
    {
        var b = Encoding.UTF8.GetBytes(v);
        Op('X');
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(n, b.Length);
        return Op(n.ToArray()).Op(b);
    }

    public PickleWriter Int(long v)
    {
        if (v is >= int.MinValue and <= int.MaxValue)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)v);
            return Op('J').Op(b);
        }
        var l = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(l, v);
        return Op(0x8a, 8).Op(l); // LONG1
    }

    public PickleWriter Global(string module, string name) => Op('c').Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    public PickleWriter Tuple(params long[] items)
    {
        Op('(');
        foreach (var i in items) Int(i);
        return Op('t');
    }

    /// <summary>A tensor as torch.save writes it: _rebuild_tensor_v2 of a persistent storage id.</summary>
    public PickleWriter Tensor(string key, long numel, long offset, long[] size, long[] stride, string storage = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        Op('(').Str("storage").Global("torch", storage).Str(key).Str("cpu").Int(numel).Op('t').Op('Q'); // BINPERSID
        Int(offset).Tuple(size).Tuple(stride).Op(0x89); // requires_grad False
        Global("collections", "OrderedDict").Op(')').Op('R'); // backward hooks
        return Op('t').Op('R');
    }

    public byte[] Bytes => s.ToArray();

    /// <summary>PROTO 2, a dict of the items <paramref name="body"/> writes, STOP.</summary>
    public static byte[] Dict(Action<PickleWriter> body)
    {
        var p = new PickleWriter().Op(0x80, 2).Op('}').Op('(');
        body(p);
        return p.Op('u').Op('.').Bytes;
    }
}

/// <summary>Builds PyTorch-style zip checkpoints with chosen entries.</summary>
internal static class Pth
{
    public static byte[] Zip(IEnumerable<(string Name, byte[] Bytes)> entries, CompressionLevel level = CompressionLevel.NoCompression)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var e = zip.CreateEntry(name, level).Open();
                e.Write(bytes);
            }
        return ms.ToArray();
    }

    /// <summary>A checkpoint under <paramref name="top"/>/ with data.pkl and storages data/0, data/1, ...</summary>
    public static byte[] Checkpoint(byte[] pickle, byte[][] storages, string top = "archive", params (string, byte[])[] extra) =>
        Zip(new[] { ($"{top}/data.pkl", pickle), ($"{top}/version", "3\n"u8.ToArray()) }
            .Concat(storages.Select((b, i) => ($"{top}/data/{i}", b))).Concat(extra));

    public static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>{"w": 2×3 view, "b": offset 6 of the same 8-float storage, "t": the transpose of "w"}.</summary>
    public static byte[] Valid(string top = "archive") => Checkpoint(PickleWriter.Dict(p =>
        {
            p.Str("w").Tensor("0", 8, 0, [2, 3], [3, 1]);
            p.Str("b").Tensor("0", 8, 6, [2], [1]);
            p.Str("t").Tensor("0", 8, 0, [3, 2], [1, 3]);
        }), [Floats(0, 1, 2, 3, 4, 5, 6, 7)], top);

    public static PyTorchCheckpointException Refused(byte[] file)
    {
        using var f = TempFile.With(file);
        return Assert.Throws<PyTorchCheckpointException>(() =>
        {
            using var w = Weights.Load(f.Path);
            foreach (var k in w.Keys) w.Get(k, w.Get(k, [0]).Shape);
        });
    }
}

/// <summary>Hostile and broken PyTorch checkpoints: each refused with the library's own exception, nothing executed.</summary>
public class CheckpointHostileTests
{
    [Fact]
    public void A_hand_made_checkpoint_with_views_of_one_storage_reads_in_logical_order()
    {
        using var f = TempFile.With(Pth.Valid());
        using var c = PyTorchCheckpoint.Open(f.Path);
        Assert.Equal(["w", "b", "t"], c.Names.ToArray());
        Assert.Equal([0f, 1, 2, 3, 4, 5], c.ReadFloat("w").ToArray());
        Assert.Equal([6f, 7], c.ReadFloat("b").ToArray());
        Assert.Equal([0f, 3, 1, 4, 2, 5], c.ReadFloat("t").ToArray());
        Assert.Equal((DType.F32, new Shape(3, 2)), c.Describe("t"));
    }

    [Theory]
    [InlineData("posix", "system")]
    [InlineData("os", "system")]
    [InlineData("builtins", "exec")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("torch._utils", "_rebuild_from_type_v2")]
    [InlineData("collections", "OrderedDictX")]
    public void Any_other_global_is_refused_by_name_before_anything_runs(string module, string name)
    {
        // GLOBAL, then a __reduce__-style call of it: the refusal comes at the GLOBAL.
        var pickle = PickleWriter.Dict(p => p.Str("x").Global(module, name).Op('(').Str("touch /tmp/functional-pwned-hand").Op('t').Op('R'));
        var e = Pth.Refused(Pth.Checkpoint(pickle, []));
        Assert.Contains($"refuses the global '{module}.{name}'", e.Message);
        Assert.False(File.Exists("/tmp/functional-pwned-hand"));
        // The protocol-4 form, STACK_GLOBAL, too.
        var stack = PickleWriter.Dict(p => p.Str("x").Op(0x8c, (byte)module.Length).Op(Encoding.ASCII.GetBytes(module))
            .Op(0x8c, (byte)name.Length).Op(Encoding.ASCII.GetBytes(name)).Op(0x93).Op(')').Op('R'));
        Assert.Contains($"'{module}.{name}'", Pth.Refused(Pth.Checkpoint(stack, [])).Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x81 }, "NEWOBJ")]
    [InlineData(new byte[] { (byte)'o' }, "OBJ")]
    [InlineData(new byte[] { 0x82, 1 }, "EXT1")]
    [InlineData(new byte[] { (byte)'P' }, "PERSID")]
    [InlineData(new byte[] { (byte)'i' }, "INST")]
    [InlineData(new byte[] { 0xff }, "unknown opcode 0xff")]
    public void Object_construction_and_unknown_opcodes_are_refused_by_name(byte[] op, string named)
    {
        var pickle = PickleWriter.Dict(p => p.Str("x").Global("collections", "OrderedDict").Op(')').Op(op));
        Assert.Contains(named, Pth.Refused(Pth.Checkpoint(pickle, [])).Message);
    }

    [Fact]
    public void Allowed_globals_used_other_than_a_state_dict_uses_them_are_refused()
    {
        // A storage type called as a function, OrderedDict with arguments, a rebuild with the wrong arguments, BUILD on a tensor.
        var calls = new Action<PickleWriter>[]
        {
            p => p.Str("x").Global("torch", "FloatStorage").Op('(').Int(1000).Op('t').Op('R'),
            p => p.Str("x").Global("collections", "OrderedDict").Op('(').Str("a").Op('t').Op('R'),
            p => p.Str("x").Global("torch._utils", "_rebuild_tensor_v2").Op('(').Str("a").Op('t').Op('R'),
            p => p.Str("x").Global("torch._utils", "_rebuild_parameter").Op(')').Op('R'),
            p => p.Str("x").Tensor("0", 8, 0, [2], [1]).Op('}').Op('b'),
        };
        foreach (var body in calls)
            Assert.Contains("data.pkl", Pth.Refused(Pth.Checkpoint(PickleWriter.Dict(body), [Pth.Floats(0, 1, 2, 3, 4, 5, 6, 7)])).Message);
    }

    [Fact]
    public void Deep_nesting_and_self_reference_and_exponential_sharing_are_refused()
    {
        // 100,000 nested MARKs: refused while reading, before any recursion.
        var marks = new PickleWriter().Op(0x80, 2).Op(Enumerable.Repeat((byte)'(', 100_000).ToArray()).Bytes;
        Assert.Contains("nested deeper", Pth.Refused(Pth.Checkpoint(marks, [])).Message);

        // 10,000 nested lists: [[[[...]]]].
        var lists = PickleWriter.Dict(p => p.Str("x").Op(Enumerable.Repeat((byte)']', 10_000).ToArray()).Op(Enumerable.Repeat((byte)'a', 9_999).ToArray()));
        Assert.Contains("nested deeper than", Pth.Refused(Pth.Checkpoint(lists, [])).Message);

        // A list that contains itself.
        var self = PickleWriter.Dict(p => p.Str("x").Op(']').Op('q', 0).Op('h', 0).Op('a'));
        Assert.Contains("nested deeper than", Pth.Refused(Pth.Checkpoint(self, [])).Message);

        // T(i+1) = (T(i), T(i)) for 60 levels: 2^60 paths through 60 tuples.
        var shared = PickleWriter.Dict(p =>
        {
            p.Str("x").Op(']').Op('q', 0);
            for (int i = 0; i < 60; i++) p.Op('h', 0).Op(0x86).Op('q', 0); // (top, top) as a TUPLE2
        });
        Assert.Contains("shared too often", Pth.Refused(Pth.Checkpoint(shared, [])).Message);
    }

    [Theory]
    [InlineData(8, 0, new long[] { 2147483647, 2147483647 }, new long[] { 1, 1 }, "elements")]
    [InlineData(8, 0, new long[] { 3, 3 }, new long[] { 3, 1 }, "reach element 8")]
    [InlineData(8, 7, new long[] { 2 }, new long[] { 1 }, "reach element 8")]
    [InlineData(8, -1, new long[] { 2 }, new long[] { 1 }, "negative storage offset")]
    [InlineData(8, 0, new long[] { 2 }, new long[] { -1 }, "negative or too large")]
    [InlineData(8, 0, new long[] { 2, 2 }, new long[] { 1 }, "dimensions")]
    [InlineData(8, 0, new long[] { 4611686018427387903 }, new long[] { 1 }, "32-bit")]
    [InlineData(1_000_000_000_000, 0, new long[] { 2 }, new long[] { 1 }, "its entry holds 32 bytes")]
    [InlineData(8, 4611686018427387903, new long[] { 2 }, new long[] { 1 }, "reach")]
    public void Sizes_offsets_and_strides_outside_the_storage_are_refused(long numel, long offset, long[] size, long[] stride, string expected)
    {
        var pickle = PickleWriter.Dict(p => p.Str("w").Tensor("0", numel, offset, size, stride));
        Assert.Contains(expected, Pth.Refused(Pth.Checkpoint(pickle, [Pth.Floats(0, 1, 2, 3, 4, 5, 6, 7)])).Message);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("0/../1")]
    [InlineData("")]
    public void Storage_keys_that_are_not_plain_names_are_refused(string key)
    {
        var pickle = PickleWriter.Dict(p => p.Str("w").Tensor(key, 8, 0, [2], [1]));
        Assert.Contains("not a plain name", Pth.Refused(Pth.Checkpoint(pickle, [Pth.Floats(0, 1, 2, 3, 4, 5, 6, 7)])).Message);
    }

    [Theory]
    [InlineData("other/evil.txt", "outside the checkpoint's folder")]
    [InlineData("evil.txt", "outside the checkpoint's folder")]
    [InlineData("archive/../evil", "path traversal")]
    [InlineData("/etc/passwd", "path traversal")]
    [InlineData("archive\\..\\evil", "path traversal")]
    [InlineData("other/data.pkl", "2 data.pkl files")]
    [InlineData("archive/data/0", "occurs twice")]
    public void Zip_entries_outside_the_top_folder_or_traversing_paths_are_refused(string entry, string expected)
    {
        var file = Pth.Checkpoint(PickleWriter.Dict(p => p.Str("w").Tensor("0", 2, 0, [2], [1])), [Pth.Floats(1, 2)], "archive", (entry, [1, 2, 3]));
        Assert.Contains(expected, Pth.Refused(file).Message);
    }

    [Fact]
    public void Every_truncation_of_a_checkpoint_is_refused()
    {
        var valid = Pth.Valid();
        for (int n = 0; n < valid.Length; n++)
        {
            using var f = TempFile.With(valid[..n]);
            var e = Assert.ThrowsAny<SafeTensorsException>(() =>
            {
                using var w = Weights.Load(f.Path);
                foreach (var k in w.Keys) w.Get(k, w.Get(k, [0]).Shape);
            });
            Assert.Contains(f.Path, e.Message);
        }
    }

    [Fact]
    public void A_truncated_pickle_and_other_broken_structure_are_refused()
    {
        var pickle = PickleWriter.Dict(p => p.Str("w").Tensor("0", 2, 0, [2], [1]));
        Assert.Contains("without a STOP", Pth.Refused(Pth.Checkpoint(pickle[..^1], [Pth.Floats(1, 2)])).Message);
        Assert.Contains("has no name line", Pth.Refused(Pth.Checkpoint(pickle[..20], [Pth.Floats(1, 2)])).Message);
        Assert.Contains("past its end", Pth.Refused(Pth.Checkpoint(pickle[..8], [Pth.Floats(1, 2)])).Message);
        Assert.Contains("has no entry", Pth.Refused(Pth.Checkpoint(pickle, [])).Message);
        Assert.Contains("no '<folder>/data.pkl'", Pth.Refused(Pth.Zip([("archive/data/0", Pth.Floats(1, 2))])).Message);
        Assert.Contains("only little-endian", Pth.Refused(Pth.Checkpoint(pickle, [Pth.Floats(1, 2)], "archive", ("archive/byteorder", "big"u8.ToArray()))).Message);
        Assert.Contains("single tensor", Pth.Refused(Pth.Checkpoint(new PickleWriter().Op(0x80, 2).Tensor("0", 2, 0, [2], [1]).Op('.').Bytes, [Pth.Floats(1, 2)])).Message);
        Assert.Contains("memo entry 7", Pth.Refused(Pth.Checkpoint(PickleWriter.Dict(p => p.Str("w").Op('h', 7)), [])).Message);
        Assert.Contains("larger than 64 bits", Pth.Refused(Pth.Checkpoint(PickleWriter.Dict(p => p.Str("w").Op(0x8a, 9).Op(new byte[9])), [])).Message);
        Assert.Contains("UTF-8", Pth.Refused(Pth.Checkpoint(PickleWriter.Dict(p => p.Op(0x8c, 2, 0xc3, 0x28).Int(1)), [])).Message);
        Assert.Contains("runs past its end", Pth.Refused(Pth.Checkpoint(PickleWriter.Dict(p => p.Op('X', 0xff, 0xff, 0xff, 0x7f)), [])).Message);
    }

    [Fact]
    public void Deflated_entries_and_a_top_folder_named_after_the_file_read_the_same()
    {
        var entries = new[] { ("resnet18/data.pkl", PickleWriter.Dict(p => p.Str("w").Tensor("0", 3, 1, [2], [1]))), ("resnet18/data/0", Pth.Floats(1, 2, 3)) };
        using var f = TempFile.With(Pth.Zip(entries, CompressionLevel.Optimal));
        using var w = Weights.Load(f.Path);
        Assert.Equal([2f, 3f], w.Get("w", [2]).ToArray());
    }
}
