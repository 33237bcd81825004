using System.Runtime.InteropServices;

namespace Functional.Bench;

/// <summary>What the results were measured on.</summary>
public sealed record Machine(string Cpu, int Cores, string Flags, string Os, string Runtime, string Tunables)
{
    public static Machine Describe()
    {
        string cpu = "unknown", flags = "";
        try
        {
            var lines = File.ReadAllLines("/proc/cpuinfo");
            cpu = lines.FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? cpu;
            var all = (lines.FirstOrDefault(l => l.StartsWith("flags"))?.Split(':', 2)[1] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            flags = string.Join(" ", new[] { "avx2", "fma", "avx512f" }.Where(all.Contains));
        }
        catch (IOException) { }
        return new(cpu, Environment.ProcessorCount, flags, RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "");
    }

    /// <summary>The 1-minute load average: other processes competing for the 2 cores.</summary>
    public static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    public override string ToString() => $"{Cpu}, {Cores} cores ({Flags}), {Os}, {Runtime}";
}
