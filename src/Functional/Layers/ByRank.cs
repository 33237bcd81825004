namespace Functional;

/// <summary>
/// A layer family's PyTorch-named members (<c>Conv1d</c>, <c>Conv2d</c>, …) by spatial rank: the
/// one table the family keeps, read by its rank-generic <c>Load(rank, …)</c> and by the
/// module-description reader, so adding a rank or a family member touches one place.
/// </summary>
/// <param name="family">How a wrong rank is reported: <c>"convolutions have"</c>, <c>"batch norm has"</c>.</param>
/// <param name="members">The constructors of ranks 1, 2, … in order.</param>
internal sealed class ByRank<TArgs, TLayer>(string family, params Func<TArgs, TLayer>[] members) where TLayer : Layer
{
    /// <summary>The member of spatial rank <paramref name="rank"/> built from <paramref name="args"/>.</summary>
    public TLayer Create(int rank, TArgs args) => rank >= 1 && rank <= members.Length
        ? members[rank - 1](args)
        : throw new ShapeException($"{family} {string.Join(", ", Enumerable.Range(1, members.Length - 1))} or {members.Length} spatial dimensions, not {rank}");
}
