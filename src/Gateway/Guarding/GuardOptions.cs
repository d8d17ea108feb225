using Guard.Engines;
using Guard.Onnx.Engine;

namespace Gateway.Guarding;

/// <summary>Which guard engines classify traffic (<c>Guard</c> section): one under the single-engine keys
/// (<c>Guard:Engine</c> with <c>Onnx</c>, <c>Remote</c>, <c>TokenizerPath</c>), any number by name under
/// <c>Guard:Engines</c>, and the default (<c>Guard:DefaultEngine</c>).</summary>
public sealed class GuardOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Guard";

    /// <summary>The single engine: <c>None</c>, <c>Onnx</c> (local), <c>WorkersAi</c> (remote Workers AI) or <c>OpenAi</c>
    /// (remote OpenAI-compatible server). It is named after its kind (<c>onnx</c>, <c>remote-workers-ai</c>,
    /// <c>remote-openai</c>) and is the default unless <see cref="DefaultEngine"/> names another.</summary>
    public GuardEngineKind Engine { get; set; } = GuardEngineKind.None;

    /// <summary>Settings of the single engine when it is the local ONNX Runtime engine.</summary>
    public OnnxGuardEngineOptions Onnx { get; set; } = new();

    /// <summary>Settings of the single engine when it is remote.</summary>
    public RemoteGuardOptions Remote { get; set; } = new();

    /// <summary>A model directory whose tokenizer makes the single remote engine's truncation exact; without it tokens are estimated.</summary>
    public string? TokenizerPath { get; set; }

    /// <summary>Named engines (<c>Guard:Engines:{name}</c>), beside or instead of the single one; names ignore case.</summary>
    public Dictionary<string, GuardEngineOptions> Engines { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The engine that serves the Llama Guard model, <c>/v1/moderations</c>, the command line and policies that
    /// name none. Unset: the single engine, or the only named one; required when there are several named engines and
    /// no single one.</summary>
    public string? DefaultEngine { get; set; }

    /// <summary>The name of the single engine of a kind (<c>onnx</c>, <c>remote-workers-ai</c>, <c>remote-openai</c>);
    /// null for <see cref="GuardEngineKind.None"/>.</summary>
    public static string? SingleEngineName(GuardEngineKind kind) => kind switch
    {
        GuardEngineKind.Onnx => OnnxGuardEngine.EngineName,
        GuardEngineKind.WorkersAi => WorkersAiGuardEngine.EngineName,
        GuardEngineKind.OpenAi => OpenAiGuardEngine.EngineName,
        _ => null,
    };

    /// <summary>Collects every configuration problem of every engine and of the default; empty when valid.</summary>
    public IReadOnlyList<string> Validate() => Plan().Errors;

    /// <summary>The engines to create, in a stable order (the single one first, then the named ones by name), the
    /// default's name, and every problem.</summary>
    internal GuardEnginePlan Plan()
    {
        var errors = new List<string>();
        var specs = new List<GuardEngineSpec>();
        var singleName = SingleEngineName(Engine);
        if (!Enum.IsDefined(Engine))
        {
            errors.Add($"Guard:Engine must be None, Onnx, WorkersAi or OpenAi, got {Engine}.");
        }
        else if (singleName is not null)
        {
            var single = new GuardEngineSpec(singleName, Engine, Onnx, Remote, TokenizerPath, SectionName);
            errors.AddRange(single.Validate());
            specs.Add(single);
        }

        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, engine) in (Engines ?? []).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrWhiteSpace(name) || name.Trim() != name)
            {
                errors.Add($"Guard:Engines has an engine named '{name}'; a name is not blank and has no surrounding spaces.");
                continue;
            }
            var section = $"Guard:Engines:{name}";
            if (engine is null)
            {
                errors.Add($"{section} has no settings; give it an Engine (Onnx, WorkersAi or OpenAi) and that engine's settings.");
                continue;
            }
            if (singleName is not null && string.Equals(singleName, name, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{section}: Guard:Engine ({Engine}) already defines the engine '{singleName}'; rename this one, or set Guard:Engine to None and keep only this one.");
            }
            else if (!seen.TryAdd(name, name))
            {
                errors.Add($"{section}: the name differs from '{seen[name]}' only in case; engine names ignore case, so rename one.");
            }
            if (ParseKind(engine.Engine) is not { } kind)
            {
                errors.Add(string.IsNullOrWhiteSpace(engine.Engine)
                    ? $"{section}:Engine is required: Onnx, WorkersAi or OpenAi."
                    : $"{section}:Engine must be Onnx, WorkersAi or OpenAi, got '{engine.Engine}'.");
                continue;
            }
            var spec = new GuardEngineSpec(name, kind, engine.Onnx ?? new(), engine.Remote ?? new(), engine.TokenizerPath, section);
            errors.AddRange(spec.Validate());
            specs.Add(spec);
        }

        var names = specs.Select(s => s.Name).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var list = names.Count == 0 ? "none configured" : string.Join(", ", names.Order(StringComparer.OrdinalIgnoreCase));
        string? defaultName = null;
        if (!string.IsNullOrWhiteSpace(DefaultEngine))
        {
            defaultName = names.FirstOrDefault(n => string.Equals(n, DefaultEngine.Trim(), StringComparison.OrdinalIgnoreCase));
            if (defaultName is null)
            {
                errors.Add($"Guard:DefaultEngine '{DefaultEngine}' is not one of the guard engines ({list}).");
            }
        }
        else if (singleName is not null)
        {
            defaultName = singleName;
        }
        else if (names.Count == 1)
        {
            defaultName = names[0];
        }
        else if (names.Count > 1)
        {
            errors.Add($"Guard:DefaultEngine must name one of the guard engines ({list}): the default serves the Llama Guard model, /v1/moderations and the policies that name no engine.");
        }
        return new GuardEnginePlan(specs, defaultName, errors);
    }

    private static GuardEngineKind? ParseKind(string? value)
    {
        foreach (var kind in (ReadOnlySpan<GuardEngineKind>)[GuardEngineKind.Onnx, GuardEngineKind.WorkersAi, GuardEngineKind.OpenAi])
        {
            if (string.Equals(value?.Trim(), kind.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }
        return null;
    }
}

/// <summary>One named guard engine (<c>Guard:Engines:{name}</c>): its kind and that kind's settings, in the shapes of
/// the single-engine keys.</summary>
public sealed class GuardEngineOptions
{
    /// <summary>The kind: <c>Onnx</c>, <c>WorkersAi</c> or <c>OpenAi</c> (case ignored).</summary>
    public string? Engine { get; set; }

    /// <summary>Settings of an <c>Onnx</c> engine.</summary>
    public OnnxGuardEngineOptions Onnx { get; set; } = new();

    /// <summary>Settings of a remote engine.</summary>
    public RemoteGuardOptions Remote { get; set; } = new();

    /// <summary>A model directory whose tokenizer makes a remote engine's truncation exact; without it tokens are estimated.</summary>
    public string? TokenizerPath { get; set; }
}

/// <summary>Guard engine kinds.</summary>
public enum GuardEngineKind
{
    /// <summary>No guard engine: the served Llama Guard model and <c>/v1/moderations</c> answer 503.</summary>
    None,

    /// <summary>Llama Guard on ONNX Runtime in the gateway's process (CPU or CUDA).</summary>
    Onnx,

    /// <summary>Llama Guard on Cloudflare Workers AI.</summary>
    WorkersAi,

    /// <summary>Llama Guard on an OpenAI-compatible server (vLLM).</summary>
    OpenAi,
}

/// <summary>What the guard options define: the engines to create, the default's name, and every problem.</summary>
internal sealed record GuardEnginePlan(IReadOnlyList<GuardEngineSpec> Engines, string? DefaultEngine, IReadOnlyList<string> Errors);

/// <summary>One engine to create: its name, kind and settings, and the configuration section they came from
/// (<c>Guard</c> for the single-engine keys, <c>Guard:Engines:{name}</c> otherwise).</summary>
internal sealed record GuardEngineSpec(string Name, GuardEngineKind Kind, OnnxGuardEngineOptions Onnx, RemoteGuardOptions Remote, string? TokenizerPath, string Section)
{
    /// <summary>The kind's own settings problems, each naming the setting under <see cref="Section"/>.</summary>
    public IEnumerable<string> Validate()
    {
        var (own, errors) = Kind == GuardEngineKind.Onnx
            ? ("Guard:Onnx", Onnx.Validate())
            : ("Guard:Remote", Remote.Validate(workersAi: Kind == GuardEngineKind.WorkersAi));
        if (Section == GuardOptions.SectionName)
        {
            return errors;
        }
        // The settings validators name the single-engine keys; a named engine's problems name its own section.
        return errors.Select(e => e.StartsWith(own + ":", StringComparison.Ordinal)
            ? $"{Section}:{own["Guard:".Length..]}{e[own.Length..]}"
            : $"{Section}: {e}");
    }
}
