using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Peft.Typed.Benchmarks.Models;

/// <summary>
/// Summary columns from <see cref="ModelWorkloads.FlopsPerCall"/> and the measured mean: GFLOP per call, achieved GFLOP/s,
/// and that as a fraction of the <see cref="ModelBenchmarks.MatMul2048"/> rate of the same run.
/// </summary>
public sealed class FlopsColumn(FlopsColumn.Kind kind) : IColumn
{
    public enum Kind
    {
        GflopPerCall,
        GflopsPerSecond,
        FractionOfCeiling,
    }

    public string Id => $"{nameof(FlopsColumn)}.{kind}";

    public string ColumnName => kind switch
    {
        Kind.GflopPerCall => "GFLOP/call",
        Kind.GflopsPerSecond => "GFLOP/s",
        _ => "of matmul",
    };

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (int)kind;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => kind switch
    {
        Kind.GflopPerCall => "Matrix-product FLOPs of one call (FlopCounter; backward = 2× forward), in 10^9",
        Kind.GflopsPerSecond => "GFLOP/call divided by the mean time",
        _ => "GFLOP/s as a fraction of the 2048² float32 matmul of the same run",
    };

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var flops = Flops(benchmarkCase);
        if (flops is null) return "-";
        if (kind == Kind.GflopPerCall) return (flops.Value / 1e9).ToString("F3", style.CultureInfo);
        var rate = Rate(summary, benchmarkCase);
        if (rate is null) return "-";
        if (kind == Kind.GflopsPerSecond) return rate.Value.ToString("F1", style.CultureInfo);
        var ceiling = summary.BenchmarksCases.FirstOrDefault(c => c.Descriptor.WorkloadMethod.Name == nameof(ModelBenchmarks.MatMul2048));
        var ceilingRate = ceiling is null ? null : Rate(summary, ceiling);
        return ceilingRate is null ? "-" : (rate.Value / ceilingRate.Value).ToString("P1", style.CultureInfo);
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    private static double? Flops(BenchmarkCase benchmarkCase) =>
        ModelWorkloads.FlopsPerCall.TryGetValue(benchmarkCase.Descriptor.WorkloadMethod.Name, out var flops) ? flops : null;

    // GFLOP/s = FLOPs / mean nanoseconds.
    private static double? Rate(Summary summary, BenchmarkCase benchmarkCase)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var flops = Flops(benchmarkCase);
        return mean is > 0 && flops is not null ? flops.Value / mean.Value : null;
    }
}
