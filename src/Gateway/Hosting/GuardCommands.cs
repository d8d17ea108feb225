using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Guarding;
using Guard.Conversations;
using Guard.Engines;
using Guard.Onnx.Builder;
using Guard.Onnx.Models;
using Guard.Prompts;
using Guard.Tokenizers;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting;

/// <summary>Operator verbs for the guard: <c>tokenize</c>, <c>render</c> and <c>classify</c>.</summary>
internal static class GuardCommands
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Converters = { new JsonStringEnumConverter() } };

    public static IEnumerable<Command> Create()
    {
        yield return Tokenize();
        yield return Render();
        yield return Classify();
        yield return BuildModel();
    }

    private static Command BuildModel()
    {
        var output = new Option<string>("--out") { Description = "Directory to write the model into.", Required = true };
        var family = new Option<GuardFamily>("--family") { Description = "LlamaGuard1, LlamaGuard2 or LlamaGuard3.", DefaultValueFactory = _ => GuardFamily.LlamaGuard1 };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A Hugging Face checkpoint directory (config.json + *.safetensors)." };
        var random = new Option<bool>("--random") { Description = "Seeded random weights (meaningless verdicts; for tests, demos and benchmarks)." };
        var preset = new Option<string>("--preset") { Description = "Random model shape: tiny (hidden 64, 2 layers) or 7b (LlamaGuard-7b).", DefaultValueFactory = _ => "tiny" };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 1 };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Directory or file with tokenizer.json / tokenizer.model to copy into the model directory." };
        var dtype = new Option<OnnxDType>("--dtype") { Description = "Float32 or Float16.", DefaultValueFactory = _ => OnnxDType.Float32 };
        var lastToken = new Option<bool>("--last-token-logits") { Description = "Emit logits for the last position only." };
        var modelId = new Option<string?>("--model-id") { Description = "Model id reported on verdicts." };
        var sharedPrefix = new Option<bool>("--shared-prefix") { Description = "Take the prompt prefix cache as an input of its own, shared by every row of a batch (docs/adr/006)." };
        var fused = new Option<bool>("--fused") { Description = "Emit ONNX Runtime's contrib operators (GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization); the engine runs such a model unbatched (docs/adr/013)." };
        var command = new Command("build-model", "Write a Llama Guard model directory (ONNX graph, tokenizer, manifest) from a checkpoint or random weights.")
        {
            output, family, checkpoint, random, preset, seed, tokenizer, dtype, lastToken, modelId, sharedPrefix, fused,
        };
        command.SetAction(result => Run(() =>
        {
            ILlamaWeights weights;
            var tokenizerSource = result.GetValue(tokenizer);
            if (result.GetValue(checkpoint) is { } dir)
            {
                weights = new SafetensorsLlamaWeights(dir);
                tokenizerSource ??= dir;
            }
            else if (result.GetValue(random))
            {
                var vocab = tokenizerSource is null ? 32000 : TokenizerLoader.Load(Directory.Exists(tokenizerSource) ? tokenizerSource : Path.GetDirectoryName(Path.GetFullPath(tokenizerSource))!).VocabSize;
                weights = new RandomLlamaWeights(RandomShape(result.GetValue(preset)!, vocab), result.GetValue(seed));
            }
            else
            {
                throw new ArgumentException("Give --checkpoint DIR or --random.");
            }
            var options = new LlamaBuildOptions
            {
                Family = result.GetValue(family),
                ModelId = result.GetValue(modelId) ?? (weights.IsRandom ? $"random-{result.GetValue(preset)}-seed{result.GetValue(seed)}" : Path.GetFileName(Path.TrimEndingDirectorySeparator(result.GetValue(checkpoint)!))),
                DType = result.GetValue(dtype),
                LastTokenLogitsOnly = result.GetValue(lastToken),
                SharedPrefix = result.GetValue(sharedPrefix),
                FusedOperators = result.GetValue(fused),
                TokenizerSource = tokenizerSource,
            };
            var manifest = LlamaOnnxBuilder.Build(weights, options, result.GetValue(output)!);
            Console.WriteLine(JsonSerializer.Serialize(manifest, Json));
        }));
        return command;
    }

    private static LlamaConfig RandomShape(string preset, int vocab) => preset switch
    {
        "tiny" => new LlamaConfig { VocabSize = vocab, HiddenSize = 64, IntermediateSize = 172, NumLayers = 2, NumHeads = 4, MaxPositions = 4096 },
        // LlamaGuard-7b's dimensions (see docs/guard.md).
        "7b" => new LlamaConfig { VocabSize = vocab, HiddenSize = 4096, IntermediateSize = 11008, NumLayers = 32, NumHeads = 32, MaxPositions = 4096 },
        _ => throw new ArgumentException($"Unknown --preset '{preset}'; use tiny or 7b."),
    };

    private static Command Tokenize()
    {
        var modelDir = new Option<string>("--model-dir") { Description = "Model directory holding tokenizer.json or tokenizer.model.", Required = true };
        var text = new Option<string?>("--text") { Description = "Text to tokenize (default: standard input)." };
        var bos = new Option<bool>("--bos") { Description = "Prepend the beginning-of-sequence token." };
        var command = new Command("tokenize", "Print the token ids of a text for a model directory's tokenizer.") { modelDir, text, bos };
        command.SetAction(result => Run(() =>
        {
            var tokenizer = TokenizerLoader.Load(result.GetValue(modelDir)!);
            var input = result.GetValue(text) ?? Console.In.ReadToEnd();
            var ids = tokenizer.Encode(input, result.GetValue(bos));
            Console.WriteLine(JsonSerializer.Serialize(new { family = tokenizer.Family, count = ids.Length, ids }, Json));
        }));
        return command;
    }

    private static Command Render()
    {
        var family = new Option<GuardFamily>("--family") { Description = "LlamaGuard1, LlamaGuard2 or LlamaGuard3.", DefaultValueFactory = _ => GuardFamily.LlamaGuard1 };
        var conversation = ConversationOption();
        var prompt = new Option<string?>("--prompt") { Description = "A user prompt to classify (instead of --conversation)." };
        var response = new Option<string?>("--response") { Description = "An assistant response to classify after --prompt." };
        var command = new Command("render", "Print the exact Llama Guard prompt for a conversation.") { family, conversation, prompt, response };
        command.SetAction(result => Run(() =>
        {
            var renderer = new LlamaGuardPromptRenderer(result.GetValue(family));
            var turns = ReadConversation(result.GetValue(conversation), result.GetValue(prompt), result.GetValue(response));
            Console.Write(renderer.Render(turns).Full);
        }));
        return command;
    }

    private static Command Classify()
    {
        var conversation = ConversationOption();
        var prompt = new Option<string?>("--prompt") { Description = "A user prompt to classify (instead of --conversation)." };
        var response = new Option<string?>("--response") { Description = "An assistant response to classify after --prompt." };
        var config = new Option<string?>("--config") { Description = "Extra JSON configuration with the Guard section." };
        var command = new Command("classify", "Classify a text or a conversation with the configured guard engine.") { conversation, prompt, response, config };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) => await RunAsync(async () =>
        {
            var hostArgs = new List<string>(result.UnmatchedTokens);
            if (result.GetValue(config) is { } c)
            {
                hostArgs.AddRange(["--config", c]);
            }
            // Logs go to standard error so standard output holds only the verdict.
            var builder = GatewayHost.CreateBuilder([.. hostArgs], [new("Logging:Console:LogToStandardErrorThreshold", "Trace")]);
            await using var services = builder.Services.BuildServiceProvider();
            var engine = services.GetRequiredService<GuardEngineProvider>().Engine
                ?? throw new InvalidOperationException("No guard engine is configured; set Guard:Engine (see docs/guard.md).");
            var turns = ReadConversation(result.GetValue(conversation), result.GetValue(prompt), result.GetValue(response));
            var verdict = await engine.ClassifyAsync(turns, cancellationToken);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                status = verdict.Status.ToString().ToLowerInvariant(),
                categories = verdict.Categories.Select(k => new { code = k.Code, name = k.Name }),
                unknown_codes = verdict.UnknownCodes,
                unsafe_probability = verdict.UnsafeProbability,
                truncated = verdict.Truncated,
                engine = verdict.Engine,
                model = verdict.Model,
                latency_ms = verdict.Latency.TotalMilliseconds,
                raw_output = verdict.RawOutput,
            }, Json));
        }));
        return command;
    }

    private static Option<string?> ConversationOption() =>
        new("--conversation") { Description = "JSON file: an array of {role, content} messages (or {\"messages\": [...]})." };

    private static GuardConversation ReadConversation(string? file, string? prompt, string? response)
    {
        if (file is null)
        {
            return prompt is null
                ? throw new ArgumentException("Give --conversation FILE or --prompt TEXT.")
                : response is null ? GuardConversation.ForPrompt(prompt) : GuardConversation.ForResponse(prompt, response);
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var array = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("messages", out var m) ? m : doc.RootElement;
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new ArgumentException($"{file}: expected an array of messages or an object with 'messages'.");
        }
        var messages = array.EnumerateArray().Select((e, i) => new GuardChatMessage(
            e.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : throw new ArgumentException($"{file}: messages[{i}].role is missing."),
            e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null)).ToList();
        return GuardConversation.FromMessages(messages);
    }

    private static int Run(Action action) => RunAsync(() => { action(); return Task.CompletedTask; }).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(Func<Task> action)
    {
        try
        {
            await action();
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or JsonException or InvalidOperationException or InvalidDataException or LlamaCheckpointException or TokenizerLoadException or GuardEngineException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
    }
}
