using Gateway.Upstreams;

namespace Gateway.Moderation;

/// <summary>The default moderation step: allows everything. The guard replaces it.</summary>
internal sealed class PassThroughModerator : IPromptModerator, IResponseModerator, IStreamModerator
{
    public ValueTask<ModerationDecision> CheckPromptAsync(ModerationContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ModerationDecision.Allow);

    public ValueTask<ModerationDecision> CheckResponseAsync(ModerationContext context, GenerationResult result, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ModerationDecision.Allow);

    public IStreamModerator BeginStream(ModerationContext context) => this;

    public ValueTask<StreamVerdict> OnTextAsync(string delta, CancellationToken cancellationToken) => ValueTask.FromResult(StreamVerdict.Release);

    public ValueTask<StreamVerdict> OnCompleteAsync(CancellationToken cancellationToken) => ValueTask.FromResult(StreamVerdict.Release);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
