using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>Scoped weight lookup: dotted keys, shape checks, used-key tracking, files and seeded random weights.</summary>
public class WeightsTests
{
    private static Dictionary<string, Tensor> Sample() => new()
    {
        ["features.0.weight"] = Tensor.Arange(6).Reshape(2, 3),
        ["features.0.bias"] = Tensor.FromArray(1f, 2f),
        ["classifier.weight"] = Tensor.Ones([4, 2]),
        ["scale"] = Tensor.Scalar(3f),
    };

    [Fact]
    public void Scopes_build_dotted_keys()
    {
        using var w = Weights.FromTensors(Sample());
        Assert.Equal("", w.Prefix);
        var conv = w.At("features").At("0");
        Assert.Equal("features.0", conv.Prefix);
        Assert.Equal("features.0", w["features.0"].Prefix);
        Assert.Equal(Sample()["features.0.weight"].ToArray(), conv.Get("weight", [2, 3]).ToArray());
        Assert.Equal(Sample()["features.0.bias"].ToArray(), w["features.0"].Get("bias", [2]).ToArray());
        Assert.Equal(Sample()["features.0.bias"].ToArray(), w["features"]["0"].Get("bias", [2]).ToArray());
        Assert.Equal(3f, w.Get("scale", Shape.Scalar).ToScalar());
        Assert.True(conv.Contains("weight"));
        Assert.False(conv.Contains("scale"));
        Assert.True(w.Contains("scale"));
        Assert.Throws<ArgumentException>(() => w.At(""));
    }

    [Property]
    public Property Scoping_then_getting_equals_getting_the_full_key() =>
        Prop.ForAll(Gen.Elements("a", "b.c", "layer1", "0", "running_mean").ArrayOf().Where(p => p.Length > 0).ToArbitrary(), parts =>
        {
            string key = string.Join(".", parts);
            var t = Tensor.FromArray(parts.Length, 2f);
            using var w = Weights.FromTensors(new Dictionary<string, Tensor> { [key] = t });
            var scope = parts[..^1].Aggregate(w, (s, p) => s.At(p));
            Assert.Equal(string.Join(".", parts[..^1]), scope.Prefix);
            Assert.Same(t, scope.Get(parts[^1], [2]));
            Assert.Equal(t.ToArray(), w.Get(key, [2]).ToArray());
        });

    [Fact]
    public void Wrong_shape_names_the_full_key_and_both_shapes()
    {
        using var w = Weights.FromTensors(Sample());
        var e = Assert.Throws<ShapeException>(() => w.At("features").At("0").Get("weight", [3, 2]));
        Assert.Contains("features.0.weight", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        // A failed fetch does not count as a use.
        Assert.Contains("features.0.weight", w.UnusedKeys());
    }

    [Fact]
    public void Missing_key_names_the_key_and_suggests_keys_with_the_same_last_name()
    {
        using var w = Weights.FromTensors(Sample());
        var e = Assert.Throws<KeyNotFoundException>(() => w.At("features").At("1").Get("weight", [2, 3]));
        Assert.Contains("features.1.weight", e.Message);
        Assert.Contains("features.0.weight", e.Message);
        Assert.Contains("classifier.weight", e.Message);
    }

    [Property]
    public Property UnusedKeys_is_exactly_the_keys_not_fetched() =>
        Prop.ForAll(Gen.Choose(1, 12).SelectMany(n => Gen.Elements(true, false).ArrayOf(n)).ToArbitrary(), fetch =>
        {
            var keys = fetch.Select((_, i) => $"block{i % 3}.{i}.weight").ToList();
            using var w = Weights.FromTensors(keys.ToDictionary(k => k, k => Tensor.Zeros([1])));
            var fetched = keys.Where((_, i) => fetch[i]).ToList();
            // Fetch through scopes, some twice.
            foreach (var k in fetched.Concat(fetched.Take(2)))
            {
                var parts = k.Split('.');
                w.At(parts[0]).At(parts[1]).Get(parts[2], [1]);
            }
            Assert.Equal(keys.Except(fetched).Order(), w.UnusedKeys().Order());
            Assert.Equal(fetched.Order(), w.UsedKeys.Order());
            Assert.Equal(keys.Order(), w.Keys.Order());
            // Scopes share one record.
            Assert.Equal(w.UnusedKeys().Order(), w.At("block0").UnusedKeys().Order());
        });

    [Property(MaxTest = 30)]
    public Property Load_reads_files_and_tracks_keys_across_them() =>
        Prop.ForAll(Gen.Zip(Generators.Tensors(Generators.Shapes(0, 3, 3)), Generators.Tensors(Generators.Shapes(0, 3, 3))).ToArbitrary(), t =>
        {
            var (a, b) = t;
            using var f1 = new TempFile();
            using var f2 = new TempFile();
            SafeTensors.Write(f1.Path, [KeyValuePair.Create("enc.weight", a)]);
            SafeTensors.Write(f2.Path, [KeyValuePair.Create("dec.weight", b), KeyValuePair.Create("dec.bias", Tensor.Zeros([2]))]);
            using var w = Weights.Load(f1.Path, f2.Path);
            Assert.Equal(new[] { "dec.bias", "dec.weight", "enc.weight" }, w.Keys.Order());
            Assert.Equal(a.ToArray(), w.At("enc").Get("weight", a.Shape).ToArray());
            Assert.Equal(b.ToArray(), w["dec"].Get("weight", b.Shape).ToArray());
            Assert.Equal(["dec.bias"], w.UnusedKeys());

            var e = Assert.Throws<ShapeException>(() => w.At("enc").Get("weight", a.Shape.Concat([7])));
            Assert.Contains("enc.weight", e.Message);
            Assert.Contains(f1.Path, e.Message);
            var missing = Assert.Throws<KeyNotFoundException>(() => w.Get("enc.bias", [2]));
            Assert.Contains("enc.bias", missing.Message);
            Assert.Contains(f1.Path, missing.Message);
        });

    [Fact]
    public void Load_of_two_files_with_the_same_key_names_both()
    {
        using var f1 = new TempFile();
        using var f2 = new TempFile();
        SafeTensors.Write(f1.Path, [KeyValuePair.Create("shared.weight", Tensor.Zeros([2])), KeyValuePair.Create("only1", Tensor.Zeros([1]))]);
        SafeTensors.Write(f2.Path, [KeyValuePair.Create("shared.weight", Tensor.Ones([2]))]);
        var e = Assert.Throws<SafeTensorsException>(() => Weights.Load(f1.Path, f2.Path));
        Assert.Contains("shared.weight", e.Message);
        Assert.Contains(f1.Path, e.Message);
        Assert.Contains(f2.Path, e.Message);
    }

    [Fact]
    public void Load_of_a_bad_file_is_a_SafeTensorsException_naming_it()
    {
        using var good = new TempFile();
        SafeTensors.Write(good.Path, [KeyValuePair.Create("w", Tensor.Zeros([1]))]);
        using var bad = TempFile.With([1, 2, 3]);
        var e = Assert.Throws<SafeTensorsException>(() => Weights.Load(good.Path, bad.Path));
        Assert.Contains(bad.Path, e.Message);
    }

    [Fact]
    public void Other_dtypes_are_read_as_float32()
    {
        using var f = new TempFile();
        SafeTensors.Write(f.Path, [KeyValuePair.Create("n", RawTensor.FromInt64([3, -4, 5], [3]))]);
        using var w = Weights.Load(f.Path);
        Assert.Equal([3f, -4f, 5f], w.Get("n", [3]).ToArray());
    }

    private static readonly Gen<string[]> KeySets =
        Gen.Choose(1, 6).SelectMany(n => Gen.Shuffle(Enumerable.Range(0, 8).Select(i => $"layer{i}.weight").ToArray()).Select(k => k[..n]));

    [Property]
    public Property Random_weights_depend_on_seed_and_key_only() =>
        Prop.ForAll(Gen.Zip(Gen.Choose(int.MinValue, int.MaxValue), KeySets).ToArbitrary(), t =>
        {
            var (seed, keys) = t;
            var init = new WeightInit.Uniform(0.25);
            Shape shape = [3, 5];
            using var first = Weights.Random(seed);
            using var second = Weights.Random(seed);
            var a = keys.ToDictionary(k => k, k => first.Get(k, shape, init).ToArray());
            var b = Enumerable.Reverse(keys).ToDictionary(k => k, k => second.Get(k, shape, init).ToArray());
            foreach (var k in keys)
            {
                Assert.Equal(a[k], b[k]);
                Assert.All(a[k], v => Assert.InRange(v, -0.25f, 0.25f));
            }
            // Scoped fetches are the same key.
            Assert.Equal(a[keys[0]], second.At(keys[0].Split('.')[0]).Get("weight", shape, init).ToArray());
            // Different keys and different seeds give different tensors.
            if (keys.Length > 1) Assert.NotEqual(a[keys[0]], a[keys[1]]);
            using var other = Weights.Random(seed + 1);
            Assert.NotEqual(a[keys[0]], other.Get(keys[0], shape, init).ToArray());
            Assert.Equal(keys.Order(), first.Keys.Order());
            Assert.Empty(first.UnusedKeys());
        });

    [Fact]
    public void Random_weights_honour_the_initialisation()
    {
        using var w = Weights.Random(1);
        Assert.True(w.Contains("anything.at.all"));
        Assert.All(w.Get("norm.weight", [8], new WeightInit.Constant(1)).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(w.Get("norm.bias", [8]).ToArray(), v => Assert.Equal(0f, v));
        var big = w.Get("conv.weight", [4000], WeightInit.FanIn(9)).ToArray();
        Assert.All(big, v => Assert.InRange(v, -1f / 3, 1f / 3));
        Assert.True(big.Max() > 0.3f && big.Min() < -0.3f, "the uniform range is used, not a narrower one");
        Assert.Equal(new WeightInit.Uniform(0.5), WeightInit.FanIn(4));
        Assert.Equal(new WeightInit.Uniform(0), WeightInit.FanIn(0));
    }
}
