namespace Functional;

/// <summary>
/// Fusion over a traced <see cref="Graph"/>: the chain rules of <see cref="Fusion"/> applied to a
/// child layer and the one node that reads its value. When a <c>call_module</c> node's output
/// has a single reader and a rule rewrites the pair (a convolution and its BatchNorm, a
/// convolution and its activation, module or function such as <c>F.relu</c>), the first node
/// runs the rewritten layer and the reader passes that value on unchanged. Nothing else reads
/// the value in between, so nothing can observe the difference but rounding.
/// </summary>
public sealed partial record Graph
{
    /// <summary>The op of a step that hands on a value unchanged (never in a traced graph).</summary>
    private const string GraphFusionPassOp = "fused:pass";

    /// <summary>The fused steps, made on first use (the nodes never change, so neither does the plan).</summary>
    private Step[]? fused;

    /// <summary>The steps a tensor run executes: fused unless <see cref="Fusion.Enabled"/> is off.</summary>
    private Step[] Execution => !Fusion.Enabled ? steps : fused ??= Fuse(steps);

    private static Step[] Fuse(Step[] original)
    {
        var plan = original.Select(Copy).ToArray();
        // How many times each value is read (the output node included).
        var readers = new int[plan.Length];
        var reader = new int[plan.Length];
        for (int k = 0; k < plan.Length; k++)
            foreach (int j in plan[k].Reads)
            {
                readers[j]++;
                reader[j] = k;
            }
        var passed = new bool[plan.Length]; // steps turned into pass-throughs
        foreach (var rule in Fusion.PairRules)
            for (int i = 0; i < plan.Length; i++)
            {
                if (plan[i].Node.Op != "call_module" || plan[i].Layer is null) continue;
                // The value's one reader, looking through the pass-throughs earlier rules left.
                int at = i, next = -1;
                while (readers[at] == 1 && plan[reader[at]].Node.Op != "output")
                {
                    next = reader[at];
                    if (!passed[next]) break;
                    at = next;
                    next = -1;
                }
                if (next < 0 || SecondLayer(plan[next], at) is not { } second || rule(plan[i].Layer!, second) is not { } rewritten) continue;
                plan[i].Layer = rewritten;
                plan[next] = PassThrough(plan[next], at);
                passed[next] = true;
            }
        return plan;
    }

    /// <summary>The layer a reader runs on value <paramref name="slot"/> alone: a child layer, or a function row built into one (<c>F.relu(x)</c>).</summary>
    private static Layer? SecondLayer(Step step, int slot) =>
        step.Layer is { } layer && step.Reads.Length == 1 && step.Reads[0] == slot
            && (step.Node.Op == "call_module" || step.Arguments.Length > 0 && step.Arguments[0] is Slot s && s.Index == slot)
            ? layer : null;

    /// <summary>A step that hands on the value of <paramref name="slot"/> (already transformed by the node before).</summary>
    private static Step PassThrough(Step step, int slot)
    {
        var p = Copy(step);
        p.Node = step.Node with { Op = GraphFusionPassOp };
        p.Function = null;
        p.Layer = null;
        p.Arguments = [new Slot(slot)];
        return p;
    }

    private static Step Copy(Step s) => new()
    {
        Node = s.Node, Function = s.Function, Layer = s.Layer, Arguments = s.Arguments, Reads = s.Reads, Kind = s.Kind,
        Provenance = s.Provenance, LastUse = s.LastUse, Releases = s.Releases,
    };
}
