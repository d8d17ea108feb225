namespace Bench.LoadGen;

/// <summary>What the stream filter's design predicts for one configuration, with zero-cost processing: the windowed
/// rules of docs/policies.md and src/Gateway/Moderation/StreamFilter.cs (a window closes at <c>window</c> characters, or
/// at a sentence end once it holds <c>minWindow</c>; a check of the response so far starts at once, at most
/// <c>maxChecksInFlight</c> at a time; a passed check releases its text except the last <c>holdBack</c> characters; at
/// the upstream's end one more check covers the rest and releases everything), replayed on the paced upstream's
/// schedule with every guard call taking exactly its latency.</summary>
/// <param name="FirstTextMs">The first text released to the client.</param>
/// <param name="TotalMs">The last text released (the end of the stream).</param>
/// <param name="PromptCalls">Guard calls for the prompt.</param>
/// <param name="ResponseCalls">Guard calls for the response.</param>
/// <param name="Windows">Windows that closed before the upstream ended (windowed only); one that closes while the
/// previous one still waits for a free check (all <c>maxChecksInFlight</c> busy) joins it.</param>
/// <param name="ResponseCheckStartsMs">When each response check starts, in ms after the prompt check started.</param>
internal sealed record StreamPrediction(double FirstTextMs, double TotalMs, int PromptCalls, int ResponseCalls, int Windows, IReadOnlyList<double> ResponseCheckStartsMs)
{
    public static StreamPrediction For(string mode, double latencyMs, IReadOnlyList<string> tokens, StreamOptions o)
    {
        var interval = o.Interval.TotalMilliseconds;
        var prompt = mode == "unmoderated" ? 0 : latencyMs;
        // Piece i reaches the gateway at prompt check + first token + i intervals; the upstream's end comes with the last.
        double At(int i) => prompt + o.FirstToken.TotalMilliseconds + (i * interval);
        var last = At(tokens.Count - 1);
        return mode switch
        {
            "unmoderated" => new(At(0), last, 0, 0, 0, []),
            "prompt-only" => new(At(0), last, 1, 0, 0, []),
            "buffered" => new(last + latencyMs, last + latencyMs, 1, 1, 0, [last]),
            _ => Windowed(tokens, At, latencyMs, o),
        };
    }

    private static StreamPrediction Windowed(IReadOnlyList<string> tokens, Func<int, double> at, double latency, StreamOptions o)
    {
        long units = 0, windowUnits = 0, startedCover = 0, passedCover = 0;
        var wanted = false;
        var complete = false;
        var running = new Queue<(double End, long Cover)>();
        var held = new Queue<long>();
        double? first = null;
        var lastRelease = 0.0;
        var starts = new List<double>();
        var windows = 0;

        void Start(double now)
        {
            wanted = false;
            windowUnits = 0;
            startedCover = units;
            starts.Add(now);
            running.Enqueue((now + latency, units));
        }

        void StartWanted(double now)
        {
            if (wanted && running.Count < o.MaxChecksInFlight && units > startedCover)
            {
                Start(now);
            }
        }

        void Release(double now)
        {
            var limit = complete && running.Count == 0 && passedCover >= units ? long.MaxValue : passedCover - o.HoldBack;
            while (held.TryPeek(out var end) && end <= limit)
            {
                held.Dequeue();
                first ??= now;
                lastRelease = now;
            }
        }

        // Checks that finish by `now` pass (the guard answers safe), in the order they started.
        void Finish(double now)
        {
            while (running.TryPeek(out var check) && check.End <= now)
            {
                running.Dequeue();
                passedCover = Math.Max(passedCover, check.Cover);
                StartWanted(check.End);
                Release(check.End);
            }
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            var now = at(i);
            Finish(now);
            units += tokens[i].Length;
            windowUnits += tokens[i].Length;
            held.Enqueue(units);
            if (windowUnits >= o.Window || (windowUnits >= o.MinWindow && EndsSentence(tokens[i])))
            {
                // A window that closes while the previous one still waits for a free check joins it.
                windows += wanted ? 0 : 1;
                wanted = true;
                StartWanted(now);
            }
        }
        complete = true;
        var end = at(tokens.Count - 1);
        if (units > startedCover)
        {
            Start(end);
        }
        Release(end);
        Finish(double.MaxValue);
        return new StreamPrediction(first ?? double.NaN, lastRelease, 1, starts.Count, windows, starts);
    }

    // The filter's rule (StreamFilter.EndsSentence).
    private static bool EndsSentence(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                return true;
            }
            if (c is '.' or '!' or '?' or '。' or '！' or '？' && (i + 1 == text.Length || char.IsWhiteSpace(text[i + 1])))
            {
                return true;
            }
        }
        return false;
    }
}
