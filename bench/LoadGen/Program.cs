using System.Globalization;
using Bench.LoadGen;

// Bench.LoadGen: a closed-loop HTTP load generator for bench/run.sh.
//   ports N            prints N free loopback TCP ports
//   wait URL [SECS]    waits until GET URL answers 200
//   run OPTIONS        runs the proxy-overhead scenarios and writes a markdown report (see Options)
//   overhead OPTIONS   fixed-rate latency and saturation throughput against a plain YARP route and nginx (see OverheadOptions)
//   stream OPTIONS     runs the streamed-moderation benchmark and writes a markdown report (see StreamOptions)
//   cache OPTIONS      runs the verdict-cache benchmark and writes a markdown report (see CacheBenchOptions)
try
{
    return args switch
    {
        ["ports", var n] => Ports.Print(int.Parse(n, CultureInfo.InvariantCulture)),
        ["wait", var url] => await Ports.WaitAsync(new Uri(url), TimeSpan.FromSeconds(60)),
        ["wait", var url, var secs] => await Ports.WaitAsync(new Uri(url), TimeSpan.FromSeconds(double.Parse(secs, CultureInfo.InvariantCulture))),
        ["run", .. var rest] => await Benchmark.RunAsync(Options.Parse(rest)),
        ["overhead", .. var rest] => await OverheadBenchmark.RunAsync(OverheadOptions.Parse(rest)),
        ["stream", .. var rest] => await StreamBenchmark.RunAsync(StreamOptions.Parse(rest)),
        ["cache", .. var rest] => await CacheBenchmark.RunAsync(CacheBenchOptions.Parse(rest)),
        _ => Usage(),
    };
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    await Console.Error.WriteLineAsync("error: " + ex.Message);
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Bench.LoadGen ports N
               Bench.LoadGen wait URL [SECONDS]
               Bench.LoadGen run --upstream URL --gateway-workersai URL --gateway-openai URL
                                 [--upstream-pid PID] [--gateway-workersai-pid PID] [--gateway-openai-pid PID]
                                 [--nginx URL] [--nginx-pids PID,...] [--connections 1,16,64] [--prime 2] [--warmup 3] [--duration 10] [--scenarios NAME,...]
                                 [--rounds 5] [--max-foreign-cores 0.2] [--quiet-wait 10]
                                 [--out FILE] [--command TEXT] [--commit TEXT]
               Bench.LoadGen overhead (the options of run, less --connections, --duration, --prime and --warmup)
                                 [--scenarios openai-chat,workers-ai] [--modes latency,saturation] [--clients 4] [--rate 100]
                                 [--latency-duration 20] [--saturation-connections 16] [--saturation-duration 10]
                                 [--rounds 5] [--warmup 0.5] [--prime 3]
               Bench.LoadGen stream --gateway URL --guard URL [--gateway-pid PID] [--upstream-pid PID] [--guard-pid PID]
                                 [--tokens 500] [--tokens-per-second 100] [--first-token-ms MS] [--latencies 5,20,100]
                                 [--matrix openai-chat:windowed,openai-chat:buffered,openai-chat:prompt-only:20,workers-ai:windowed]
                                 [--rounds 4] [--concurrency 1] [--warmup-rounds 2] [--warmup-tokens 40]
                                 [--window 400] [--min-window 100] [--hold-back 100] [--max-checks-in-flight 2]
                                 [--max-foreign-cores 0.2] [--quiet-wait 5] [--out FILE] [--command TEXT] [--commit TEXT]
               Bench.LoadGen cache --gateway URL --peer URL --cache-off URL --down URL --paused URL --redis HOST:PORT
                                 --redis-down-pid PID --redis-paused-pid PID [--pids PID,...] [--latencies 0,20]
                                 [--rounds 20] [--samples 40] [--warmup 200] [--retry-interval 2] [--redis-timeout 0.25]
                                 [--max-foreign-cores 0.2] [--quiet-wait 3] [--out FILE] [--command TEXT] [--commit TEXT]
        """);
    return 2;
}
