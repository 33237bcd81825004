namespace Functional.Properties;

/// <summary>
/// The reproductions of hostile-input issue #12: each once ended in a runtime exception, a wrapped
/// size or a silently wrong answer, and now throws the library's own exception naming the thing.
/// </summary>
public class HostileInputTests
{
    private static T Throws<T>(Action action, params string[] mentions) where T : Exception
    {
        var e = Assert.Throws<T>(action);
        foreach (var m in mentions) Assert.Contains(m, e.Message);
        return e;
    }

    private static string TooLarge => $"larger than the {Shape.MaxElements}";

    // 1. An 8-byte file: header length 0.
    [Fact]
    public void Empty_header_is_a_SafeTensorsException()
    {
        using var f = TempFile.With(new byte[8]);
        Throws<SafeTensorsException>(() => SafeTensors.Open(f.Path).Dispose(), f.Path, "not valid JSON");
    }

    // 2. Padding sizes wrapped in int.
    [Fact]
    public void Constant_padding_past_int_range_is_refused() =>
        Throws<ShapeException>(() => new ConstantPad2d(new Dims(int.MaxValue, int.MaxValue, 0, 0), 7.0).Forward(Tensor.Arange(32).Reshape(1, 2, 4, 4)),
            "ConstantPad2d", "dimension 3", "4 + 2147483647 + 2147483647", TooLarge);

    [Fact]
    public void Replication_padding_past_int_range_is_refused() =>
        Throws<ShapeException>(() => new ReplicationPad1d(int.MaxValue).OutputShape([2, 3, 6]), "ReplicationPad1d", "6 + 2147483647 + 2147483647", TooLarge);

    [Fact]
    public void Reflection_padding_of_int_MinValue_is_refused_by_OutputShape() =>
        Throws<ShapeException>(() => new ReflectionPad2d(int.MinValue).OutputShape([1, 1, 4, 4]), "ReflectionPad2d", "4 + -2147483648 + -2147483648 = -4294967292");

    [Fact]
    public void Replication_crop_of_nearly_int_range_reads_the_right_element()
    {
        // Crop 2^31 − 1 on the left, pad as much on the right: the one output position replicates the last element.
        var y = new ReplicationPad1d(new Dims(-int.MaxValue, int.MaxValue - 2)).Forward(Tensor.FromArray(1f, 2f, 3f).Reshape(1, 3));
        Assert.Equal([1, 1], y.Shape.ToArray());
        Assert.Equal(3f, y.Span[0]);
    }

    // 3. Output sizes past int range: rejected, not clamped.
    [Fact]
    public void Conv_output_past_int_range_is_refused() =>
        Throws<ShapeException>(() => Conv2d.Load(Weights.Random(0), 2, 3, 3, padding: (1 << 30, 1)).OutputShape([1, 2, 4, 4]),
            "Conv2d(2, 3", "output size in spatial dimension 0", "2147483650", TooLarge);

    [Fact]
    public void Transposed_conv_output_past_int_range_is_refused() =>
        Throws<ShapeException>(() => ConvTranspose2d.Load(Weights.Random(0), 1, 1, 2, stride: (1 << 30, 1)).OutputShape([1, 1, 4, 4]),
            "ConvTranspose2d", "output size in spatial dimension 0", "3221225474", TooLarge);

    [Fact]
    public void Pool_output_past_int_range_is_refused() =>
        Throws<ShapeException>(() => new MaxPool1d(2, stride: 1, padding: 1).OutputShape([1, Shape.MaxElements]),
            "MaxPool1d", "output size in spatial dimension 0", $"{Shape.MaxElements + 1L}", TooLarge);

    [Fact]
    public void Adaptive_pool_output_past_the_element_limit_is_refused() =>
        Throws<ShapeException>(() => new AdaptiveAvgPool2d(int.MaxValue).OutputShape([1, 1, 4, 4]), "2147483647, 2147483647", TooLarge);

    [Fact]
    public void MaxUnpool_output_past_int_range_is_refused() =>
        Throws<ShapeException>(() => new MaxUnpool2d(2, stride: 1 << 30).OutputShape([1, 1, 4, 4]), "MaxUnpool2d", "output size in spatial dimension 0", "3221225474", TooLarge);

    [Fact]
    public void Upsample_huge_scale_is_refused_before_any_table_is_made() =>
        Throws<ShapeException>(() => new Upsample(null, 1e30, UpsampleMode.Nearest, null, null).Forward(Tensor.Zeros([1, 1, 4])),
            "Upsample", "output size of spatial dimension 0", "4E+30", "elements a tensor can hold");

    [Fact]
    public void Upsample_index_table_past_the_limit_is_refused() =>
        Throws<ShapeException>(() => new Upsample(null, 1e9 / 4, UpsampleMode.Bicubic, null, null).OutputShape([1, 1, 4, 4]),
            "Upsample", "index table of spatial dimension 0", "1000000000 outputs × 4 taps");

    // 4. PixelShuffle: r·r overflowed to 0.
    [Fact]
    public void PixelShuffle_square_of_a_large_factor_does_not_wrap() =>
        Throws<ShapeException>(() => new PixelShuffle(65536).OutputShape([1, 4, 2, 2]), "PixelShuffle", "4294967296");

    // 5. Element counts wrapped.
    [Fact]
    public void Reshape_to_a_wrapping_element_count_is_refused() =>
        Throws<ShapeException>(() => Tensor.Zeros([1, 65536]).Reshape(1, 65536, 12648641, 22253377), "18446744073709617152", TooLarge);

    [Fact]
    public void Reshape_with_inferred_extent_and_huge_others_is_refused() =>
        Throws<ShapeException>(() => Tensor.Zeros([1, 65536]).Reshape(-1, 65536, 65536, 65536, 65536), "is invalid for input of size 65536");

    [Fact]
    public void Zeros_of_a_wrapping_shape_is_refused() =>
        Throws<ShapeException>(() => Tensor.Zeros([65536, 65536, 65536, 65536]), "18446744073709551616", TooLarge);

    [Fact]
    public void A_zero_extent_keeps_a_huge_shape_empty() => Assert.Equal(0, new Shape(0, int.MaxValue, int.MaxValue).ElementCount);

    // 7. Weights.Random allocated whatever was declared.
    [Fact]
    public void Random_weights_past_the_limit_are_refused_before_allocating() =>
        Throws<ShapeException>(() => Linear.Load(Weights.Random(0), 1, int.MaxValue), "2147483647, 1", TooLarge);

    [Fact]
    public void PReLU_description_past_the_limit_is_refused() =>
        Throws<ShapeException>(() => ModuleDescription.Build("""{"type":"PReLU","num_parameters":2147483647}""", Weights.Random(0)), TooLarge);

    // 8. A repeated field inside one tensor entry.
    [Fact]
    public void Duplicate_field_in_a_tensor_entry_is_refused()
    {
        string header = """{"t":{"dtype":"I8","dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        var h = System.Text.Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + 4];
        BitConverter.GetBytes((ulong)h.Length).CopyTo(bytes, 0);
        h.CopyTo(bytes, 8);
        using var f = TempFile.With(bytes);
        Throws<SafeTensorsException>(() => SafeTensors.Open(f.Path).Dispose(), "tensor 't'", "duplicate field 'dtype'");
    }

    [Fact]
    public void Tensor_entry_past_the_element_limit_is_refused()
    {
        string header = """{"t":{"dtype":"U8","shape":[65536,65536],"data_offsets":[0,0]}}""";
        var h = System.Text.Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length];
        BitConverter.GetBytes((ulong)h.Length).CopyTo(bytes, 0);
        h.CopyTo(bytes, 8);
        using var f = TempFile.With(bytes);
        Throws<SafeTensorsException>(() => SafeTensors.Open(f.Path).Dispose(), "tensor 't'", "[65536, 65536]", "elements a tensor can hold");
    }

    // 9. A traced child named "".
    [Fact]
    public void Empty_child_name_is_a_ModuleDescriptionException() =>
        Throws<ModuleDescriptionException>(() => ModuleDescription.Build(
            """{"type":"Block","children":{"":{"type":"ReLU"}},"graph":[]}""", Weights.Random(0)), "Block", "child name ''");

    [Fact]
    public void Dotted_child_name_is_a_ModuleDescriptionException() =>
        Throws<ModuleDescriptionException>(() => ModuleDescription.Build(
            """{"type":"Block","children":{"a.b":{"type":"ReLU"}},"graph":[]}""", Weights.Random(0)), "Block", "child name 'a.b'");

    [Fact]
    public void Empty_weights_scope_is_the_librarys_ArgumentException() =>
        Throws<ArgumentException>(() => Weights.Random(0).At("layer").At(""), "Weights.At", "'layer'");
}
