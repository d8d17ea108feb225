using Guard.Conversations;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>The fixed prompt prefix of one role, tokenized and run once: its ids and its KV cache.</summary>
/// <param name="Role">The role the prefix asks about.</param>
/// <param name="Ids">The prefix ids (BOS included where the family has one).</param>
/// <param name="Kv">The prefix's KV cache, batch 1; shared read-only by every call.</param>
internal sealed record PrefixEntry(GuardRole Role, int[] Ids, KvCache Kv);

/// <summary>
/// The prefix KV caches of an engine, one per role, built once at start-up for the engine's taxonomy and immutable
/// after; disposed with the engine.
/// </summary>
internal sealed class PrefixCache : IDisposable
{
    private readonly PrefixEntry[] _entries;

    private PrefixCache(PrefixEntry[] entries) => _entries = entries;

    /// <summary>The entries, user first.</summary>
    public IReadOnlyList<PrefixEntry> Entries => _entries;

    /// <summary>Runs each role's prefix once and keeps the present tensors.</summary>
    /// <param name="decoder">The session.</param>
    /// <param name="empty">An empty batch-1 cache.</param>
    /// <param name="prefixIds">The ids of each role's prefix.</param>
    public static PrefixCache Build(DecoderSession decoder, KvCache empty, Func<GuardRole, int[]> prefixIds)
    {
        var entries = new List<PrefixEntry>();
        try
        {
            using var runOptions = new RunOptions();
            foreach (var role in new[] { GuardRole.User, GuardRole.Agent })
            {
                var ids = prefixIds(role);
                using var output = decoder.Forward(DecoderInput.Single(ids, 0), empty, runOptions);
                entries.Add(new PrefixEntry(role, ids, output.TakePresent()));
            }
        }
        catch
        {
            foreach (var e in entries)
            {
                e.Kv.Dispose();
            }

            throw;
        }

        return new PrefixCache([.. entries]);
    }

    /// <summary>The entry of a role.</summary>
    /// <param name="role">The role.</param>
    public PrefixEntry Get(GuardRole role) => role == GuardRole.Agent ? _entries[1] : _entries[0];

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var e in _entries)
        {
            e.Kv.Dispose();
        }
    }
}
