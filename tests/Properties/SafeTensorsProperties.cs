using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Functional.Properties;

/// <summary>A uniquely named file under the temp directory, deleted on dispose.</summary>
internal sealed class TempFile : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(Folder, $"functional-test-{Guid.NewGuid():N}.safetensors");

    /// <summary>Memory-backed where there is one (the fuzzers write thousands of small files).</summary>
    private static readonly string Folder = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();

    public static TempFile With(byte[] bytes)
    {
        var f = new TempFile();
        File.WriteAllBytes(f.Path, bytes);
        return f;
    }

    public void Dispose()
    {
        try { File.Delete(Path); } catch (IOException) { }
    }
}

/// <summary>One generated tensor to write: name, dtype, shape and raw little-endian bytes.</summary>
internal sealed record TensorSpec(string Name, DType DType, Shape Shape, byte[] Bytes)
{
    public override string ToString() => $"{Name}: {DType}{Shape} ({Bytes.Length} bytes)";
}

/// <summary>Safetensors: lossless round trips of every dtype, and strict validation of every kind of corruption.</summary>
public class SafeTensorsProperties
{
    private static readonly DType[] AllDTypes = Enum.GetValues<DType>();
    private static readonly DType[] IntDTypes = [DType.I64, DType.I32, DType.I16, DType.I8, DType.U8, DType.BOOL];

    private static readonly string[] NamePool = ["weight", "layer.0.bias", "features.3.running_mean", "é", "quote\"d", "back\\slash", "a b", "中文", "x"];

    internal static Gen<TensorSpec> Spec(string name) =>
        from dtype in Gen.Elements(AllDTypes)
        from shape in Generators.Shapes(0, 5, 3)
        from bytes in (dtype == DType.BOOL ? Gen.Choose(0, 1) : Gen.Choose(0, 255)).Select(b => (byte)b)
            .ArrayOf((int)shape.ElementCount * SafeTensors.Size(dtype))
        select new TensorSpec(name, dtype, shape, bytes);

    /// <summary>0..4 tensors with distinct names, in file order.</summary>
    internal static Gen<TensorSpec[]> Specs { get; } =
        Gen.Choose(0, 4).SelectMany(n =>
            Gen.Elements(NamePool).ArrayOf(n).SelectMany(names =>
                Gen.CollectToArray(names.Select((nm, i) => Spec($"{nm}{i}")))));

    internal static Gen<Dictionary<string, string>> Metadata { get; } =
        Gen.SubListOf(new[] { ("format", "pt"), ("ünïcode", "välue \"quoted\""), ("empty", ""), ("torch_version", "1.13.0") })
            .Select(l => l.ToDictionary(kv => kv.Item1, kv => kv.Item2));

    internal static void Write(string path, IEnumerable<TensorSpec> specs, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Write(path, specs.Select(s => KeyValuePair.Create(s.Name, new RawTensor(s.DType, s.Shape, s.Bytes))), metadata);

    // ---- independent conversions (what PyTorch's .float() and .long() give) ----

    /// <summary>int64 → float32 rounded to nearest, ties to even, by hand.</summary>
    internal static float LongToFloat(long v)
    {
        if (v == 0) return 0f;
        bool negative = v < 0;
        ulong m = negative ? (ulong)(-(v + 1)) + 1 : (ulong)v;
        int bits = 64 - BitOperations.LeadingZeroCount(m);
        float f;
        if (bits <= 24) f = m;
        else
        {
            int shift = bits - 24;
            ulong q = m >> shift, rem = m & ((1UL << shift) - 1), half = 1UL << (shift - 1);
            if (rem > half || (rem == half && (q & 1) == 1)) q++;
            f = MathF.ScaleB(q, shift);
        }
        return negative ? -f : f;
    }

    /// <summary>Element <paramref name="i"/> as an integer, assembled byte by byte (little-endian, sign-extended for signed types).</summary>
    internal static long IntAt(DType dtype, byte[] b, int i)
    {
        int size = SafeTensors.Size(dtype);
        ulong v = 0;
        for (int k = size - 1; k >= 0; k--) v = (v << 8) | b[i * size + k];
        if (dtype is DType.U8 or DType.BOOL || size == 8) return (long)v;
        int unused = 64 - 8 * size;
        return (long)(v << unused) >> unused;
    }

    internal static float FloatAt(DType dtype, byte[] b, int i) => dtype switch
    {
        DType.F64 => (float)BitConverter.ToDouble(b, i * 8),
        DType.F32 => BitConverter.ToSingle(b, i * 4),
        DType.F16 => (float)BitConverter.ToHalf(b, i * 2),
        DType.BF16 => BitConverter.ToSingle([0, 0, b[i * 2], b[i * 2 + 1]]),
        DType.BOOL => b[i] != 0 ? 1f : 0f,
        _ => LongToFloat(IntAt(dtype, b, i)),
    };

    private static bool SameFloat(float a, float b) =>
        float.IsNaN(a) ? float.IsNaN(b) : BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    [Fact]
    public void Independent_long_to_float_agrees_with_known_roundings()
    {
        // 2^24 + 1 is a tie that rounds to even (down); 2^24 + 3 rounds up; the extremes are powers of two.
        Assert.Equal(16777216f, LongToFloat(16777217));
        Assert.Equal(16777220f, LongToFloat(16777219));
        Assert.Equal(-9.223372036854775808e18f, LongToFloat(long.MinValue));
        Assert.Equal(9.223372036854775808e18f, LongToFloat(long.MaxValue));
        Assert.Equal(-3f, LongToFloat(-3));
    }

    [Property(MaxTest = 60)]
    public Property Every_dtype_round_trips_through_a_file() =>
        Prop.ForAll(Gen.Zip(Specs, Metadata).ToArbitrary(), t =>
        {
            var (specs, metadata) = t;
            using var tmp = new TempFile();
            Write(tmp.Path, specs, metadata);

            var file = File.ReadAllBytes(tmp.Path);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
            Assert.Equal(0UL, headerLength % 8);
            Assert.Equal(8 + (long)headerLength + specs.Sum(s => (long)s.Bytes.Length), file.LongLength);

            using var st = SafeTensors.Open(tmp.Path);
            Assert.Equal(specs.Select(s => s.Name), st.Names);
            Assert.Equal(metadata.OrderBy(kv => kv.Key), st.Metadata.OrderBy(kv => kv.Key));
            foreach (var s in specs)
            {
                Assert.True(st.Contains(s.Name));
                Assert.Equal((s.DType, s.Shape), st.Describe(s.Name));
                var raw = st.ReadRaw(s.Name);
                Assert.Equal(s.DType, raw.DType);
                Assert.Equal(s.Shape, raw.Shape);
                Assert.Equal(s.Bytes, raw.Bytes.ToArray());

                var f = st.ReadFloat(s.Name);
                Assert.Equal(s.Shape, f.Shape);
                for (int i = 0; i < f.Count; i++)
                {
                    float expected = FloatAt(s.DType, s.Bytes, i);
                    Assert.True(SameFloat(expected, f.Span[i]), $"{s}: element {i} reads {f.Span[i]:R}, .float() gives {expected:R}");
                }

                if (IntDTypes.Contains(s.DType))
                {
                    var (values, shape) = st.ReadInt64(s.Name);
                    Assert.Equal(s.Shape, shape);
                    Assert.Equal(Enumerable.Range(0, values.Length).Select(i => IntAt(s.DType, s.Bytes, i)), values);
                }
                else
                {
                    var e = Assert.Throws<SafeTensorsException>(() => st.ReadInt64(s.Name));
                    Assert.Contains(s.Name, e.Message);
                    Assert.Contains(tmp.Path, e.Message);
                }
            }
            Assert.False(st.Contains("not-there"));
            var missing = Assert.Throws<SafeTensorsException>(() => st.ReadRaw("not-there"));
            Assert.Contains("not-there", missing.Message);
        });

    [Property(MaxTest = 40)]
    public Property Float32_tensors_round_trip_bit_for_bit() =>
        Prop.ForAll(Generators.Tensors(Generators.Shapes(0, 4, 3)).ToArbitrary(), x =>
        {
            using var tmp = new TempFile();
            SafeTensors.Write(tmp.Path, [KeyValuePair.Create("t", x)]);
            using var st = SafeTensors.Open(tmp.Path);
            var y = st.ReadFloat("t");
            Assert.Equal(x.Shape, y.Shape);
            Assert.Equal(x.ToArray().Select(BitConverter.SingleToInt32Bits), y.ToArray().Select(BitConverter.SingleToInt32Bits));
        });

    [Fact]
    public void Writer_refuses_duplicate_reserved_and_mis_sized_tensors()
    {
        using var tmp = new TempFile();
        var t = new RawTensor(DType.F32, [2], new byte[8]);
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(tmp.Path, [KeyValuePair.Create("a", t), KeyValuePair.Create("a", t)]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(tmp.Path, [KeyValuePair.Create("__metadata__", t)]));
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Write(tmp.Path, [KeyValuePair.Create("short", new RawTensor(DType.F32, [3], new byte[8]))]));
        Assert.Contains("short", e.Message);
    }

    // ---- corruption ----

    /// <summary>A file made from a header text and data bytes, the 8-byte length being the header's.</summary>
    internal static byte[] FileOf(string header, byte[] data, ulong? length = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    /// <summary>Opens the file and reads every tensor every way, returning the exception if any.</summary>
    private static Exception? OpenAndReadAll(string path)
    {
        var task = Task.Run(() =>
        {
            try
            {
                using var st = SafeTensors.Open(path);
                long total = 0;
                foreach (var n in st.Names)
                {
                    var (dtype, shape) = st.Describe(n);
                    var raw = st.ReadRaw(n);
                    Assert.Equal(shape.ElementCount * SafeTensors.Size(dtype), raw.Bytes.Length);
                    total += raw.Bytes.Length;
                    Assert.Equal(shape, st.ReadFloat(n).Shape);
                    if (IntDTypes.Contains(dtype)) Assert.Equal(shape.ElementCount, st.ReadInt64(n).Values.LongLength);
                }
                // A file that opens is consistent: its tensors tile the data section exactly.
                long fileLength = new FileInfo(path).Length;
                using var fs = File.OpenRead(path);
                Span<byte> len = stackalloc byte[8];
                fs.ReadExactly(len);
                Assert.Equal(fileLength - 8 - (long)BinaryPrimitives.ReadUInt64LittleEndian(len), total);
                return null;
            }
            catch (Exception e) { return e; }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(20)), $"opening {path} hung");
        return task.Result;
    }

    private abstract record Mutation
    {
        public abstract byte[] Apply(byte[] file);
    }

    private sealed record Truncate(double Fraction) : Mutation
    {
        public override byte[] Apply(byte[] f) => f[..(int)(f.Length * Fraction)];
    }

    private sealed record SetByte(double Where, byte Value, bool HeaderOnly) : Mutation
    {
        public override byte[] Apply(byte[] f)
        {
            var c = (byte[])f.Clone();
            long hl = f.Length < 8 ? 0 : Math.Min((long)BinaryPrimitives.ReadUInt64LittleEndian(f), f.Length - 8);
            int pos = HeaderOnly && hl > 0 ? 8 + (int)(hl * Where) : (int)(f.Length * Where);
            if (pos < c.Length) c[pos] = Value;
            return c;
        }
    }

    private sealed record SetLength(ulong Length) : Mutation
    {
        public override byte[] Apply(byte[] f)
        {
            var c = (byte[])f.Clone();
            if (c.Length >= 8) BinaryPrimitives.WriteUInt64LittleEndian(c, Length);
            return c;
        }
    }

    private sealed record Append(int Count) : Mutation
    {
        public override byte[] Apply(byte[] f) => [.. f, .. new byte[Count]];
    }

    /// <summary>Replaces one character of the header text by another of JSON's structural or digit characters, keeping the length.</summary>
    private sealed record EditHeaderText(double Where, char With) : Mutation
    {
        public override byte[] Apply(byte[] f)
        {
            var c = (byte[])f.Clone();
            long hl = f.Length < 8 ? 0 : Math.Min((long)BinaryPrimitives.ReadUInt64LittleEndian(f), f.Length - 8);
            if (hl <= 0) return c;
            int pos = 8 + (int)(hl * Where);
            if (c[pos] < 0x80) c[pos] = (byte)With;
            return c;
        }
    }

    private static readonly Gen<double> Fraction = Gen.Choose(0, 9999).Select(i => i / 10000.0);

    private static readonly Gen<Mutation> Mutations = Gen.OneOf(
        Fraction.Select(f => (Mutation)new Truncate(f)),
        Gen.Zip(Fraction, Gen.Choose(0, 255)).Select(t => (Mutation)new SetByte(t.Item1, (byte)t.Item2, true)),
        Gen.Zip(Fraction, Gen.Choose(0, 255)).Select(t => (Mutation)new SetByte(t.Item1, (byte)t.Item2, false)),
        Gen.OneOf(
            Gen.Elements(0UL, 1UL, 7UL, ulong.MaxValue, 1UL << 63, (ulong)long.MaxValue, 100_000_001UL, 99_999_999UL, uint.MaxValue),
            Gen.Choose(0, 4096).Select(i => (ulong)i)).Select(l => (Mutation)new SetLength(l)),
        Gen.Choose(1, 64).Select(n => (Mutation)new Append(n)),
        Gen.Zip(Fraction, Gen.Elements("{}[],:\"0123456789-.e ntf\\".ToCharArray())).Select(t => (Mutation)new EditHeaderText(t.Item1, t.Item2)));

    [Property(MaxTest = 300)]
    public Property Corrupted_files_open_consistently_or_throw_SafeTensorsException() =>
        Prop.ForAll(Gen.Zip(Gen.Zip(Specs, Metadata), Gen.Choose(1, 3).SelectMany(n => Mutations.ArrayOf(n))).ToArbitrary(), t =>
        {
            var ((specs, metadata), mutations) = t;
            byte[] bytes;
            using (var valid = new TempFile())
            {
                Write(valid.Path, specs, metadata);
                bytes = File.ReadAllBytes(valid.Path);
            }
            foreach (var m in mutations) bytes = m.Apply(bytes);
            using var tmp = TempFile.With(bytes);
            var e = OpenAndReadAll(tmp.Path);
            if (e is not null)
            {
                Assert.True(e is SafeTensorsException, $"{string.Join(", ", mutations.AsEnumerable())} gave {e}");
                Assert.Contains(tmp.Path, e.Message);
            }
        });

    /// <summary>One header entry as written, possibly inconsistent.</summary>
    private sealed record HeaderEntry(string Name, string DType, int[] Shape, long Begin, long End)
    {
        public override string ToString() => $"{Name}: {DType}[{string.Join(",", Shape)}] @[{Begin},{End})";
    }

    private static readonly Gen<(HeaderEntry[] Entries, long DataLength)> Headers =
        from n in Gen.Choose(0, 4)
        from distinct in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from names in distinct ? Gen.Constant(Enumerable.Range(0, n).Select(i => $"t{i}").ToArray()) : Gen.Elements("p", "q").ArrayOf(n)
        from dtypes in Gen.Frequency((12, Gen.Elements(Enum.GetNames<DType>())), (1, Gen.Elements("F8_E4M3", "Q4", "f32", "", "I128"))).ArrayOf(n)
        from shapes in Gen.Choose(0, 3).SelectMany(r => Gen.Choose(0, 3).ArrayOf(r)).ArrayOf(n)
        from nudges in Gen.Frequency((6, Gen.Constant((0, 0))), (1, Gen.Zip(Gen.Choose(-3, 3), Gen.Choose(-3, 3)))).ArrayOf(n)
        from order in Gen.Shuffle(Enumerable.Range(0, n).ToArray())
        from shuffle in Gen.Elements(true, false)
        from extra in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Choose(-3, 3)))
        select Tile(names, dtypes, shapes, nudges, shuffle ? order : Enumerable.Range(0, n).ToArray(), extra);

    /// <summary>Entries laid end to end in the data section (then nudged), listed in <paramref name="order"/>.</summary>
    private static (HeaderEntry[], long) Tile(string[] names, string[] dtypes, int[][] shapes, (int, int)[] nudges, int[] order, int extra)
    {
        var entries = new HeaderEntry[names.Length];
        long offset = 0;
        for (int i = 0; i < names.Length; i++)
        {
            int size = Enum.TryParse<DType>(dtypes[i], out var dt) && Enum.IsDefined(dt) && dtypes[i] == dt.ToString() ? SafeTensors.Size(dt) : 4;
            long bytes = shapes[i].Aggregate(1L, (p, d) => p * d) * size;
            entries[i] = new HeaderEntry(names[i], dtypes[i], shapes[i], offset + nudges[i].Item1, offset + bytes + nudges[i].Item2);
            offset += bytes;
        }
        return (order.Select(i => entries[i]).ToArray(), Math.Max(0, offset + extra));
    }

    /// <summary>The format's rules, written out independently of the reader.</summary>
    private static bool IsValid(HeaderEntry[] entries, long dataLength)
    {
        if (entries.Select(e => e.Name).Distinct().Count() != entries.Length) return false;
        foreach (var e in entries)
        {
            if (!Enum.GetNames<DType>().Contains(e.DType)) return false;
            if (e.Begin < 0 || e.End < e.Begin || e.End > dataLength) return false;
            long numel = e.Shape.Aggregate(1L, (p, d) => p * d);
            if (numel * SafeTensors.Size(Enum.Parse<DType>(e.DType)) != e.End - e.Begin) return false;
        }
        long at = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != at) return false;
            at = e.End;
        }
        return at == dataLength;
    }

    [Property(MaxTest = 300)]
    public Property Generated_headers_open_exactly_when_they_follow_the_format() =>
        Prop.ForAll(Headers.ToArbitrary(), h =>
        {
            var (entries, dataLength) = h;
            string header = "{" + string.Join(",", entries.Select(e =>
                Entry(e.Name, e.DType, "[" + string.Join(",", e.Shape) + "]", $"[{e.Begin},{e.End}]"))) + "}";
            using var tmp = TempFile.With(FileOf(header, new byte[dataLength]));
            var error = OpenAndReadAll(tmp.Path);
            string what = $"{string.Join("; ", entries.AsEnumerable())} with {dataLength} data bytes";
            if (IsValid(entries, dataLength))
            {
                Assert.True(error is null, $"{what} is valid but: {error}");
                using var st = SafeTensors.Open(tmp.Path);
                Assert.Equal(entries.Select(e => e.Name), st.Names);
                foreach (var e in entries)
                    Assert.Equal((Enum.Parse<DType>(e.DType), new Shape(e.Shape)), st.Describe(e.Name));
            }
            else
            {
                Assert.True(error is SafeTensorsException, $"{what} is invalid but gave {(error is null ? "no error" : error.ToString())}");
                Assert.Contains(tmp.Path, error!.Message);
            }
        });

    /// <summary>Header texts that must be refused, each with the name the message must contain (besides the file).</summary>
    public static TheoryData<string, string, string> BadHeaders()
    {
        string ok = Entry("a", "F32", "[2]", "[0,8]");
        return new()
        {
            { "not JSON", "{\"a\":", "" },
            { "empty header", "", "" },
            { "header is an array", "[]", "" },
            { "header is a string", "\"x\"", "" },
            { "entry not an object", "{\"w.bad\":[1,2]}", "'w.bad'" },
            { "unknown dtype", "{" + Entry("w.bad", "F8_E4M3", "[2]", "[0,8]") + "}", "F8_E4M3" },
            { "lower-case dtype", "{" + Entry("w.bad", "f32", "[2]", "[0,8]") + "}", "'w.bad'" },
            { "missing dtype", "{\"w.bad\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "'w.bad'" },
            { "missing shape", "{\"w.bad\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "'w.bad'" },
            { "missing offsets", "{\"w.bad\":{\"dtype\":\"F32\",\"shape\":[2]}}", "'w.bad'" },
            { "negative extent", "{" + Entry("w.bad", "F32", "[-2]", "[0,8]") + "}", "'w.bad'" },
            { "fractional extent", "{" + Entry("w.bad", "F32", "[2.5]", "[0,8]") + "}", "'w.bad'" },
            { "string extent", "{" + Entry("w.bad", "F32", "[\"2\"]", "[0,8]") + "}", "'w.bad'" },
            { "huge extent", "{" + Entry("w.bad", "F32", "[4294967296]", "[0,8]") + "}", "'w.bad'" },
            { "end before begin", "{" + Entry("w.bad", "F32", "[2]", "[8,0]") + "}", "'w.bad'" },
            { "negative begin", "{" + Entry("w.bad", "F32", "[2]", "[-8,0]") + "}", "'w.bad'" },
            { "one offset", "{" + Entry("w.bad", "F32", "[2]", "[8]") + "}", "'w.bad'" },
            { "three offsets", "{" + Entry("w.bad", "F32", "[2]", "[0,4,8]") + "}", "'w.bad'" },
            { "string offset", "{" + Entry("w.bad", "F32", "[2]", "[\"0\",8]") + "}", "'w.bad'" },
            { "null offset", "{" + Entry("w.bad", "F32", "[2]", "[0,null]") + "}", "'w.bad'" },
            { "fractional offset", "{" + Entry("w.bad", "F32", "[2]", "[0,8.0]") + "}", "'w.bad'" },
            { "offsets past the data", "{" + Entry("w.bad", "F32", "[4]", "[0,16]") + "}", "'w.bad'" },
            { "shape needs more bytes", "{" + Entry("w.bad", "F32", "[3]", "[0,8]") + "}", "'w.bad'" },
            { "shape needs fewer bytes", "{" + Entry("w.bad", "F64", "[]", "[0,4]") + ",\"u\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", "'w.bad'" },
            { "unexpected field", "{\"w.bad\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", "'extra'" },
            { "duplicate name", "{" + Entry("dup", "F32", "[2]", "[0,8]") + "," + Entry("dup", "F32", "[0]", "[8,8]") + "}", "'dup'" },
            { "gap between tensors", "{" + Entry("w.bad", "F32", "[1]", "[0,4]") + "," + Entry("u.next", "U8", "[2]", "[6,8]") + "}", "'u.next'" },
            { "overlap", "{" + Entry("w.bad", "F32", "[2]", "[0,8]") + "," + Entry("u.next", "F32", "[1]", "[4,8]") + "}", "'u.next'" },
            { "trailing bytes (data not covered)", "{" + Entry("w.bad", "F32", "[1]", "[0,4]") + "}", "trailing" },
            { "metadata not an object", "{\"__metadata__\":[]," + ok + "}", "__metadata__" },
            { "metadata value not a string", "{\"__metadata__\":{\"k\":1}," + ok + "}", "'k'" },
            { "duplicate metadata", "{\"__metadata__\":{}," + ok + ",\"__metadata__\":{}}", "__metadata__" },
            { "lone surrogate in a name", "{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "" },
            { "lone surrogate in a dtype", "{" + Entry("w.bad", "F3\\udc002", "[2]", "[0,8]") + "}", "'w.bad'" },
            { "lone surrogate in metadata", "{\"__metadata__\":{\"k\":\"\\ud800\"}," + ok + "}", "" },
            { "too deeply nested", "{\"__metadata__\":" + new string('[', 100) + new string(']', 100) + "}", "" },
        };
    }

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Malformed_header_is_refused_naming_the_file_and_the_culprit(string what, string header, string culprit)
    {
        using var tmp = TempFile.With(FileOf(header, new byte[8]));
        var e = OpenAndReadAll(tmp.Path);
        Assert.NotNull(e);
        Assert.True(e is SafeTensorsException, $"{what}: {e}");
        Assert.Contains(tmp.Path, e.Message);
        Assert.Contains(culprit, e.Message.Replace(tmp.Path, ""));
    }

    [Fact]
    public void A_valid_hand_made_header_opens()
    {
        // The baseline the malformed cases differ from: two tensors tiling 8 bytes, with metadata.
        string header = "{\"__metadata__\":{\"format\":\"pt\"}," + Entry("t", "F32", "[1]", "[0,4]") + "," + Entry("u", "I16", "[2]", "[4,8]") + "}";
        var data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(4), -7);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(6), 300);
        using var tmp = TempFile.With(FileOf(header, data));
        Assert.Null(OpenAndReadAll(tmp.Path));
        using var st = SafeTensors.Open(tmp.Path);
        Assert.Equal([1.5f], st.ReadFloat("t").ToArray());
        Assert.Equal([-7L, 300L], st.ReadInt64("u").Values);
        Assert.Equal("pt", st.Metadata["format"]);
    }

    public static TheoryData<string, ulong, int> BadLengths() => new()
    {
        { "length past the end", 1000, 10 },
        { "length just past the end", 11, 10 },
        { "length over the 100 MB limit", 100_000_001, 10 },
        { "length 2^63", 1UL << 63, 10 },
        { "length 2^64 - 1", ulong.MaxValue, 10 },
        { "length zero", 0, 10 },
    };

    [Theory]
    [MemberData(nameof(BadLengths))]
    public void Bad_header_length_is_refused_naming_the_file(string what, ulong length, int fileBytesAfterLength)
    {
        var bytes = new byte[8 + fileBytesAfterLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        using var tmp = TempFile.With(bytes);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(tmp.Path));
        Assert.Contains(tmp.Path, e.Message);
        if (length != 0) Assert.True(e.Message.Replace(tmp.Path, "").Contains(length.ToString()), $"{what}: {e.Message}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    public void Files_shorter_than_the_length_field_are_refused(int size)
    {
        using var tmp = TempFile.With(new byte[size]);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(tmp.Path));
        Assert.Contains(tmp.Path, e.Message);
    }

    [Fact]
    public void Truncated_data_and_appended_bytes_are_refused_naming_the_tensor()
    {
        var specs = new[] { new TensorSpec("first", DType.F32, [2], new byte[8]), new TensorSpec("last.weight", DType.I64, [3], new byte[24]) };
        using var valid = new TempFile();
        Write(valid.Path, specs);
        var bytes = File.ReadAllBytes(valid.Path);

        using var cut = TempFile.With(bytes[..^1]);
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(cut.Path));
        Assert.Contains(cut.Path, e.Message);
        Assert.Contains("'last.weight'", e.Message);

        using var longer = TempFile.With([.. bytes, 0, 0, 0]);
        e = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(longer.Path));
        Assert.Contains(longer.Path, e.Message);
        Assert.Matches(@"\b3 trailing bytes", e.Message);
    }

    [Fact]
    public void Missing_file_is_a_SafeTensorsException_naming_it()
    {
        string path = Path.Combine(Path.GetTempPath(), $"functional-missing-{Guid.NewGuid():N}.safetensors");
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensors.Open(path));
        Assert.Contains(path, e.Message);
    }
}
