namespace Functional.Properties;

/// <summary>
/// Invalid arguments and inputs of the convolution and pooling layers: each throws
/// <see cref="ShapeException"/> (an <see cref="ArgumentException"/>) whose message names the layer,
/// the offending argument or input, and for size formulas the formula's inputs; a missing weight
/// throws <see cref="KeyNotFoundException"/> naming the full key.
/// </summary>
public class LayerErrorTests
{
    /// <summary>Asserts <paramref name="action"/> throws exactly <see cref="ShapeException"/> mentioning every fragment.</summary>
    private static ShapeException Throws(Action action, params string[] mentions)
    {
        var e = Assert.Throws<ShapeException>(action);
        Assert.IsAssignableFrom<ArgumentException>(e);
        foreach (var m in mentions) Assert.Contains(m, e.Message);
        return e;
    }

    private static Weights W => Weights.Random(0);

    private static Weights With(params (string Key, Shape Shape)[] tensors) =>
        Weights.FromTensors(tensors.ToDictionary(t => t.Key, t => Tensor.Zeros(t.Shape)));

    // ---- convolution arguments ----

    [Fact]
    public void Conv_stride_zero() => Throws(() => Conv2d.Load(W, 3, 8, 3, stride: 0), "Conv2d", "stride", "(0, 0)");

    [Fact]
    public void Conv_stride_zero_in_one_dimension() => Throws(() => Conv3d.Load(W, 3, 8, 3, stride: (1, 0, 1)), "Conv3d", "stride=(1, 0, 1)");

    [Fact]
    public void Conv_dilation_zero() => Throws(() => Conv1d.Load(W, 3, 8, 3, dilation: 0), "Conv1d", "dilation", "(0,)");

    [Fact]
    public void Conv_kernel_zero() => Throws(() => Conv2d.Load(W, 3, 8, (3, 0)), "Conv2d", "kernel_size");

    [Fact]
    public void Conv_kernel_tuple_of_the_wrong_length() => Throws(() => Conv1d.Load(W, 3, 8, (3, 3)), "Conv1d", "kernel_size must be an int or a tuple of 1 ints", "(3, 3)");

    [Fact]
    public void Conv_negative_padding() => Throws(() => Conv2d.Load(W, 3, 8, 3, padding: (1, -1)), "Conv2d", "padding", "(1, -1)");

    [Fact]
    public void Conv_groups_not_dividing_in_channels() => Throws(() => Conv2d.Load(W, 3, 8, 3, groups: 2), "Conv2d", "in_channels (3)", "groups (2)");

    [Fact]
    public void Conv_groups_not_dividing_out_channels() => Throws(() => Conv2d.Load(W, 4, 6, 3, groups: 4), "Conv2d", "out_channels (6)", "groups (4)");

    [Fact]
    public void Conv_groups_zero() => Throws(() => Conv1d.Load(W, 4, 4, 3, groups: 0), "Conv1d", "groups", "0");

    [Fact]
    public void Conv_same_padding_with_stride() =>
        Throws(() => Conv2d.Load(W, 3, 8, 3, stride: (1, 2), padding: Padding.Same), "Conv2d", "padding='same'", "stride=(1, 2)");

    // ---- convolution inputs ----

    [Fact]
    public void Conv_wrong_input_rank()
    {
        var conv = Conv2d.Load(W, 3, 8, 3);
        Throws(() => conv.Forward(Tensor.Zeros([3, 8])), "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))", "3D (unbatched) or 4D (batched)", "[3, 8]");
        // A 3-D input is an unbatched image: [1, 3, 8] has one channel, not three.
        Throws(() => conv.Forward(Tensor.Zeros([1, 3, 8])), "expected input[1, 3, 8] to have 3 channels, but got 1 channels");
        Throws(() => conv.OutputShape([1, 1, 3, 8, 8]), "Conv2d(", "[1, 1, 3, 8, 8]");
    }

    [Fact]
    public void Conv_wrong_channel_count() =>
        Throws(() => Conv2d.Load(W, 3, 8, 3).Forward(Tensor.Zeros([2, 4, 8, 8])), "Conv2d(3, 8", "3 channels", "got 4 channels", "[2, 4, 8, 8]");

    [Fact]
    public void Conv_wrong_channel_count_unbatched_grouped() =>
        Throws(() => Conv1d.Load(W, 4, 8, 3, groups: 2).OutputShape([6, 10]), "Conv1d(4, 8", "groups=2", "4 channels", "got 6 channels");

    [Fact]
    public void Conv_reflect_padding_not_smaller_than_the_input() =>
        Throws(() => Conv1d.Load(W, 2, 2, 3, padding: 3, paddingMode: PaddingMode.Reflect).Forward(Tensor.Zeros([1, 2, 3])),
            "Conv1d(2, 2", "padding_mode='reflect'", "(3, 3)", "input size 3");

    [Fact]
    public void Conv_reflect_same_padding_of_an_even_kernel_checks_the_larger_side() =>
        // kernel 4, "same": one before, two after; an input of 2 cannot reflect 2.
        Throws(() => Conv1d.Load(W, 1, 1, 4, padding: Padding.Same, paddingMode: PaddingMode.Reflect).OutputShape([1, 2]),
            "padding (1, 2)", "input size 2", "reflect");

    [Fact]
    public void Conv_circular_padding_larger_than_the_input() =>
        Throws(() => Conv2d.Load(W, 1, 1, 3, padding: (4, 1), paddingMode: PaddingMode.Circular).OutputShape([1, 1, 3, 3]),
            "Conv2d(1, 1", "padding_mode='circular'", "(4, 4)", "input size 3");

    [Fact]
    public void Conv_output_size_below_one_shows_the_formula_inputs() =>
        Throws(() => Conv2d.Load(W, 3, 8, 5, stride: 2, dilation: (1, 2)).Forward(Tensor.Zeros([1, 3, 2, 20])),
            "Conv2d(3, 8", "output size", "< 1", "spatial dimension 0", "in 2", "padding 0+0", "dilation 1", "kernel 5", "stride 2", "[1, 3, 2, 20]");

    // ---- weights ----

    [Fact]
    public void Conv_weight_of_the_wrong_shape_names_the_full_key_and_both_shapes()
    {
        var w = With(("features.0.weight", [8, 3, 5, 5]), ("features.0.bias", [8]));
        Throws(() => Conv2d.Load(w.At("features").At("0"), 3, 8, 3), "features.0.weight", "[8, 3, 5, 5]", "[8, 3, 3, 3]");
    }

    [Fact]
    public void Conv_grouped_weight_shape_is_checked() =>
        Throws(() => Conv2d.Load(With(("0.weight", [8, 4, 3, 3])).At("0"), 4, 8, 3, groups: 2, bias: false), "0.weight", "[8, 4, 3, 3]", "[8, 2, 3, 3]");

    [Fact]
    public void Conv_bias_of_the_wrong_shape_names_the_full_key() =>
        Throws(() => Conv1d.Load(With(("enc.weight", [8, 3, 3]), ("enc.bias", [4])).At("enc"), 3, 8, 3), "enc.bias", "[4]", "[8]");

    [Fact]
    public void ConvTranspose_weight_of_the_wrong_shape_names_the_full_key_and_both_shapes() =>
        // Transposed weights are [in, out/groups, k...]: a conv-shaped [out, in, k] tensor is refused.
        Throws(() => ConvTranspose2d.Load(With(("up.weight", [8, 16, 3, 3])).At("up"), 16, 8, 3, bias: false), "up.weight", "[8, 16, 3, 3]", "[16, 8, 3, 3]");

    [Fact]
    public void Missing_weight_names_the_key()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => Conv2d.Load(With(("features.0.weight", [8, 3, 3, 3])).At("features").At("0"), 3, 8, 3));
        Assert.Contains("features.0.bias", e.Message);
        var e2 = Assert.Throws<KeyNotFoundException>(() => ConvTranspose1d.Load(With().At("decoder"), 2, 2, 3));
        Assert.Contains("decoder.weight", e2.Message);
    }

    // ---- with ----

    [Fact]
    public void Conv_with_invalid_arguments_is_refused_when_used()
    {
        var conv = Conv2d.Load(W, 4, 8, 3);
        Throws(() => (conv with { Stride = 0 }).OutputShape([1, 4, 8, 8]), "Conv2d", "stride");
        Throws(() => (conv with { Padding = Padding.Same, Stride = 2 }).Forward(Tensor.Zeros([1, 4, 8, 8])), "padding='same'");
        Throws(() => (conv with { Groups = 3 }).OutputShape([1, 4, 8, 8]), "in_channels (4)", "groups (3)");
        Throws(() => (conv with { KernelSize = 5 }).OutputShape([1, 4, 8, 8]), "weight has shape [8, 4, 3, 3], expected [8, 4, 5, 5]");
        Throws(() => _ = conv with { Stride = (1, 2, 3) }, "Conv2d", "stride must be an int or a tuple of 2 ints");
    }

    // ---- transposed convolution ----

    [Fact]
    public void ConvTranspose_output_padding_not_below_stride_or_dilation() =>
        Throws(() => ConvTranspose2d.Load(W, 4, 4, 3, stride: 2, outputPadding: (1, 2)), "ConvTranspose2d", "output_padding=(1, 2)", "stride=(2, 2)", "dilation=(1, 1)");

    [Fact]
    public void ConvTranspose_output_padding_below_dilation_is_accepted()
    {
        // PyTorch allows output_padding < max(stride, dilation).
        var conv = ConvTranspose1d.Load(W, 2, 2, 3, stride: 1, outputPadding: 2, dilation: 3);
        Assert.Equal(new Shape(1, 2, 12), conv.OutputShape([1, 2, 4]));
        Throws(() => ConvTranspose1d.Load(W, 2, 2, 3, stride: 1, outputPadding: 3, dilation: 3), "ConvTranspose1d", "output_padding=(3,)");
    }

    [Fact]
    public void ConvTranspose_stride_zero_and_groups() 
    {
        Throws(() => ConvTranspose3d.Load(W, 2, 2, 3, stride: 0), "ConvTranspose3d", "stride");
        Throws(() => ConvTranspose2d.Load(W, 4, 6, 3, groups: 4), "ConvTranspose2d", "out_channels (6)", "groups (4)");
    }

    [Fact]
    public void ConvTranspose_output_size_below_one_shows_the_formula_inputs() =>
        Throws(() => ConvTranspose1d.Load(W, 2, 2, 1, padding: 1).OutputShape([1, 2, 1]),
            "ConvTranspose1d(2, 2", "output size -1 < 1", "in 1", "stride 1", "padding 1", "kernel 1", "output_padding 0");

    [Fact]
    public void ConvTranspose_output_size_out_of_range()
    {
        var conv = ConvTranspose2d.Load(W, 4, 2, 3, stride: 2, padding: 1);
        var x = Tensor.Zeros([1, 4, 5, 5]);
        Assert.Equal(new Shape(1, 2, 10, 9), conv.Forward(x, [10, 9]).Shape);
        Throws(() => conv.Forward(x, [11, 9]), "ConvTranspose2d(4, 2", "[11, 9]", "valid sizes range from 9 to 10", "spatial dimension 0");
        Throws(() => conv.Forward(x, [9]), "ConvTranspose2d", "output_size must have 2 or 4 elements");
    }

    [Fact]
    public void ConvTranspose_wrong_rank_and_channels()
    {
        var conv = ConvTranspose1d.Load(W, 4, 2, 3);
        Throws(() => conv.Forward(Tensor.Zeros([1, 4, 5, 5])), "ConvTranspose1d(4, 2", "2D (unbatched) or 3D (batched)", "[1, 4, 5, 5]");
        Throws(() => conv.OutputShape([3, 5]), "4 channels", "got 3 channels");
    }

    // ---- pools ----

    [Fact]
    public void Pool_padding_above_half_the_kernel()
    {
        Throws(() => new MaxPool2d(3, padding: 2), "MaxPool2d", "pad should be at most half of kernel size", "padding=(2, 2)", "kernel_size=(3, 3)");
        Throws(() => new AvgPool1d(2, padding: 2), "AvgPool1d", "padding=(2,)");
        Throws(() => new MaxPool3d((2, 4, 4), padding: (1, 2, 3)), "MaxPool3d", "padding=(1, 2, 3)");
    }

    [Fact]
    public void Pool_stride_zero()
    {
        Throws(() => new MaxPool1d(2, 0), "MaxPool1d", "stride");
        Throws(() => new AvgPool2d(2, (1, 0)), "AvgPool2d", "stride=(1, 0)");
        Throws(() => new LPPool2d(2, 3, stride: 0), "LPPool2d", "stride");
        Throws(() => new MaxUnpool2d(2, stride: 0), "MaxUnpool2d", "stride");
    }

    [Fact]
    public void Pool_kernel_zero_and_dilation_zero()
    {
        Throws(() => new MaxPool2d(0), "MaxPool2d", "kernel_size");
        Throws(() => new MaxPool1d(2, dilation: 0), "MaxPool1d", "dilation");
    }

    [Fact]
    public void Pool_output_size_below_one()
    {
        Throws(() => new MaxPool2d(3).Forward(Tensor.Zeros([1, 2, 2, 8])),
            "MaxPool2d(kernel_size=3", "[1, 2, 2, 8]", "too small", "input 2", "kernel 3", "stride 3", "padding 0", "dilation 1");
        Throws(() => new MaxPool1d(2, dilation: 3).OutputShape([1, 3]), "MaxPool1d", "dilation 3");
        Throws(() => new AvgPool1d(4).OutputShape([2, 3]), "AvgPool1d", "ceil_mode=False");
        // With ceil_mode the same window fits partially: PyTorch gives one output (the mean of 3 elements).
        Assert.Equal(new Shape(2, 1), new AvgPool1d(4, ceilMode: true).OutputShape([2, 3]));
    }

    [Fact]
    public void Pool_wrong_rank()
    {
        Throws(() => new MaxPool2d(2).Forward(Tensor.Zeros([4])), "MaxPool2d", "3D (unbatched) or 4D (batched)", "[4]");
        Throws(() => new AvgPool1d(2).OutputShape([1, 1, 1, 4]), "AvgPool1d", "2D (unbatched) or 3D (batched)");
        Throws(() => new LPPool1d(2, 2).OutputShape([4]), "LPPool1d");
        Throws(() => new AdaptiveAvgPool2d(2).OutputShape([4, 4]), "AdaptiveAvgPool2d", "[4, 4]");
        Throws(() => new AdaptiveMaxPool3d(2).Forward(Tensor.Zeros([1, 1, 1, 4, 4, 4])), "AdaptiveMaxPool3d");
        Throws(() => new MaxUnpool1d(2).OutputShape([1, 1, 1, 4]), "MaxUnpool1d");
    }

    [Fact]
    public void Pool_with_invalid_padding_is_refused_when_used() =>
        Throws(() => (new MaxPool2d(2) with { Padding = 3 }).OutputShape([1, 8, 8]), "MaxPool2d", "pad should be at most half");

    [Fact]
    public void AvgPool_divisor_override_zero() => Throws(() => new AvgPool2d(2, divisorOverride: 0), "AvgPool2d", "divisor_override");

    [Fact]
    public void Adaptive_output_size_invalid()
    {
        Throws(() => new AdaptiveAvgPool2d(0), "AdaptiveAvgPool2d", "output_size");
        Throws(() => new AdaptiveMaxPool1d(-1), "AdaptiveMaxPool1d", "output_size");
        Throws(() => new AdaptiveAvgPool2d(1, 2, 3), "AdaptiveAvgPool2d", "output_size must have 1 or 2 entries");
        Throws(() => new AdaptiveAvgPool1d(3).OutputShape([2, 0]), "AdaptiveAvgPool1d", "empty");
    }

    [Fact]
    public void MaxUnpool_bad_output_size()
    {
        var unpool = new MaxUnpool2d(2);
        var (y, idx) = new MaxPool2d(2).ForwardWithIndices(Tensor.RandomNormal([1, 1, 4, 5], 1));
        Assert.Equal(new Shape(1, 1, 4, 5), unpool.Forward(y, idx, [4, 5]).Shape);
        Throws(() => unpool.Forward(y, idx, [4, 6]), "MaxUnpool2d(kernel_size=(2, 2)", "invalid output_size", "[4, 6]", "between 2 and 6");
        Throws(() => unpool.Forward(y, idx, [5]), "MaxUnpool2d", "2 or 4 elements");
    }

    [Fact]
    public void MaxUnpool_invalid_index()
    {
        var unpool = new MaxUnpool2d(2);
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], [1, 1, 2, 2]);
        Throws(() => unpool.Forward(x, IndexTensor.FromSpan([0, 1, 2, 16], [1, 1, 2, 2])), "MaxUnpool2d", "invalid max index");
        Throws(() => unpool.Forward(x, IndexTensor.FromSpan([0, -1, 2, 3], [1, 1, 2, 2])), "MaxUnpool2d", "invalid max index");
        Throws(() => unpool.Forward(x, IndexTensor.FromSpan([0, 1, 2], [1, 1, 3])), "MaxUnpool2d", "indices of shape [1, 1, 3]", "[1, 1, 2, 2]");
    }

    [Fact]
    public void MaxUnpool_without_indices_is_an_invalid_operation() =>
        Throws(() => new MaxUnpool1d(2).Forward(Tensor.Zeros([1, 3])), "MaxUnpool1d", "needs the indices");
}
