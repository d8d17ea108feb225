namespace Policies.Model;

/// <summary>One validated policy: where it applies and what it does with prompts and responses.</summary>
public sealed class PolicyModel
{
    internal PolicyModel(
        string name,
        string? description,
        PolicyMatch match,
        int priority,
        bool locked,
        RolePolicyModel prompt,
        RolePolicyModel response,
        string? file,
        string path)
    {
        Name = name;
        Description = description;
        Match = match;
        Priority = priority;
        Locked = locked;
        Prompt = prompt;
        Response = response;
        File = file;
        Path = path;
    }

    /// <summary>The unique name, reported on every decision.</summary>
    public string Name { get; }

    /// <summary>Free text for operators.</summary>
    public string? Description { get; }

    /// <summary>Which requests it applies to.</summary>
    public PolicyMatch Match { get; }

    /// <summary>The tie-breaker among equally specific selectors; higher wins.</summary>
    public int Priority { get; }

    /// <summary>Whether validation refuses any policy that would take precedence over this one.</summary>
    public bool Locked { get; }

    /// <summary>The prompt check.</summary>
    public RolePolicyModel Prompt { get; }

    /// <summary>The response check.</summary>
    public RolePolicyModel Response { get; }

    /// <summary>The file it was read from; <see langword="null"/> for the built-in default.</summary>
    public string? File { get; }

    /// <summary>Where in the file, e.g. <c>policies[2]</c>.</summary>
    public string Path { get; }

    /// <summary>The role policy for a role.</summary>
    public RolePolicyModel For(PolicyRole role) => role == PolicyRole.Prompt ? Prompt : Response;

    /// <inheritdoc />
    public override string ToString() => Name;
}
