using System.Diagnostics;
using System.Globalization;

namespace Bench.LoadGen;

/// <summary>CPU time of the benchmark's own processes and of every other user-space process (<c>/proc/*/stat</c>), so
/// that a run can tell how much CPU other processes took while it measured (others may share this machine). Kernel
/// threads are left out: they mostly carry the benchmark's own loopback traffic.</summary>
internal sealed class CpuMeter(IEnumerable<int> serverPids)
{
    // /proc/stat counts in USER_HZ ticks, 100 per second on Linux.
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);
    private readonly int[] _pids = [.. serverPids.Distinct()];

    /// <summary>One reading.</summary>
    public sealed record Sample(
        long Timestamp, TimeSpan Steal, IReadOnlyDictionary<int, TimeSpan> Processes, TimeSpan Self,
        IReadOnlyDictionary<int, (long StartTime, long Ticks)> Others, TimeSpan MachineBusy);

    /// <summary>The CPU used between two samples.</summary>
    public sealed record Usage(TimeSpan Elapsed, TimeSpan Self, IReadOnlyDictionary<int, TimeSpan> Processes, TimeSpan Foreign, TimeSpan Steal)
    {
        /// <summary>CPU time of a benchmark process, or null when it was not measured.</summary>
        public TimeSpan? Of(int? pid) => pid is { } p && Processes.TryGetValue(p, out var t) ? t : null;

        /// <summary>CPU time of a server's processes together, or null when none of them was measured.</summary>
        public TimeSpan? Of(IEnumerable<int> pids)
        {
            var measured = pids.Where(Processes.ContainsKey).ToList();
            return measured.Count == 0 ? null : measured.Aggregate(TimeSpan.Zero, (sum, p) => sum + Processes[p]);
        }

        /// <summary>Average number of cores other processes kept busy.</summary>
        public double ForeignCores => Elapsed > TimeSpan.Zero ? Foreign / Elapsed : 0;

        /// <summary>Average number of cores the hypervisor gave to others (steal).</summary>
        public double StealCores => Elapsed > TimeSpan.Zero ? Steal / Elapsed : 0;
    }

    public Sample Read()
    {
        var (busy, steal) = ReadMachine();
        var processes = new Dictionary<int, TimeSpan>();
        foreach (var pid in _pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                processes[pid] = process.TotalProcessorTime;
            }
            catch (ArgumentException)
            {
                // Gone: not counted.
            }
        }
        using var self = Process.GetCurrentProcess();
        return new Sample(Stopwatch.GetTimestamp(), steal, processes, self.TotalProcessorTime, ReadOthers(self.Id), busy);
    }

    public static Usage Between(Sample a, Sample b)
    {
        var processes = b.Processes.Where(p => a.Processes.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value - a.Processes[p.Key]);
        // A process that started in between counts whole; one that ended in between shows up in its parent's
        // children time once reaped, whole life included: an overestimate, bounded by what the machine did besides
        // the benchmark (which in turn includes the kernel's work on the benchmark's loopback traffic).
        long ticks = 0;
        foreach (var (pid, now) in b.Others)
        {
            ticks += a.Others.TryGetValue(pid, out var then) && then.StartTime == now.StartTime ? Math.Max(0, now.Ticks - then.Ticks) : now.Ticks;
        }
        var ours = processes.Values.Aggregate(b.Self - a.Self, (sum, t) => sum + t);
        var machineOthers = b.MachineBusy - a.MachineBusy - ours;
        var foreign = TimeSpan.FromTicks(Math.Min((ticks * Tick).Ticks, Math.Max(0, machineOthers.Ticks)));
        return new Usage(Stopwatch.GetElapsedTime(a.Timestamp, b.Timestamp), b.Self - a.Self, processes, foreign, b.Steal - a.Steal);
    }

    /// <summary>Waits until other processes use at most <paramref name="maxForeignCores"/> over one second, or until
    /// <paramref name="maxWait"/> has passed; returns the last one-second reading.</summary>
    public async Task<double> WaitForQuietAsync(double maxForeignCores, TimeSpan maxWait)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var a = Read();
            await Task.Delay(1000);
            var foreign = Between(a, Read()).ForeignCores;
            if (foreign <= maxForeignCores || Stopwatch.GetTimestamp() >= deadline)
            {
                return foreign;
            }
        }
    }

    private Dictionary<int, (long StartTime, long Ticks)> ReadOthers(int self)
    {
        var others = new Dictionary<int, (long, long)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self || _pids.Contains(pid))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // Exited meanwhile.
            }
            // pid (comm) state ppid ... utime stime cutime cstime ... starttime: fields counted from the state, after the comm.
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ppid = long.Parse(f[1], CultureInfo.InvariantCulture);
            if (pid == 2 || ppid == 2)
            {
                continue; // Kernel threads.
            }
            var ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)
                + long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
            others[pid] = (long.Parse(f[19], CultureInfo.InvariantCulture), ticks);
        }
        return others;
    }

    private static (TimeSpan Busy, TimeSpan Steal) ReadMachine()
    {
        try
        {
            // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user).
            var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            return ((f[0] + f[1] + f[2] + f[5] + f[6]) * Tick, (f.Length > 7 ? f[7] : 0) * Tick);
        }
        catch (IOException)
        {
            return (TimeSpan.Zero, TimeSpan.Zero);
        }
    }
}
