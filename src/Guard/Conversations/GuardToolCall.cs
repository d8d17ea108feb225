namespace Guard.Conversations;

/// <summary>A tool call made by an assistant message.</summary>
/// <param name="Name">The function name.</param>
/// <param name="Arguments">The arguments as the model wrote them (usually JSON), or <see langword="null"/>.</param>
public sealed record GuardToolCall(string Name, string? Arguments);
