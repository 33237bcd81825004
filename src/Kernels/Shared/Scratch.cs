using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Functional.Kernels;

/// <summary>
/// Per-thread scratch for the convolution kernels (packed GEMM panels, column tiles).
/// One pinned array per thread, grown on demand and kept: a kernel call allocates nothing once
/// the threads it runs on have warmed up. Callers size their tiles so a thread's buffer stays at
/// a few MB at most. A buffer is used only inside one work item, which never waits on other work,
/// so no two users of the same thread's buffer can overlap.
/// </summary>
internal static unsafe class Scratch
{
    // 64-byte alignment: packed panels are read as whole cache lines by the micro-kernel.
    private const int AlignFloats = 16;

    [ThreadStatic] private static float[]? buffer;
    [ThreadStatic] private static float[]? shared;

    /// <summary>At least <paramref name="length"/> floats, 64-byte aligned, valid until this thread's next call.</summary>
    internal static float* Get(long length) => Get(ref buffer, length);

    /// <summary>
    /// A second per-thread buffer, independent of <see cref="Get(long)"/>: data a kernel prepares on the
    /// calling thread and then reads from every worker of one parallel region (the calling thread's
    /// own work items use <see cref="Get(long)"/> meanwhile).
    /// </summary>
    internal static float* GetShared(long length) => Get(ref shared, length);

    private static float* Get(ref float[]? buffer, long length)
    {
        if (length > Array.MaxLength - AlignFloats)
            throw new InvalidOperationException("Convolution scratch request too large.");
        float[]? b = buffer;
        if (b is null || b.Length < length + AlignFloats)
        {
            // Grow geometrically so a sequence of slightly larger requests does not reallocate each time.
            long want = Math.Max(length + AlignFloats, b is null ? 0 : Math.Min((long)b.Length * 3 / 2, Array.MaxLength));
            // Pinned (POH) so the raw pointer stays valid without a fixed block around every use.
            b = GC.AllocateUninitializedArray<float>((int)want, pinned: true);
            buffer = b;
        }
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(b));
        p = (p + 63) & ~(nint)63;
        return (float*)p;
    }
}
