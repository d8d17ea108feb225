using System.Runtime.CompilerServices;

// The engine's decoder (KV cache, greedy loop) is internal; the tests compare it with a cache-less reference and the
// benchmark reads its counters. Lives here because this folder is the engine's only footprint in the project file set.
[assembly: InternalsVisibleTo("Guard.Tests")]
[assembly: InternalsVisibleTo("Bench.GuardEngine")]
