using System.Numerics;
using System.Runtime.CompilerServices;

namespace Guard.Tokenizers;

/// <summary>
/// The BPE merge rules: for a pair of adjacent token ids, its priority (lower merges first) and the merged token id.
/// </summary>
/// <remarks>
/// An open-addressing table keyed by the two ids packed in one <see cref="ulong"/>: the lookup runs for every pair
/// of every encoded piece, and this is about twice as fast as <c>Dictionary&lt;ulong, ...&gt;</c> here.
/// </remarks>
internal sealed class BpeMergeTable
{
    private const ulong EmptyKey = ulong.MaxValue;

    private readonly ulong[] _keys;
    private readonly ulong[] _values;
    private readonly int _shift;

    /// <summary>Initializes a new instance of the <see cref="BpeMergeTable"/> class from the rules.</summary>
    /// <param name="rules">The rules; for a pair listed twice the later rule wins, as in Hugging Face tokenizers.</param>
    public BpeMergeTable(IReadOnlyList<BpeMergeRule> rules)
    {
        var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, rules.Count * 2));
        _shift = 64 - BitOperations.Log2((uint)capacity);
        _keys = new ulong[capacity];
        _values = new ulong[capacity];
        Array.Fill(_keys, EmptyKey);
        foreach (var rule in rules)
        {
            var key = Key(rule.Left, rule.Right);
            var slot = Slot(key);
            while (_keys[slot] != EmptyKey && _keys[slot] != key)
            {
                slot = (slot + 1) & (capacity - 1);
            }

            if (_keys[slot] == EmptyKey)
            {
                Count++;
            }

            _keys[slot] = key;
            _values[slot] = ((ulong)(uint)rule.Priority << 32) | (uint)rule.Result;
        }
    }

    /// <summary>Gets the number of distinct pairs.</summary>
    public int Count { get; }

    /// <summary>Looks up the merge of two adjacent tokens.</summary>
    /// <param name="left">The left token id.</param>
    /// <param name="right">The right token id.</param>
    /// <param name="priority">The merge priority (lower first) when found.</param>
    /// <param name="result">The merged token id when found.</param>
    /// <returns>Whether the pair merges.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(int left, int right, out int priority, out int result)
    {
        var key = Key(left, right);
        var mask = _keys.Length - 1;
        var slot = Slot(key);
        while (true)
        {
            var k = _keys[slot];
            if (k == key)
            {
                var v = _values[slot];
                priority = (int)(v >> 32);
                result = (int)(uint)v;
                return true;
            }

            if (k == EmptyKey)
            {
                priority = 0;
                result = 0;
                return false;
            }

            slot = (slot + 1) & mask;
        }
    }

    private static ulong Key(int left, int right) => ((ulong)(uint)left << 32) | (uint)right;

    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);
}
