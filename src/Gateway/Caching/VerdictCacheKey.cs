using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Guard.Conversations;

namespace Gateway.Caching;

/// <summary>The cache key of a verdict: SHA-256 over everything that can change it (docs/caching.md#the-key). The
/// engine's identity (model files' digest for the local engine), the prompt format and taxonomy, the judged role, the
/// normalized conversation (for a stream window, the response so far is its last turn) and the scope. Text never
/// leaves this method: the key is a hash, and a hash is all the store ever sees.</summary>
internal static class VerdictCacheKey
{
    // Bump when the key's inputs or the stored value change meaning; old entries then simply miss.
    private const string Version = "v1";

    /// <summary>The key for one check.</summary>
    /// <param name="engineIdentity">What the engine runs (<c>IGuardEngine.CacheIdentity</c>).</param>
    /// <param name="promptFormat">A digest of the prompt's fixed parts for this taxonomy and role.</param>
    /// <param name="scope">The tenant, or <c>*</c> for a global cache.</param>
    /// <param name="conversation">The normalized conversation; its last turn's role is the judged one.</param>
    public static string For(string engineIdentity, string promptFormat, string scope, GuardConversation conversation)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, Version);
        Append(hash, engineIdentity);
        Append(hash, promptFormat);
        Append(hash, scope);
        Append(hash, conversation.Role.ToString());
        foreach (var turn in conversation.Turns)
        {
            Append(hash, turn.Role.ToString());
            Append(hash, turn.Content);
        }
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return "verdict:" + Version + ":" + Convert.ToHexStringLower(digest);
    }

    // Each field is length-prefixed, so no two sequences of fields hash the same bytes.
    private static void Append(IncrementalHash hash, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        Span<byte> prefix = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(prefix, length);
        hash.AppendData(prefix);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(text, buffer);
            hash.AppendData(buffer, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
