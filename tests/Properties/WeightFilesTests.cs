namespace Functional.Properties;

/// <summary>A fresh folder under the temp directory, deleted with its contents on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"functional-test-{Guid.NewGuid():N}")).FullName;

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Paths as users have them: symbolic links, a file of another kind, directories and sharded safetensors.</summary>
public class WeightFilesTests
{
    private static void Write(string path, params (string Name, float[] Values)[] tensors) =>
        SafeTensors.Write(path, tensors.Select(t => KeyValuePair.Create(t.Name, Tensor.FromArray(t.Values, [t.Values.Length]))));

    [Fact]
    public void Symbolic_links_relative_and_chained_are_followed_as_in_the_hugging_face_cache()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir["blobs"]);
        Directory.CreateDirectory(dir["snapshots"]);
        Write(dir["blobs/abc123"], ("fc.weight", [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f]));
        File.CreateSymbolicLink(dir["snapshots/model.safetensors"], "../blobs/abc123"); // relative, as the hub writes it
        File.CreateSymbolicLink(dir["chain.safetensors"], "snapshots/model.safetensors");

        foreach (var link in new[] { dir["snapshots/model.safetensors"], dir["chain.safetensors"] })
        {
            using var st = SafeTensors.Open(link);
            Assert.Equal(12f, st.ReadFloat("fc.weight").Span[11]);
            using var w = Weights.Load(link);
            Assert.Equal(["fc.weight"], w.Keys);
        }

        File.CreateSymbolicLink(dir["broken.safetensors"], "blobs/missing");
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(dir["broken.safetensors"]));
        Assert.Contains("symbolic link", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Files_of_other_kinds_are_named_instead_of_misread()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir["config.json"], "{\"hidden_size\": 768, \"num_layers\": 12}");
        File.WriteAllBytes(dir["archive.zip"], [(byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0, 8, 0, 0, 0]);
        File.WriteAllBytes(dir["old.pth"], [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]);

        Assert.Contains("a JSON file", Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(dir["config.json"])).Message);
        Assert.Contains("a JSON file", Assert.Throws<SafeTensorsException>(() => Weights.Load(dir["config.json"])).Message);
        Assert.Contains("a zip archive (a PyTorch checkpoint?", Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(dir["archive.zip"])).Message);
        Assert.Contains("legacy torch.save format", Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(dir["old.pth"])).Message);
        Assert.Contains("legacy torch.save format", Assert.Throws<PyTorchCheckpointException>(() => Weights.Load(dir["old.pth"])).Message);
        Assert.Contains("is a directory", Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(dir.Path)).Message);
        var e = Assert.Throws<SafeTensorsException>(() => Weights.Load(dir.Path));
        Assert.Contains("no *.index.json", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    /// <summary>Two shards and their index, as transformers' save_pretrained writes them.</summary>
    private static void WriteShards(TempFolder dir, string weightMap)
    {
        Write(dir["model-00001-of-00002.safetensors"], ("embed.weight", [1f, 2f]), ("layers.0.weight", [3f]));
        Write(dir["model-00002-of-00002.safetensors"], ("layers.1.weight", [4f]), ("head.weight", [5f, 6f]));
        File.WriteAllText(dir["model.safetensors.index.json"], "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {" + weightMap + "}}");
    }

    private const string GoodMap =
        "\"embed.weight\": \"model-00001-of-00002.safetensors\", \"layers.0.weight\": \"model-00001-of-00002.safetensors\", "
        + "\"layers.1.weight\": \"model-00002-of-00002.safetensors\", \"head.weight\": \"model-00002-of-00002.safetensors\"";

    [Fact]
    public void A_sharded_model_opens_by_its_index_or_its_folder_as_one_scope()
    {
        using var dir = new TempFolder();
        WriteShards(dir, GoodMap);
        foreach (var path in new[] { dir["model.safetensors.index.json"], dir.Path })
        {
            using var w = Weights.Load(path);
            Assert.Equal(["embed.weight", "head.weight", "layers.0.weight", "layers.1.weight"], w.Keys.Order());
            Assert.Equal([4f], w.At("layers").At("1").Get("weight", [1]).ToArray());
            Assert.Equal([5f, 6f], w.Get("head.weight", [2]).ToArray());
        }
    }

    [Theory]
    [InlineData("\"embed.weight\": \"model-00002-of-00002.safetensors\"", "which does not hold it")]
    [InlineData("\"embed.weight\": \"model-00001-of-00002.safetensors\"", "which the index does not list")]
    [InlineData("\"embed.weight\": \"model-00001-of-00002.safetensors\", \"embed.weight\": \"model-00001-of-00002.safetensors\"", "appears twice")]
    [InlineData("\"embed.weight\": \"../model-00001-of-00002.safetensors\"", "not a file name beside the index")]
    [InlineData("\"embed.weight\": \"/etc/passwd\"", "not a file name beside the index")]
    [InlineData("\"embed.weight\": 3", "not a file name")]
    public void Shard_indexes_that_disagree_with_their_shards_are_refused(string weightMap, string expected)
    {
        using var dir = new TempFolder();
        WriteShards(dir, weightMap);
        var e = Assert.Throws<SafeTensorsException>(() => Weights.Load(dir["model.safetensors.index.json"]));
        Assert.Contains(expected, e.Message);
        Assert.Contains("model.safetensors.index.json", e.Message);
    }

    [Fact]
    public void A_shard_mapped_to_the_wrong_file_is_refused()
    {
        using var dir = new TempFolder();
        WriteShards(dir, GoodMap.Replace("\"head.weight\": \"model-00002", "\"head.weight\": \"model-00001"));
        var e = Assert.Throws<SafeTensorsException>(() => Weights.Load(dir.Path));
        Assert.Contains("head.weight", e.Message);
    }

    [Fact]
    public void Subset_makes_a_root_of_the_keys_under_a_prefix()
    {
        using var f = new TempFile();
        Write(f.Path, ("model.fc.weight", [1f, 2f]), ("model.fc.bias", [3f]), ("ema.fc.weight", [0f, 0f]));
        using var w = Weights.Load(f.Path).Subset("model");
        Assert.Equal(["fc.bias", "fc.weight"], w.Keys.Order());
        Assert.Equal([1f, 2f], w.At("fc").Get("weight", [2]).ToArray());
        Assert.Equal(["fc.bias"], w.UnusedKeys());
        var e = Assert.Throws<KeyNotFoundException>(() => Weights.Load(f.Path).Subset("module"));
        Assert.Contains("model, ema", e.Message);
    }
}
