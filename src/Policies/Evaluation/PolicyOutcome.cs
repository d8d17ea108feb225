namespace Policies.Evaluation;

/// <summary>What the gateway does with the judged content.</summary>
public enum PolicyOutcome
{
    /// <summary>Pass it; nothing to record beyond the verdict.</summary>
    Allow,

    /// <summary>Pass it and record the flagged categories.</summary>
    Flag,

    /// <summary>Stop it: the verdict named a category whose action is block.</summary>
    Block,

    /// <summary>Pass it unchecked: no usable verdict, and the fail mode is open.</summary>
    FailOpen,

    /// <summary>Stop it: no usable verdict, and the fail mode is closed.</summary>
    FailClosed,
}
