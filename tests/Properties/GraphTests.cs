using System.Text.Json;

namespace Functional.Properties;

/// <summary>
/// Traced graphs: every malformed node fails at load with a <see cref="ModuleDescriptionException"/>
/// naming the node and the module; functions, parameters read in forward, tuple and dict outputs;
/// and the lifetime of intermediates (freed after their last reader, never the input, a parameter
/// or a returned value).
/// </summary>
public class GraphTests
{
    private static string Node(string op, string name, string target, string args = "", string kwargs = "") =>
        $"{{\"op\": \"{op}\", \"name\": \"{name}\", \"target\": \"{target}\", \"args\": [{args}], \"kwargs\": {{{kwargs}}}}}";

    private static string Input => Node("placeholder", "x", "x");

    private static string Output(string args) => Node("output", "output", "output", args);

    /// <summary>A traced module "Net" with a ReLU child "act", a tensor "scale" [4] and the given nodes.</summary>
    private static string Traced(params string[] nodes) =>
        $"{{\"type\": \"Net\", \"children\": {{\"act\": {{\"type\": \"ReLU\"}}}}, \"graph\": [{string.Join(", ", nodes)}]}}";

    private static readonly Tensor Scale = Tensor.FromArray(0.5f, 1f, 2f, 3f);

    private static Weights NetWeights() => Weights.FromTensors(new Dictionary<string, Tensor> { ["scale"] = Scale });

    private static Layer Build(string json) => ModuleDescription.Build(json, NetWeights());

    private static string X => "{\"node\": \"x\"}";

    public static TheoryData<string, string, string> Malformed => new()
    {
        // description, the node the message must name, a phrase it must contain
        { Traced(Input, Node("call_module", "a", "act"), Output("{\"node\": \"a\"}")), "a", "one tensor argument" },
        { Traced(Input, Node("call_module", "a", "act", X), Output("null")), "output", "must return a tensor" },
        { Traced(Input, Node("call_module", "a", "act", X), Output("\"x\"")), "output", "must return a tensor" },
        { Traced(Input, Node("call_module", "a", "act", "{\"node\": 5}"), Output("{\"node\": \"a\"}")), "a", "unsupported argument" },
        { Traced(Input, "{\"op\": \"call_function\", \"name\": \"f\", \"target\": 7, \"args\": [], \"kwargs\": {}}", Output(X)), "f", "'target' must be a string" },
        { Traced(Input, Node("call_function", "c", "torch.cat", X), Output("{\"node\": \"c\"}")), "c", "argument 'tensors'" },
        { Traced(Input, Node("call_function", "f", "torch.flatten", $"{X}, \"a\""), Output("{\"node\": \"f\"}")), "f", "argument 'start_dim'" },
        { Traced(Input, Node("call_function", "m", "_operator.mul", $"{X}, \"x\""), Output("{\"node\": \"m\"}")), "m", "argument 'other'" },
        { Traced(Input, Node("call_function", "r", "torch.relu"), Output("{\"node\": \"r\"}")), "r", "missing required argument 'input'" },
        { Traced(Input, Node("call_function", "r", "torch.relu", $"{X}, {X}, {X}"), Output("{\"node\": \"r\"}")), "r", "at most 2 positional" },
        { Traced(Input, Node("call_function", "r", "torch.relu", X, "\"bogus\": 1"), Output("{\"node\": \"r\"}")), "r", "unexpected keyword argument 'bogus'" },
        { Traced(Input, Node("call_function", "r", "torch.frobnicate", X), Output("{\"node\": \"r\"}")), "r", "'torch.frobnicate' is not supported" },
        { Traced(Input, Node("call_method", "r", "frobnicate", X), Output("{\"node\": \"r\"}")), "r", "method 'frobnicate' is not supported" },
        { Traced(Input, Node("call_magic", "r", "torch.relu", X), Output("{\"node\": \"r\"}")), "r", "unsupported op 'call_magic'" },
        { Traced(Input, Node("call_module", "a", "act", "{\"node\": \"b\"}"), Output("{\"node\": \"a\"}")), "a", "before it is computed" },
        { Traced(Input, Node("call_module", "x", "act", X), Output(X)), "x", "comes earlier" },
        { Traced(Input, Node("call_module", "", "act", X), Output(X)), "", "non-empty" },
        { Traced(Input, Node("call_module", "a", "missing", X), Output("{\"node\": \"a\"}")), "a", "not a child" },
        { Traced(Input, Node("get_attr", "w", "nope"), Output("{\"node\": \"w\"}")), "w", "missing" },
        { Traced(Input, Output(X), Node("call_module", "a", "act", X)), "output", "must be the last node" },
        { Traced(Input, Node("placeholder", "y", "y"), Output(X)), "y", "exactly one input" },
        { Traced(Node("call_module", "a", "act", X), Output(X)), "a", "before it is computed" },
        { Traced(Input), "", "output node" },
        { Traced(Input, Node("call_function", "p", "torch.nn.functional.max_pool2d", $"{X}, 2", "\"return_indices\": true"), Output("{\"node\": \"p\"}")), "p", "return_indices" },
        { Traced(Input, Node("call_function", "d", "torch.nn.functional.dropout", X, "\"training\": true"), Output("{\"node\": \"d\"}")), "d", "training" },
        { Traced(Input, Node("call_function", "g", "getattr", $"{X}, \"dtype\""), Output(X)), "g", "only 'shape'" },
        { Traced(Input, Node("call_function", "s", "_operator.getitem", $"{X}, {{\"slice\": [1]}}"), Output(X)), "s", "unsupported argument" },
        { Traced(Input, Node("call_function", "s", "torch.cat", $"[{X}, 3]"), Output("{\"node\": \"s\"}")), "s", "argument 'tensors'" },
        { Traced(Input, Node("call_function", "n", "Tensor.size", X), Node("call_module", "a", "act", "{\"node\": \"n\"}"), Output("{\"node\": \"a\"}")), "a", "argument 'input'" },
        { Traced(Input, Node("call_function", "v", "torch.nn.functional.gelu", X, "\"approximate\": \"fast\""), Output("{\"node\": \"v\"}")), "v", "approximate" },
        { Traced(Input, "[1, 2]", Output(X)), "", "must be a JSON object" },
        { Traced(Input, "{\"op\": \"call_module\", \"name\": \"a\", \"target\": \"act\", \"args\": 3}", Output(X)), "a", "'args' must be an array" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_graph_fails_at_load_naming_the_module_and_the_node(string json, string node, string phrase)
    {
        var e = Assert.Throws<ModuleDescriptionException>(() => Build(json));
        Assert.Contains("Net", e.Message);
        if (node.Length > 0) Assert.Contains($"'{node}'", e.Message);
        Assert.Contains(phrase, e.Message);
    }

    [Fact]
    public void Mutated_graph_arguments_fail_only_with_the_library_s_exceptions()
    {
        // Every node argument of a graph using many functions replaced by values of other kinds:
        // each outcome is a success or one of the library's own exceptions, at load or when run.
        string[] nodes =
        [
            Input,
            Node("get_attr", "w", "scale"),
            Node("call_method", "size", "size", $"{X}, 0"),
            Node("call_method", "view", "view", $"{X}, {{\"node\": \"size\"}}, -1"),
            Node("call_function", "mul", "_operator.mul", "{\"node\": \"view\"}, {\"node\": \"w\"}"),
            Node("call_function", "chunk", "torch.chunk", "{\"node\": \"mul\"}, 2, 1"),
            Node("call_function", "first", "_operator.getitem", "{\"node\": \"chunk\"}, 0"),
            Node("call_function", "sl", "_operator.getitem", "{\"node\": \"first\"}, [{\"slice\": [null, null, null]}, {\"slice\": [0, 1, null]}]"),
            Node("call_method", "mean", "mean", "{\"node\": \"sl\"}, [1]", "\"keepdim\": true"),
            Output("[{\"node\": \"mean\"}, {\"node\": \"size\"}]"),
        ];
        var ok = Build(Traced(nodes));
        var x = Tensor.RandomNormal([2, 4], 0);
        Assert.Equal(new Shape(2, 1), ok.OutputShape(x.Shape));
        Assert.Equal(new Shape(2, 1), ok.Forward(x).Shape);

        object?[] replacements = [null, "x", 5, -1, 1.5, true, new[] { 1, 2 }, new object[] { "a" }, new { node = "size" }, new { node = "w" }, new { node = "x" },
            new { slice = new object?[] { null, 1, null } }, new { ellipsis = true }, new Dictionary<string, object> { ["dict"] = new { a = 1 } }];
        int runs = 0;
        for (int i = 1; i < nodes.Length; i++)
        {
            using var doc = JsonDocument.Parse(nodes[i]);
            int argCount = doc.RootElement.GetProperty("args").GetArrayLength();
            for (int a = 0; a < argCount; a++)
                foreach (var r in replacements)
                {
                    var args = doc.RootElement.GetProperty("args").EnumerateArray().Select(e => (object?)JsonSerializer.Deserialize<JsonElement>(e.GetRawText())).ToArray();
                    args[a] = r;
                    var node = new Dictionary<string, object?>
                    {
                        ["op"] = doc.RootElement.GetProperty("op").GetString(),
                        ["name"] = doc.RootElement.GetProperty("name").GetString(),
                        ["target"] = doc.RootElement.GetProperty("target").GetString(),
                        ["args"] = args,
                        ["kwargs"] = JsonSerializer.Deserialize<JsonElement>(doc.RootElement.GetProperty("kwargs").GetRawText()),
                    };
                    var mutated = nodes.ToArray();
                    mutated[i] = JsonSerializer.Serialize(node);
                    try
                    {
                        var model = Build(Traced(mutated));
                        model.OutputShape(x.Shape);
                        model.Forward(x);
                    }
                    catch (Exception e) when (e is ModuleDescriptionException or ShapeException) { }
                    runs++;
                }
        }
        Assert.True(runs > 100, $"{runs} mutations");
    }

    [Fact]
    public void Parameters_read_in_forward_are_tensors_of_the_file_and_listed_under_their_names()
    {
        var model = Build(Traced(Input, Node("get_attr", "w", "scale"), Node("call_function", "m", "_operator.mul", $"{X}, {{\"node\": \"w\"}}"),
            Node("call_module", "a", "act", "{\"node\": \"m\"}"), Output("{\"node\": \"a\"}")));
        Assert.Contains(model.Parameters(), p => p.Name == "scale" && ReferenceEquals(p.Value, Scale));
        var y = model.Forward(Tensor.FromArray([-1f, 1f, 1f, 1f], [1, 4]));
        Assert.Equal([0f, 1f, 2f, 3f], y.ToArray());
        Assert.False(Scale.IsDisposed);
    }

    [Fact]
    public void A_dict_output_forwards_its_first_entry_and_names_all()
    {
        var model = (Module)Build(Traced(Input, Node("call_module", "a", "act", X), Node("call_function", "n", "_operator.neg", "{\"node\": \"a\"}"),
            Output("{\"dict\": {\"out\": {\"node\": \"n\"}, \"aux\": {\"node\": \"a\"}}}")));
        var x = Tensor.FromArray([-1f, 2f], [1, 2]);
        Assert.Equal([-0f, -2f], model.Forward(x).ToArray());
        Assert.Equal(new Shape(1, 2), model.OutputShape(x.Shape));
        var all = model.ForwardOutputs(x);
        Assert.Equal(["out", "aux"], all.Select(o => o.Name));
        Assert.Equal([0f, 2f], all[1].Value.ToArray());
    }

    [Fact]
    public void Shape_arithmetic_view_permute_chunk_and_indexing_compute_as_the_tensor_functions()
    {
        // y = x.view(x.size(0), x.shape[1] // 2, -1).permute(0, 2, 1); a, b = y.chunk(2, -1); (a * 0.5 - b)[..., None, 1:]
        var model = Build(Traced(Input,
            Node("call_method", "n", "size", $"{X}, 0"),
            Node("call_function", "shape", "getattr", $"{X}, \"shape\""),
            Node("call_function", "c", "_operator.getitem", "{\"node\": \"shape\"}, 1"),
            Node("call_function", "half", "_operator.floordiv", "{\"node\": \"c\"}, 2"),
            Node("call_method", "v", "view", $"{X}, {{\"node\": \"n\"}}, {{\"node\": \"half\"}}, -1"),
            Node("call_method", "p", "permute", "{\"node\": \"v\"}, 0, 2, 1"),
            Node("call_method", "ch", "chunk", "{\"node\": \"p\"}, 2", "\"dim\": -1"),
            Node("call_function", "a", "_operator.getitem", "{\"node\": \"ch\"}, 0"),
            Node("call_function", "b", "_operator.getitem", "{\"node\": \"ch\"}, 1"),
            Node("call_function", "s", "_operator.mul", "{\"node\": \"a\"}, 0.5"),
            Node("call_function", "d", "_operator.sub", "{\"node\": \"s\"}, {\"node\": \"b\"}"),
            Node("call_function", "i", "_operator.getitem", "{\"node\": \"d\"}, [{\"ellipsis\": true}, null, {\"slice\": [1, null, null]}]"),
            Output("{\"node\": \"i\"}")));
        var x = Tensor.RandomNormal([2, 4, 3], 5);
        var y = x.Reshape(2, 2, -1).Permute(0, 2, 1);
        var parts = y.SplitBySizes([1, 1], -1);
        var expected = TensorOps.Subtract(parts[0].Multiply(0.5f), parts[1]).Index(new IndexItem.Ellipsis(), new IndexItem.NewAxis(), new IndexItem.Slice(1, null, null));
        Assert.Equal(new Shape(2, 6, 1, 0), expected.Shape);
        Assert.Equal(expected.Shape, model.OutputShape(x.Shape));
        Assert.Equal(expected.ToArray(), model.Forward(x).ToArray());
    }

    [Fact]
    public void Intermediates_are_freed_after_their_last_reader_but_never_the_input_a_parameter_or_the_output()
    {
        var big = Tensor.RandomNormal([1, 4, 64, 64], 3);
        var weights = Weights.FromTensors(new Dictionary<string, Tensor> { ["scale"] = big });
        var model = ModuleDescription.Build(Traced(Input, Node("get_attr", "w", "scale"),
            Node("call_module", "a", "act", X),
            Node("call_function", "m", "_operator.mul", "{\"node\": \"a\"}, {\"node\": \"w\"}"),
            Node("call_function", "t", "torch.tanh", "{\"node\": \"m\"}"),
            Node("call_function", "s", "_operator.add", "{\"node\": \"t\"}, {\"node\": \"x\"}"),
            Output("{\"node\": \"s\"}")), weights);
        var x = Tensor.RandomNormal([1, 4, 64, 64], 4);
        var expected = TensorOps.Add(TensorOps.Multiply(x.Relu(), big).Tanh(), x).ToArray();
        for (int i = 0; i < 3; i++)
        {
            var y = model.Forward(x);
            Assert.Equal(expected, y.ToArray());
            Assert.False(x.IsDisposed);
            Assert.False(big.IsDisposed);
            Assert.False(y.IsDisposed);
            y.Dispose();
        }
        // Freed intermediates come back from the pool: after warm-up a call allocates no new 64 KB buffer.
        long before = GC.GetAllocatedBytesForCurrentThread();
        model.Forward(x).Dispose();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4 * x.Count, $"{allocated} bytes allocated per call");
    }
}
