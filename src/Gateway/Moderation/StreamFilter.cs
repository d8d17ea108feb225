using System.Text;
using Gateway.Telemetry;
using Gateway.Upstreams;
using Guard.Conversations;
using Policies;
using Policies.Evaluation;

namespace Gateway.Moderation;

/// <summary>What the stream filter asks of the responder after <see cref="StreamFilter.Advance"/>.</summary>
internal enum StreamFilterState
{
    /// <summary>Keep reading the upstream and waiting for checks.</summary>
    Open,

    /// <summary>Everything was released and the upstream ended: the stream is finished.</summary>
    Finished,

    /// <summary>A check blocked or failed closed: drop what is held, stop the upstream and send the terminal signal
    /// (<see cref="StreamFilter.Terminal"/>).</summary>
    Stopped,
}

/// <summary>Holds one stream's client events until a guard check covering their text passed
/// (docs/policies.md#streaming-modes). Events are whole: they are released as the formatter wrote them, never merged
/// or split. The responder feeds events (<see cref="Add"/>) and the upstream's end (<see cref="Complete"/>), waits on
/// <see cref="NextCheck"/>, <see cref="HoldDeadline"/> and its own read, and calls <see cref="Advance"/> for what to
/// send. Single-threaded: only the responder's loop calls it; check tasks run concurrently but are only observed
/// here.</summary>
/// <remarks>
/// Windowed: a window closes at <c>window</c> units, or at a sentence end past <c>minWindow</c>; a check of the
/// response so far starts at once while the upstream is still read, so a guard of latency L costs about one L per
/// stream, not per window. At most <c>maxChecksInFlight</c> run; a window that closes while all are busy waits, and the
/// next check covers everything read by then. A passed check releases the events it covers except the last
/// <c>holdBack</c> units, which the next check judges with what follows them; the final check releases everything.
/// Buffered: one check at the end. Audit: events are released at once and checked in windows, recorded only.
/// </remarks>
internal sealed class StreamFilter : IDisposable
{
    private readonly StreamModeration _plan;
    private readonly TimeProvider _time;
    private readonly int _maxChecksInFlight;
    private readonly CancellationTokenSource _stop;
    private readonly StreamingMode _mode;
    private readonly Queue<HeldEvent> _held = new();
    private readonly Queue<RunningCheck> _checks = new();
    private readonly List<string> _ready = [];
    private readonly StringBuilder _text = new();
    private readonly SortedDictionary<int, (StringBuilder Name, StringBuilder Arguments)> _toolCalls = [];
    private long _units;
    private long _windowUnits;
    private long _startedCover;
    private long _passedCover;
    private long _heldBytes;
    private bool _checkWanted;
    private bool _complete;
    private long _deadline = long.MaxValue;
    private CancellationTokenSource? _deadlineCts;
    private Task? _deadlineTask;
    private ModerationDecision? _worst;

    /// <summary>Creates the filter for one stream.</summary>
    /// <param name="plan">The policy's streaming settings and check; <see cref="StreamModeration.None"/> relays at once.</param>
    /// <param name="time">Measures the hold time bound.</param>
    /// <param name="maxChecksInFlight">How many checks of one stream may run at once (at least 1).</param>
    /// <param name="cancellationToken">Cancels running checks (the client went away).</param>
    public StreamFilter(StreamModeration plan, TimeProvider time, int maxChecksInFlight, CancellationToken cancellationToken)
    {
        _plan = plan;
        _time = time;
        _maxChecksInFlight = Math.Max(1, maxChecksInFlight);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _mode = plan.Settings?.Mode ?? StreamingMode.Audit;
        Holds = plan.Settings is not null && _mode != StreamingMode.Audit;
    }

    /// <summary>Where each released event's hold time is recorded (<c>gateway.stream.hold.duration</c>); null: nowhere.</summary>
    public Telemetry.GatewayMetrics? Metrics { get; init; }

    /// <summary>Whether events wait for checks (windowed, buffered); otherwise they are released as they are added.</summary>
    public bool Holds { get; }

    /// <summary>Whether any check runs at all.</summary>
    public bool Checks => _plan.Settings is not null;

    /// <summary>The decision that stopped the stream, after <see cref="StreamFilterState.Stopped"/>.</summary>
    public ModerationDecision? Terminal { get; private set; }

    /// <summary>The strictest decision so far (blocked, fail-closed, fail-open, flagged, allowed), for the record;
    /// null while no check finished.</summary>
    public ModerationDecision? Outcome => _worst;

    /// <summary>How many finished checks took their verdict from the cache.</summary>
    public int CacheHits { get; private set; }

    /// <summary>How many checks were started.</summary>
    public int CheckCount { get; private set; }

    /// <summary>The oldest running check when events wait for it; null otherwise.</summary>
    public Task? NextCheck => Holds && _checks.TryPeek(out var check) ? check.Task : null;

    /// <summary>Completes when the oldest held event reaches its hold time bound; null when nothing is held.</summary>
    public Task? HoldDeadline
    {
        get
        {
            if (!Holds || !_held.TryPeek(out var oldest))
            {
                return null;
            }
            var deadline = oldest.HeldAt + (long)(_plan.Settings!.MaxHoldTime.TotalSeconds * _time.TimestampFrequency);
            if (deadline != _deadline || _deadlineTask is null)
            {
                _deadlineCts?.Cancel();
                _deadlineCts?.Dispose();
                _deadlineCts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                _deadline = deadline;
                var wait = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                _deadlineTask = wait <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _time, _deadlineCts.Token);
            }
            return _deadlineTask;
        }
    }

    /// <summary>Adds one upstream event: the client payloads written for it (copied) and what it adds to the response.</summary>
    public void Add(List<string> payloads, string text, IReadOnlyList<ToolCallDelta> toolCalls)
    {
        if (Terminal is not null || _complete)
        {
            return;
        }
        var units = 0L;
        if (Checks)
        {
            if (text.Length > 0)
            {
                _text.Append(text);
                units += _plan.Units(text);
            }
            foreach (var call in toolCalls)
            {
                units += AddToolCall(call);
            }
            _units += units;
            _windowUnits += units;
        }
        if (!Holds)
        {
            _ready.AddRange(payloads);
        }
        else if (payloads.Count > 0)
        {
            var bytes = 0L;
            foreach (var payload in payloads)
            {
                bytes += Encoding.UTF8.GetByteCount(payload);
            }
            _held.Enqueue(new HeldEvent([.. payloads], _units, bytes, _time.GetTimestamp()));
            _heldBytes += bytes;
            if (_heldBytes > _plan.Settings!.MaxHeldBytes)
            {
                HoldBoundPassed(GuardFailureKind.HoldBytesExceeded);
                return;
            }
        }
        if (units > 0 && _mode != StreamingMode.Buffered && WindowClosed(text))
        {
            _checkWanted = true;
            StartChecks();
        }
    }

    /// <summary>The upstream ended (or failed): whatever was not checked yet is checked now.</summary>
    public void Complete()
    {
        if (_complete)
        {
            return;
        }
        _complete = true;
        if (Checks && _units > _startedCover)
        {
            // The last check starts at once, whatever runs: it bounds the stream's added latency to about one check.
            StartCheck();
        }
    }

    /// <summary>Applies finished checks and the hold bounds, and appends the payloads to send now to <paramref name="output"/>.</summary>
    public StreamFilterState Advance(List<string> output)
    {
        if (Terminal is not null)
        {
            return StreamFilterState.Stopped;
        }
        while (_checks.TryPeek(out var check) && check.Task.IsCompleted)
        {
            _checks.Dequeue();
            var decision = Result(check.Task);
            Note(decision);
            if (!Holds)
            {
                continue;
            }
            if (!decision.Allowed)
            {
                Stop(decision);
                return StreamFilterState.Stopped;
            }
            _passedCover = Math.Max(_passedCover, check.Cover);
        }
        StartChecks();
        if (Holds)
        {
            Release();
            if (_held.TryPeek(out var oldest)
                && _time.GetElapsedTime(oldest.HeldAt) >= _plan.Settings!.MaxHoldTime)
            {
                HoldBoundPassed(GuardFailureKind.HoldTimeExceeded);
                if (Terminal is not null)
                {
                    return StreamFilterState.Stopped;
                }
            }
        }
        output.AddRange(_ready);
        _ready.Clear();
        if (Terminal is not null)
        {
            return StreamFilterState.Stopped;
        }
        return _complete && _held.Count == 0 && (!Holds || _checks.Count == 0) ? StreamFilterState.Finished : StreamFilterState.Open;
    }

    /// <summary>Waits for the checks still running (audit mode records them after the stream ended).</summary>
    public async Task DrainAsync()
    {
        while (_checks.TryDequeue(out var check))
        {
            try
            {
                await check.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Note(Result(check.Task));
        }
    }

    /// <summary>Cancels the checks still running.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _deadlineCts?.Dispose();
        _stop.Dispose();
    }

    private long AddToolCall(ToolCallDelta call)
    {
        if (!_toolCalls.TryGetValue(call.Index, out var entry))
        {
            entry = (new StringBuilder(), new StringBuilder());
            _toolCalls[call.Index] = entry;
        }
        long units = 0;
        if (!string.IsNullOrEmpty(call.Name))
        {
            entry.Name.Append(call.Name);
            units += _plan.Units(call.Name);
        }
        if (!string.IsNullOrEmpty(call.Arguments))
        {
            entry.Arguments.Append(call.Arguments);
            units += _plan.Units(call.Arguments);
        }
        return units;
    }

    private bool WindowClosed(string text)
    {
        var settings = _plan.Settings!;
        return _windowUnits >= settings.Window
            || (settings.CloseAtSentenceEnd && _windowUnits >= settings.MinWindow && EndsSentence(text));
    }

    /// <summary>Whether a piece of text ends a sentence: <c>.</c>, <c>!</c> or <c>?</c> (or their full-width forms)
    /// at its end or followed by whitespace, or a line break.</summary>
    internal static bool EndsSentence(string text)
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

    private void StartChecks()
    {
        if (_checkWanted && _checks.Count < _maxChecksInFlight && _units > _startedCover)
        {
            StartCheck();
        }
    }

    private void StartCheck()
    {
        _checkWanted = false;
        _windowUnits = 0;
        _startedCover = _units;
        var calls = new List<GuardToolCall>(_toolCalls.Count);
        foreach (var (name, arguments) in _toolCalls.Values)
        {
            calls.Add(new GuardToolCall(name.ToString(), arguments.ToString()));
        }
        CheckCount++;
        _checks.Enqueue(new RunningCheck(_plan.CheckAsync(new ResponseSnapshot(_text.ToString(), calls), _stop.Token), _units));
    }

    private void Release()
    {
        // Everything checked is released once no more text can follow; before that the hold-back stays.
        var limit = _complete && _checks.Count == 0 && _passedCover >= _units ? long.MaxValue : _passedCover - _plan.Settings!.HoldBack;
        while (_held.TryPeek(out var next) && next.UnitsEnd <= limit)
        {
            _held.Dequeue();
            _heldBytes -= next.Bytes;
            _ready.AddRange(next.Payloads);
            Released(next);
        }
    }

    private void HoldBoundPassed(GuardFailureKind failure)
    {
        var decision = _plan.Fail(failure);
        Note(decision);
        if (!decision.Allowed)
        {
            Stop(decision);
            return;
        }
        // Fail open: what is held goes out unchecked (recorded), and holding starts again from here.
        while (_held.TryDequeue(out var next))
        {
            _ready.AddRange(next.Payloads);
            Released(next);
        }
        _heldBytes = 0;
        _passedCover = Math.Max(_passedCover, _units);
    }

    private void Released(HeldEvent held)
    {
        if (Metrics is { HoldDurationEnabled: true } metrics)
        {
            metrics.StreamEventReleased(Telemetry.StreamModes.Of(_mode), _time.GetElapsedTime(held.HeldAt));
        }
    }

    private void Stop(ModerationDecision decision)
    {
        Terminal = decision;
        _held.Clear();
        _heldBytes = 0;
        _ready.Clear();
        _stop.Cancel();
    }

    private ModerationDecision Result(Task<ModerationDecision> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return task.Result;
        }
        // A check that threw (a bug, not a guard failure: those are decisions) gets the fail mode, never a pass.
        return task.IsCanceled && _stop.IsCancellationRequested
            ? ModerationDecision.Allow
            : _plan.Fail(GuardFailureKind.EngineError);
    }

    private void Note(ModerationDecision decision)
    {
        if (decision.Cache == "hit")
        {
            CacheHits++;
        }
        if (_worst is null || Rank(decision) > Rank(_worst))
        {
            _worst = decision;
        }
    }

    private static int Rank(ModerationDecision decision) => decision.Outcome switch
    {
        SemanticNames.Outcomes.Blocked => 5,
        SemanticNames.Outcomes.FailClosed => 4,
        SemanticNames.Outcomes.FailOpen => 3,
        SemanticNames.Outcomes.Flagged => 2,
        SemanticNames.Outcomes.Allowed => 1,
        _ => 0,
    };

    private sealed record HeldEvent(List<string> Payloads, long UnitsEnd, long Bytes, long HeldAt);

    private sealed record RunningCheck(Task<ModerationDecision> Task, long Cover);
}
