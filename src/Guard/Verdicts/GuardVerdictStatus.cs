namespace Guard.Verdicts;

/// <summary>What the guard model said about the judged turn.</summary>
public enum GuardVerdictStatus
{
    /// <summary>The model answered exactly <c>safe</c>.</summary>
    Safe,

    /// <summary>The model answered <c>unsafe</c>, with or without category codes.</summary>
    Unsafe,

    /// <summary>The answer was empty, truncated or garbled; never treated as safe by the parser.</summary>
    Unparseable,
}
