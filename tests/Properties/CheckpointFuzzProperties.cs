using System.IO.Compression;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>
/// Mutated PyTorch checkpoints: whatever the damage, loading and reading every tensor either
/// succeeds with the declared shapes or throws the library's own exception, never another.
/// </summary>
public class CheckpointFuzzProperties
{
    /// <summary>One edit: flip a bit, overwrite a byte, cut the tail, or insert a byte (positions taken modulo the length).</summary>
    public sealed record Edit(int Kind, int Position, byte Value)
    {
        public byte[] Apply(byte[] b)
        {
            if (b.Length == 0) return b;
            int at = Position % b.Length;
            var r = b.ToList();
            switch (Kind)
            {
                case 0: r[at] ^= (byte)(1 << (Value % 8)); break;
                case 1: r[at] = Value; break;
                case 2: r.RemoveRange(at, r.Count - at); break;
                default: r.Insert(at, Value); break;
            }
            return r.ToArray();
        }
    }

    private static readonly Gen<Edit[]> Edits =
        (from kind in Gen.Frequency((4, Gen.Constant(0)), (3, Gen.Constant(1)), (1, Gen.Constant(2)), (2, Gen.Constant(3)))
         from pos in Gen.Choose(0, int.MaxValue)
         from value in Gen.Choose(0, 255)
         select new Edit(kind, pos, (byte)value)).ArrayOf().Where(a => a.Length is > 0 and <= 6);

    // Opcodes a state_dict uses, so that inserted and overwritten bytes often make pickles that parse further.
    private static readonly byte[] OpcodeAlphabet = "(.NJKMXqhrjtu}]a)Rbce\u0085\u0086\u0087\u0088\u0089\u008aQ"u8.ToArray();

    private static readonly Gen<Edit[]> PickleEdits =
        (from kind in Gen.Choose(0, 3)
         from pos in Gen.Choose(0, int.MaxValue)
         from value in Gen.OneOf(Gen.Elements(OpcodeAlphabet), Gen.Choose(0, 255).Select(v => (byte)v))
         select new Edit(kind, pos, value)).ArrayOf().Where(a => a.Length is > 0 and <= 4);

    private static readonly byte[] Pickle = PickleWriter.Dict(p =>
    {
        p.Str("layer.weight").Tensor("0", 12, 0, [3, 4], [4, 1]);
        p.Str("layer.weight_t").Tensor("0", 12, 0, [4, 3], [1, 4]);
        p.Str("half").Tensor("1", 4, 1, [3], [1], "HalfStorage");
        p.Str("nested").Op('}').Op('(').Str("n").Op('K', 7).Str("ids").Tensor("2", 2, 0, [2], [1], "LongStorage").Op('u');
    });

    private static readonly byte[][] Storages =
        [Pth.Floats(Enumerable.Range(0, 12).Select(i => (float)i).ToArray()), new byte[8], BitConverter.GetBytes(5L).Concat(BitConverter.GetBytes(-6L)).ToArray()];

    private static void LoadAndReadAll(byte[] file, string replay)
    {
        using var f = TempFile.With(file);
        try
        {
            using var w = Weights.Load(f.Path);
            foreach (var k in w.Keys)
            {
                using var c = PyTorchCheckpoint.Open(f.Path);
                var (_, shape) = c.Describe(k);
                Assert.Equal(shape, w.Get(k, shape).Shape);
            }
        }
        catch (SafeTensorsException) { }
        catch (Exception e)
        {
            Assert.Fail($"{e.GetType().Name} escaped for {replay}: {e}");
        }
    }

    [Property(MaxTest = 1000)]
    public Property Mutated_archives_fail_only_with_library_exceptions() =>
        Prop.ForAll(Gen.Zip(Gen.Elements(CompressionLevel.NoCompression, CompressionLevel.Optimal), Edits).ToArbitrary(), t =>
        {
            var (level, edits) = t;
            var valid = Pth.Zip(new[] { ("archive/data.pkl", Pickle) }.Concat(Storages.Select((b, i) => ($"archive/data/{i}", b))), level);
            LoadAndReadAll(edits.Aggregate(valid, (b, e) => e.Apply(b)), $"{level} archive with edits {string.Join(", ", edits.AsEnumerable())}");
        });

    [Property(MaxTest = 1000)]
    public Property Mutated_pickles_in_a_valid_archive_fail_only_with_library_exceptions() =>
        Prop.ForAll(PickleEdits.ToArbitrary(), edits =>
            LoadAndReadAll(Pth.Checkpoint(edits.Aggregate(Pickle, (b, e) => e.Apply(b)), Storages), $"pickle edits {string.Join(", ", edits.AsEnumerable())}"));

    [Fact]
    public void The_unmutated_fuzz_seed_loads()
    {
        using var f = TempFile.With(Pth.Checkpoint(Pickle, Storages));
        using var w = Weights.Load(f.Path);
        Assert.Equal(["half", "layer.weight", "layer.weight_t", "nested.ids"], w.Keys.Order());
        Assert.Equal([5f, -6f], w.Get("nested.ids", [2]).ToArray());
        Assert.Equal([0f, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], w.Get("layer.weight_t", [4, 3]).ToArray());
    }
}
