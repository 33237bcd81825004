using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Functional;

/// <summary>One row of a <see cref="ModelSummary"/>: a layer as it is called, with its PyTorch name path.</summary>
/// <param name="Name">The state_dict name path (<c>layer1.0.conv1</c>); empty for the model itself.</param>
/// <param name="Type">The PyTorch class name.</param>
/// <param name="Depth">0 for the model, 1 for its children, …</param>
/// <param name="OutputShape">The shape this call returns, computed without running.</param>
/// <param name="Parameters">Learnable scalars of a leaf layer; null for a container (its children's rows hold them).</param>
/// <param name="MultAdds">torchinfo's multiply-adds of a leaf layer; null for a container.</param>
public sealed record SummaryRow(string Name, string Type, int Depth, Shape OutputShape, long? Parameters, long? MultAdds);

/// <summary>
/// torchinfo's <c>summary(model, input_size)</c> for a layer: every layer call in order with its
/// output shape, parameters and multiply-adds, then totals and sizes. Computed from
/// <see cref="Layer.OutputShape"/> alone: nothing runs and nothing is allocated per element.
/// </summary>
public sealed record ModelSummary(Shape InputShape, Shape OutputShape, ImmutableArray<SummaryRow> Rows, long TotalParameters, long TotalBuffers, long TotalMultAdds)
{
    /// <summary>Bytes of the weights (parameters and buffers) in float32.</summary>
    public long WeightBytes => 4 * (TotalParameters + TotalBuffers);

    /// <summary>Bytes of every leaf layer's output in float32 (what a forward pass writes).</summary>
    public long ForwardBytes => 4 * Rows.Where(r => r.Parameters is not null).Sum(r => r.OutputShape.ElementCount);

    /// <summary>The table, as torchinfo prints it.</summary>
    public override string ToString()
    {
        const int nameWidth = 44, shapeWidth = 24, numberWidth = 14;
        int width = nameWidth + shapeWidth + 2 * numberWidth;
        var rule = new string('=', width);
        var sb = new StringBuilder();
        sb.AppendLine(rule);
        sb.Append("Layer (name: type)".PadRight(nameWidth)).Append("Output Shape".PadRight(shapeWidth))
          .Append("Param #".PadLeft(numberWidth)).Append("Mult-Adds".PadLeft(numberWidth)).AppendLine();
        sb.AppendLine(rule);
        for (int i = 0; i < Rows.Length; i++)
        {
            var r = Rows[i];
            string label = Tree(i) + (r.Name.Length == 0 ? r.Type : $"{r.Name}: {r.Type}");
            if (label.Length >= nameWidth) label = label[..(nameWidth - 2)] + "… ";
            sb.Append(label.PadRight(nameWidth)).Append(r.OutputShape.ToString().PadRight(shapeWidth))
              .Append(Count(r.Parameters).PadLeft(numberWidth)).Append(Count(r.MultAdds).PadLeft(numberWidth)).AppendLine();
        }
        sb.AppendLine(rule);
        sb.AppendLine($"Total params: {TotalParameters.ToString("N0", CultureInfo.InvariantCulture)}");
        sb.AppendLine($"Total buffers: {TotalBuffers.ToString("N0", CultureInfo.InvariantCulture)}");
        sb.AppendLine(TotalMultAdds >= 1_000_000_000 ? $"Total mult-adds (G): {TotalMultAdds / 1e9:0.00}" : $"Total mult-adds (M): {TotalMultAdds / 1e6:0.00}");
        sb.AppendLine(rule);
        sb.AppendLine($"Input size (MB): {Megabytes(4 * InputShape.ElementCount)}");
        sb.AppendLine($"Forward pass size (MB): {Megabytes(ForwardBytes)}");
        sb.AppendLine($"Weights size (MB): {Megabytes(WeightBytes)}");
        sb.AppendLine($"Estimated total size (MB): {Megabytes(4 * InputShape.ElementCount + ForwardBytes + WeightBytes)}");
        sb.Append(rule);
        return sb.ToString();
    }

    private static string Count(long? n) => n is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "--";

    private static string Megabytes(long bytes) => (bytes / 1e6).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>torchinfo's tree: "├─" before a row with later siblings, "└─" before the last, "│ " under open ancestors.</summary>
    private string Tree(int i)
    {
        int depth = Rows[i].Depth;
        if (depth == 0) return "";
        var sb = new StringBuilder();
        for (int d = 1; d < depth; d++) sb.Append(HasLaterSibling(i, d) ? "│  " : "   ");
        return sb.Append(HasLaterSibling(i, depth) ? "├─" : "└─").ToString();
    }

    /// <summary>Whether a row at <paramref name="depth"/> follows row <paramref name="i"/> before the tree climbs above that depth.</summary>
    private bool HasLaterSibling(int i, int depth)
    {
        for (int j = i + 1; j < Rows.Length; j++)
        {
            if (Rows[j].Depth < depth) return false;
            if (Rows[j].Depth == depth) return true;
        }
        return false;
    }
}

/// <summary><see cref="Summarizing.Summary"/>: torchinfo's table for any layer.</summary>
public static class Summarizing
{
    /// <summary>
    /// The summary of <paramref name="layer"/> for an input of shape <paramref name="input"/>:
    /// containers (<see cref="Sequential"/>, <see cref="Module"/>, <see cref="Residual"/>,
    /// <see cref="Branches"/>, <see cref="Graph"/>) are walked in call order, each layer named by its
    /// state_dict path. Multiply-adds follow torchinfo: a convolution's weight and bias counts times
    /// the batch and output positions, any other layer's times the batch. Throws the same
    /// <see cref="ShapeException"/> as <see cref="Layer.OutputShape"/> when the input does not fit.
    /// </summary>
    public static ModelSummary Summary(this Layer layer, Shape input)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var output = layer.OutputShape(input);
        var rows = ImmutableArray.CreateBuilder<SummaryRow>();
        Walk(layer, input, "", 0, rows);
        return new ModelSummary(input, output, rows.ToImmutable(), layer.ParameterCount, layer.Buffers().Sum(b => (long)b.Value.Count),
            rows.Sum(r => r.MultAdds ?? 0));
    }

    /// <summary>Adds the rows of one call of <paramref name="layer"/>, named <paramref name="name"/>, and of the calls inside it.</summary>
    private static Shape Walk(Layer layer, Shape input, string name, int depth, ImmutableArray<SummaryRow>.Builder rows)
    {
        string Child(string child) => name.Length == 0 ? child : $"{name}.{child}";
        var output = layer.OutputShape(input);
        switch (layer)
        {
            case Sequential s:
                rows.Add(new(name, s.TypeName, depth, output, null, null));
                var x = input;
                for (int i = 0; i < s.Count; i++) x = Walk(s[i], x, Child(i.ToString(CultureInfo.InvariantCulture)), depth + 1, rows);
                break;
            case Module m:
                rows.Add(new(name, m.TypeName, depth, output, null, null));
                var children = new Dictionary<Layer, string>(ReferenceEqualityComparer.Instance);
                foreach (var (childName, child) in m.Children) children.TryAdd(child, Child(childName));
                Body(m.Body, input, depth + 1, children, rows);
                break;
            case Residual or Branches or Graph:
                rows.Add(new(name, layer.TypeName, depth, output, null, null));
                Body(layer, input, depth + 1, AnonymousChildren(layer, name), rows);
                break;
            default:
                long parameters = layer.ParameterCount;
                rows.Add(new(name, layer.TypeName, depth, output, parameters, MultAdds(layer, output)));
                break;
        }
        return output;
    }

    /// <summary>
    /// The calls inside a container's body: layers named in <paramref name="names"/> become rows;
    /// the unnamed plumbing between them (a flat <c>&gt;&gt;</c> chain, a residual) adds none.
    /// </summary>
    private static void Body(Layer body, Shape input, int depth, IReadOnlyDictionary<Layer, string> names, ImmutableArray<SummaryRow>.Builder rows)
    {
        if (names.TryGetValue(body, out var named))
        {
            Walk(body, input, named, depth, rows);
            return;
        }
        switch (body)
        {
            case Sequential s:
                var x = input;
                for (int i = 0; i < s.Count;)
                {
                    // `>>` splices a named Sequential child into the chain: find it as a run of its layers.
                    if (SplicedChild(s, i, names) is { } child)
                    {
                        x = Walk(child, x, names[child], depth, rows);
                        i += child.Count;
                        continue;
                    }
                    Body(s[i], x, depth, names, rows);
                    x = s[i++].OutputShape(x);
                }
                break;
            case Residual r:
                Body(r.Body, input, depth, names, rows);
                if (r.Shortcut is not null) Body(r.Shortcut, input, depth, names, rows);
                break;
            case Branches b:
                foreach (var l in b.Layers) Body(l, input, depth, names, rows);
                break;
            case Module or Graph:
                // A graph calls its modules by name: record each call's input shape by evaluating the
                // graph's shapes with every module wrapped, then walk the calls in order.
                if (body is Graph g)
                {
                    var calls = new List<(Layer Layer, Shape Input)>();
                    var recorded = g.Modules.ToDictionary(kv => kv.Key, kv => (Layer)new Recorder(kv.Value, calls));
                    new Graph(g.Nodes, recorded).OutputShape(input);
                    foreach (var (l, s) in calls)
                        Walk(l, s, names.TryGetValue(l, out var n) ? n : g.Modules.First(kv => ReferenceEquals(kv.Value, l)).Key, depth, rows);
                }
                else Walk(body, input, "", depth, rows);
                break;
            default:
                // An unnamed leaf (e.g. a ReLU written inline): a row without a path.
                Walk(body, input, "", depth, rows);
                break;
        }
    }

    /// <summary>The longest named <see cref="Sequential"/> whose layers are <paramref name="chain"/>'s from <paramref name="start"/> on (the same instances).</summary>
    private static Sequential? SplicedChild(Sequential chain, int start, IReadOnlyDictionary<Layer, string> names)
    {
        Sequential? best = null;
        foreach (var candidate in names.Keys.OfType<Sequential>())
        {
            if (candidate.Count == 0 || start + candidate.Count > chain.Count || candidate.Count <= (best?.Count ?? 0)) continue;
            bool same = true;
            for (int j = 0; j < candidate.Count && same; j++) same = ReferenceEquals(candidate[j], chain[start + j]);
            if (same) best = candidate;
        }
        return best;
    }

    /// <summary>Names for the children of a container met outside a module, as its <see cref="Layer.Parameters"/> name them.</summary>
    private static IReadOnlyDictionary<Layer, string> AnonymousChildren(Layer container, string name)
    {
        string Child(string child) => name.Length == 0 ? child : $"{name}.{child}";
        var names = new Dictionary<Layer, string>(ReferenceEqualityComparer.Instance);
        switch (container)
        {
            case Residual r:
                names.TryAdd(r.Body, Child("body"));
                if (r.Shortcut is not null) names.TryAdd(r.Shortcut, Child("shortcut"));
                break;
            case Branches b:
                for (int i = 0; i < b.Layers.Length; i++) names.TryAdd(b.Layers[i], Child(i.ToString(CultureInfo.InvariantCulture)));
                break;
            case Graph g:
                foreach (var (key, l) in g.Modules) names.TryAdd(l, Child(key));
                break;
        }
        return names;
    }

    /// <summary>torchinfo's rule: a convolution's weight and bias × batch × output positions; any other layer's × batch.</summary>
    private static long MultAdds(Layer layer, Shape output)
    {
        long direct = layer.Parameters().Where(p => p.Name is "weight" or "bias").Sum(p => (long)p.Value.Count);
        if (direct == 0 || output.Rank == 0) return 0;
        long batch = output[0];
        return layer.TypeName.Contains("Conv", StringComparison.Ordinal)
            ? direct * batch * output.Skip(Math.Min(2, output.Rank)).ElementCount
            : direct * batch;
    }

    /// <summary>A layer that notes each call's input shape, for walking a graph's calls in order.</summary>
    private sealed record Recorder(Layer Inner, List<(Layer Layer, Shape Input)> Calls) : Layer
    {
        public override Shape OutputShape(Shape input)
        {
            Calls.Add((Inner, input));
            return Inner.OutputShape(input);
        }

        protected override Tensor Compute(Tensor input, Shape outputShape) => Inner.Forward(input);
    }
}
