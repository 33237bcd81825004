// Both namespaces imported, as a .NET numeric app would: the alias settles which Tensor is meant
// (without it every bare 'Tensor' below is CS0104), and Tensor<float> stays System.Numerics.Tensors'.
using System.Numerics.Tensors;
using Functional;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tensor = Functional.Tensor;

namespace Functional.Properties;

/// <summary>System.Numerics.Tensors interop: views out, copies in, Forward on .NET tensors.</summary>
public class InteropTests
{
    private static Arbitrary<Tensor> TensorsArb => Generators.Tensors().ToArbitrary();

    [Property]
    public Property A_tensor_span_views_the_same_elements_and_shape() => Prop.ForAll(TensorsArb, x =>
    {
        var view = x.AsTensorSpan();
        Assert.True(view.IsDense);
        Assert.Equal(Math.Max(x.Rank, 1), view.Rank);
        for (int i = 0; i < x.Rank; i++) Assert.Equal(x.Shape[i], (int)view.Lengths[i]);
        var flat = new float[x.Count];
        view.FlattenTo(flat);
        Assert.Equal(x.ToArray(), flat);
        // No copy: the view starts at the tensor's own first element.
        if (x.Count > 0) Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(x.Span), ref Unsafe.AsRef(in view.GetPinnableReference())));
    });

    [Property]
    public Property A_copy_in_round_trips_shape_and_values() => Prop.ForAll(TensorsArb, x =>
    {
        if (x.Rank == 0) return;
        var net = System.Numerics.Tensors.Tensor.Create(x.ToArray(), x.Shape.ToArray().Select(d => (nint)d).ToArray());
        using var back = TensorInterop.FromTensor(net);
        Assert.Equal(x.Shape, back.Shape);
        Assert.Equal(x.ToArray(), back.ToArray());
    });

    [Fact]
    public void A_copy_in_is_a_snapshot_and_gathers_strided_spans()
    {
        var net = System.Numerics.Tensors.Tensor.Create(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        using var copy = TensorInterop.FromTensor(net);
        net[0, 0] = 100f;
        Assert.Equal(1f, copy[0, 0]);
        // A transposed (non-dense) .NET tensor comes in in its own row-major order.
        var transposed = System.Numerics.Tensors.Tensor.PermuteDimensions(net, [1, 0]);
        using var t = TensorInterop.FromTensor(transposed);
        Assert.Equal(new Shape(3, 2), t.Shape);
        Assert.Equal(net[1, 2], t[2, 1]);
        Assert.Equal(net[0, 1], t[1, 0]);
    }

    [Fact]
    public void Forward_accepts_dotnet_tensors_and_matches_forward_on_ours()
    {
        var weights = Weights.FromTensors(new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.RandomNormal([3, 2, 3, 3], seed: 1),
            ["bias"] = Tensor.RandomNormal([3], seed: 2),
        });
        var layer = Conv2d.Load(weights, 2, 3, kernelSize: 3, padding: 1) >> new ReLU();
        using var x = Tensor.RandomNormal([1, 2, 5, 6], seed: 3);
        using var expected = layer.Forward(x);
        Tensor<float> net = System.Numerics.Tensors.Tensor.Create(x.ToArray(), [1, 2, 5, 6]);
        using var fromTensor = layer.Forward(net);
        using var fromSpan = layer.Forward(net.AsReadOnlyTensorSpan());
        Assert.Equal(expected.ToArray(), fromTensor.ToArray());
        Assert.Equal(expected.ToArray(), fromSpan.ToArray());
        // A layer that returns its input hands back a live tensor, not the disposed copy.
        using var same = new Identity().Forward(net);
        Assert.Equal(x.ToArray(), same.ToArray());
    }
}
