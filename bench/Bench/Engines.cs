using Functional.Kernels;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Functional.Bench;

/// <summary>One engine running one workload, at a settable thread count.</summary>
public abstract class Engine : IDisposable
{
    /// <summary>Short label used in tables ("Functional", "libtorch", "ORT").</summary>
    public abstract string Label { get; }

    /// <summary>Sets the engine's intra-op thread count.</summary>
    public abstract void SetThreads(int threads);

    /// <summary>One call whose result is discarded (the timed unit).</summary>
    public abstract void Call();

    /// <summary>One call whose output is copied out, for the agreement check.</summary>
    public abstract float[] Output();

    /// <inheritdoc/>
    public virtual void Dispose() { }
}

/// <summary>
/// Functional: <see cref="Layer.Forward"/> on an immutable input; a new output per call, disposed
/// at once (as libtorch's tensors are freed), so the next call's output reuses its storage.
/// </summary>
public sealed class FunctionalEngine(Layer layer, Tensor input) : Engine
{
    public override string Label => "Functional";

    public override void SetThreads(int threads) => Parallelism.Threads = threads;

    public override void Call()
    {
        var output = layer.Forward(input);
        if (!ReferenceEquals(output, input)) output.Dispose();
    }

    public override float[] Output() => layer.Forward(input).ToArray();
}

/// <summary>
/// libtorch 2.10 through TorchSharp: torch.nn.functional calls under inference mode. Each call
/// runs in a dispose scope, so its output (and a pipeline's intermediates) are freed at once,
/// as a Python caller's refcounts would.
/// </summary>
public sealed class TorchEngine(Func<TT, TT> call, TT input) : Engine
{
    public override string Label => "libtorch";

    public override void SetThreads(int threads) => torch.set_num_threads(threads);

    public override void Call()
    {
        using var scope = torch.NewDisposeScope();
        call(input);
    }

    public override float[] Output()
    {
        using var scope = torch.NewDisposeScope();
        return call(input).contiguous().data<float>().ToArray();
    }
}

/// <summary>
/// ONNX Runtime 1.32 on the exported model: one session per thread count (intra-op threads =
/// the count, inter-op 1, sequential execution, all graph optimisations), input and output
/// bound to preallocated buffers (ORT's fastest calling pattern).
/// </summary>
public sealed class OrtEngine : Engine
{
    private readonly string modelPath;
    private readonly Dictionary<int, InferenceSession> sessions = [];
    private readonly OrtValue input;
    private readonly float[] outputBuffer;
    private readonly OrtValue output;
    private readonly RunOptions runOptions = new();
    private readonly string[] inputNames = ["x"];
    private readonly string[] outputNames = ["y"];
    private InferenceSession? session;

    public OrtEngine(string modelPath, float[] input, int[] inputShape, int[] outputShape)
    {
        this.modelPath = modelPath;
        this.input = OrtValue.CreateTensorValueFromMemory(input, inputShape.Select(d => (long)d).ToArray());
        outputBuffer = new float[outputShape.Aggregate(1L, (a, b) => a * b)];
        output = OrtValue.CreateTensorValueFromMemory(outputBuffer, outputShape.Select(d => (long)d).ToArray());
    }

    public override string Label => "ORT";

    public override void SetThreads(int threads)
    {
        if (!sessions.TryGetValue(threads, out session))
        {
            using var options = ModelBench.OrtOptions(threads);
            session = new InferenceSession(modelPath, options);
            sessions[threads] = session;
        }
    }

    public override void Call() => session!.Run(runOptions, inputNames, [input], outputNames, [output]);

    public override float[] Output()
    {
        Array.Fill(outputBuffer, float.NaN);
        Call();
        return (float[])outputBuffer.Clone();
    }

    public override void Dispose()
    {
        foreach (var s in sessions.Values) s.Dispose();
        input.Dispose();
        output.Dispose();
        runOptions.Dispose();
    }
}
