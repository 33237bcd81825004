namespace Functional;

/// <summary>A pool that can also return PyTorch's indices of the maxima (<c>return_indices=True</c>).</summary>
public interface IReturnsIndices
{
    /// <summary>The pooled values and, for each, the flat index of the maximum within its input plane.</summary>
    (Tensor Output, IndexTensor Indices) ForwardWithIndices(Tensor input);
}

/// <summary>A layer whose forward takes PyTorch's call-time <c>output_size</c> (transposed convolutions).</summary>
public interface IAcceptsOutputSize
{
    /// <summary>Runs with the requested output size (spatial sizes, optionally preceded by batch and channel sizes, as PyTorch accepts).</summary>
    Tensor Forward(Tensor input, IReadOnlyList<int> outputSize);
}

/// <summary>A max-unpool: forward takes the indices a max pool returned.</summary>
public interface IUnpool
{
    /// <summary>Places each input value at its index in a zero output; <paramref name="outputSize"/> as PyTorch's optional argument.</summary>
    Tensor Forward(Tensor input, IndexTensor indices, IReadOnlyList<int>? outputSize = null);
}
