using System.Text.Json.Serialization;
using Guard.Prompts;
using Guard.Verdicts;

namespace Gateway.Caching;

/// <summary>What the cache stores for a verdict: status, category codes, unsafe probability, engine and model; never
/// text. Categories are restored against the taxonomy the key was made with.</summary>
internal sealed record CachedVerdict
{
    /// <summary>True for unsafe, false for safe (unparseable verdicts are never stored).</summary>
    [JsonPropertyName("u")]
    public bool Unsafe { get; init; }

    /// <summary>The category codes named, known or not.</summary>
    [JsonPropertyName("c")]
    public string[] Codes { get; init; } = [];

    /// <summary>The unsafe probability, when the engine reported one.</summary>
    [JsonPropertyName("p")]
    public double? UnsafeProbability { get; init; }

    /// <summary>The engine's name.</summary>
    [JsonPropertyName("e")]
    public string? Engine { get; init; }

    /// <summary>The guard model's id.</summary>
    [JsonPropertyName("m")]
    public string? Model { get; init; }

    /// <summary>Whether the conversation was truncated to fit the guard's context.</summary>
    [JsonPropertyName("t")]
    public bool Truncated { get; init; }

    /// <summary>The stored form of a safe or unsafe verdict.</summary>
    public static CachedVerdict From(GuardVerdict verdict) => new()
    {
        Unsafe = verdict.Status == GuardVerdictStatus.Unsafe,
        Codes = [.. verdict.Categories.Select(c => c.Code), .. verdict.UnknownCodes],
        UnsafeProbability = verdict.UnsafeProbability,
        Engine = verdict.Engine,
        Model = verdict.Model,
        Truncated = verdict.Truncated,
    };

    /// <summary>The verdict again, its codes read against <paramref name="taxonomy"/>; null when the stored value is
    /// not one this gateway writes (a foreign or damaged entry is a miss, never a verdict).</summary>
    public GuardVerdict? Restore(GuardTaxonomy taxonomy)
    {
        if (string.IsNullOrWhiteSpace(Engine) || string.IsNullOrWhiteSpace(Model) || Codes is null
            || (!Unsafe && Codes.Length > 0) || Codes.Any(c => !IsCode(c))
            || UnsafeProbability is { } p && !(p >= 0 && p <= 1))
        {
            return null;
        }
        var parsed = GuardVerdictParser.Parse(Unsafe ? "unsafe\n" + string.Join(',', Codes) : "safe", taxonomy);
        return parsed.Status == GuardVerdictStatus.Unparseable
            ? null
            : GuardVerdict.FromParsed(parsed, Engine, Model, TimeSpan.Zero, UnsafeProbability, Truncated);
    }

    private static bool IsCode(string? code) =>
        code is { Length: > 0 and <= 32 } && code.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_');
}
