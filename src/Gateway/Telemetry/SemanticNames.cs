namespace Gateway.Telemetry;

/// <summary>Every name the gateway's telemetry uses: span names, span and log attributes, metric instruments and
/// their tags, and the well-known values. Nothing else in the gateway spells one, so a rename is one edit here (and
/// one in docs/observability.md).</summary>
/// <remarks>
/// <para>Sources, and how settled each group is:</para>
/// <list type="bullet">
/// <item><see cref="GenAi"/>: the OpenTelemetry GenAI semantic conventions for inference spans (repository
/// <c>open-telemetry/semantic-conventions-genai</c>, <c>docs/gen-ai/gen-ai-spans.md</c>; formerly
/// <c>open-telemetry/semantic-conventions</c>, <c>docs/gen-ai/</c>). Status: Development. <c>gen_ai.provider.name</c>
/// replaced the deprecated <c>gen_ai.system</c>.</item>
/// <item><see cref="Guardrail"/>: <b>provisional</b>. The guardrail conventions are a proposal, not yet merged:
/// <c>open-telemetry/semantic-conventions-genai</c> pull request 427 ("gen-ai: add run guardrail span and security
/// finding", the successor of pull request 262, which used <c>gen_ai.security.*</c> names, itself the successor of
/// <c>open-telemetry/semantic-conventions</c> pull request 3233, which used <c>apply_guardrail</c> and
/// <c>gen_ai.guardian.*</c>). Its current text names the operation <c>run_guardrail</c>, the spans
/// <c>gen_ai.run_guardrail.client</c> and <c>gen_ai.run_guardrail.internal</c> (span name
/// <c>run_guardrail {gen_ai.guardrail.component.name}</c>), the attributes <c>gen_ai.guardrail.*</c> and the finding
/// event <c>gen_ai.guardrail.security.finding</c>. Expect renames until it merges.</item>
/// <item><see cref="General"/>: stable OpenTelemetry general attributes (<c>error.type</c>,
/// <c>http.response.status_code</c>, <c>server.address</c>).</item>
/// <item><see cref="Gateway"/>, <see cref="Metrics"/>: the gateway's own names (namespace <c>gateway.</c>). Metric
/// names are a contract with dashboards: Prometheus sees them with dots as underscores, the unit appended
/// (<c>_seconds</c>) and <c>_total</c> on counters (<c>gateway.requests</c> is <c>gateway_requests_total</c>).</item>
/// </list>
/// </remarks>
public static class SemanticNames
{
    /// <summary>GenAI inference conventions (status Development).</summary>
    public static class GenAi
    {
        /// <summary>The operation: <see cref="Chat"/>, <see cref="TextCompletion"/>, <see cref="Guardrail.RunGuardrail"/>.</summary>
        public const string OperationName = "gen_ai.operation.name";

        /// <summary>Who serves the model, as far as the gateway knows (<see cref="ProviderOpenAi"/>, <see cref="ProviderWorkersAi"/>, ...).</summary>
        public const string ProviderName = "gen_ai.provider.name";

        /// <summary>The model the client asked for (the catalog id).</summary>
        public const string RequestModel = "gen_ai.request.model";

        /// <summary>The most tokens the request lets the model generate, when the client set it.</summary>
        public const string RequestMaxTokens = "gen_ai.request.max_tokens";

        /// <summary>The sampling temperature, when the client set it.</summary>
        public const string RequestTemperature = "gen_ai.request.temperature";

        /// <summary>The nucleus sampling bound, when the client set it.</summary>
        public const string RequestTopP = "gen_ai.request.top_p";

        /// <summary>Why generation stopped (string array): the upstream's reason, or <see cref="FinishContentFilter"/>
        /// when the gateway withheld the response.</summary>
        public const string ResponseFinishReasons = "gen_ai.response.finish_reasons";

        /// <summary>Prompt tokens, as reported by the upstream.</summary>
        public const string UsageInputTokens = "gen_ai.usage.input_tokens";

        /// <summary>Generated tokens, as reported by the upstream.</summary>
        public const string UsageOutputTokens = "gen_ai.usage.output_tokens";

        /// <summary><see cref="ResponseFinishReasons"/> of a response the gateway blocked.</summary>
        public const string FinishContentFilter = "content_filter";

        /// <summary><see cref="OperationName"/> of chat requests (OpenAI chat completions, Workers AI <c>messages</c>).</summary>
        public const string Chat = "chat";

        /// <summary><see cref="OperationName"/> of prompt requests (OpenAI completions, Workers AI <c>prompt</c>).</summary>
        public const string TextCompletion = "text_completion";

        /// <summary><see cref="ProviderName"/> of an OpenAI-compatible upstream (well-known value).</summary>
        public const string ProviderOpenAi = "openai";

        /// <summary><see cref="ProviderName"/> of the Cloudflare Workers AI REST API (a custom value: the conventions
        /// have none for it).</summary>
        public const string ProviderWorkersAi = "cloudflare.workers_ai";

        /// <summary><see cref="ProviderName"/> of the built-in demo upstream and the served guard model (custom value).</summary>
        public const string ProviderGateway = "moderation_gateway";
    }

    /// <summary>PROVISIONAL: the guardrail conventions proposed in <c>open-telemetry/semantic-conventions-genai</c>
    /// pull request 427 (not merged; see the remarks on <see cref="SemanticNames"/>).</summary>
    public static class Guardrail
    {
        /// <summary><see cref="GenAi.OperationName"/> of a guardrail run, and the span name's first word.</summary>
        public const string RunGuardrail = "run_guardrail";

        /// <summary>The guardrail service or component: the guard engine's name.</summary>
        public const string ComponentName = "gen_ai.guardrail.component.name";

        /// <summary>What is judged: <see cref="TargetInput"/> (the prompt) or <see cref="TargetOutput"/> (the response).</summary>
        public const string TargetType = "gen_ai.guardrail.target.type";

        /// <summary>Refines <see cref="TargetType"/>: always <see cref="SubtypeLlm"/> here.</summary>
        public const string TargetSubtype = "gen_ai.guardrail.target.subtype";

        /// <summary>What the guardrail (guard model and policy together) reports: <see cref="VerdictAllow"/>,
        /// <see cref="VerdictWarn"/> (flag) or <see cref="VerdictDeny"/> (block); unset when there was no verdict.</summary>
        public const string VerdictType = "gen_ai.guardrail.verdict.type";

        /// <summary>Why, for a verdict other than allow: the policy's reason (codes, categories, threshold; never content).</summary>
        public const string VerdictReason = "gen_ai.guardrail.verdict.reason";

        /// <summary>What the gateway enforced: <see cref="ActionAllow"/>, <see cref="ActionBlock"/> or
        /// <see cref="ActionAudit"/> (a stream in audit mode: recorded, never enforced).</summary>
        public const string ActionType = "gen_ai.guardrail.action.type";

        /// <summary>The policy that produced the verdict: the gateway's policy name.</summary>
        public const string PolicyId = "gen_ai.guardrail.security.policy.id";

        /// <summary>One category code found, on a <see cref="FindingEvent"/>.</summary>
        public const string RiskCategory = "gen_ai.guardrail.security.risk.category";

        /// <summary>The guard's unsafe probability (0 to 1), when the engine reports one.</summary>
        public const string RiskScore = "gen_ai.guardrail.security.risk.score";

        /// <summary>A span event per category code a check named.</summary>
        public const string FindingEvent = "gen_ai.guardrail.security.finding";

        /// <summary><see cref="TargetType"/>: the prompt.</summary>
        public const string TargetInput = "input";

        /// <summary><see cref="TargetType"/>: the response.</summary>
        public const string TargetOutput = "output";

        /// <summary><see cref="TargetSubtype"/>: LLM prompt, messages or response content.</summary>
        public const string SubtypeLlm = "llm";

        /// <summary><see cref="VerdictType"/>: passes.</summary>
        public const string VerdictAllow = "allow";

        /// <summary><see cref="VerdictType"/>: passes, flagged.</summary>
        public const string VerdictWarn = "warn";

        /// <summary><see cref="VerdictType"/>: must not pass.</summary>
        public const string VerdictDeny = "deny";

        /// <summary><see cref="ActionType"/>: let through.</summary>
        public const string ActionAllow = "allow";

        /// <summary><see cref="ActionType"/>: stopped.</summary>
        public const string ActionBlock = "block";

        /// <summary><see cref="ActionType"/>: recorded without changing what the client got.</summary>
        public const string ActionAudit = "audit";
    }

    /// <summary>Stable general OpenTelemetry attributes.</summary>
    public static class General
    {
        /// <summary>Why an operation failed (low cardinality).</summary>
        public const string ErrorType = "error.type";

        /// <summary>The HTTP status the client got.</summary>
        public const string HttpResponseStatusCode = "http.response.status_code";
    }

    /// <summary>The gateway's own span names and attributes (spans and the audit record).</summary>
    public static class Gateway
    {
        /// <summary>The span of the policy decision (which policy applies), a child of the API call's span.</summary>
        public const string PolicySpan = "moderation.policy";

        /// <summary>The span around the forwarded upstream call, a child of the API call's span.</summary>
        public const string UpstreamSpan = "upstream";

        /// <summary>The audit record's event name (and its <c>EventId</c> name).</summary>
        public const string AuditEvent = "gateway.moderation.audit";

        /// <summary>The API surface (<c>OpenAiChat</c>, <c>OpenAiCompletions</c>, <c>WorkersAiShort</c>, ...).</summary>
        public const string Api = "gateway.api";

        /// <summary>Whether the client asked for a stream.</summary>
        public const string Stream = "gateway.stream";

        /// <summary>The upstream's configured name.</summary>
        public const string Upstream = "gateway.upstream";

        /// <summary>The request id (ASP.NET Core's trace identifier, also in the gateway's logs).</summary>
        public const string RequestId = "gateway.request.id";

        /// <summary>The caller's tenant, from its API key; empty without API keys.</summary>
        public const string Tenant = "gateway.tenant";

        /// <summary>The policy in force; unset for exempt requests (the served guard model).</summary>
        public const string Policy = "gateway.moderation.policy";

        /// <summary>The policy route (<c>openai-chat</c>, <c>openai-completions</c>, <c>workers-ai</c>).</summary>
        public const string PolicyRoute = "gateway.moderation.route";

        /// <summary>Whether the request is exempt from moderation (the served guard model).</summary>
        public const string Exempt = "gateway.moderation.exempt";

        /// <summary>The moderation outcome that decided the request (<see cref="Outcomes"/>).</summary>
        public const string Outcome = "gateway.moderation.outcome";

        /// <summary>Prompt or response (<see cref="RolePrompt"/>, <see cref="RoleResponse"/>).</summary>
        public const string Role = "gateway.moderation.role";

        /// <summary>The guard engine's name.</summary>
        public const string GuardEngine = "gateway.guard.engine";

        /// <summary>The guard model's id.</summary>
        public const string GuardModel = "gateway.guard.model";

        /// <summary>The guard model's own answer: <c>safe</c>, <c>unsafe</c>, <c>unparseable</c>; unset without one.</summary>
        public const string GuardVerdict = "gateway.guard.verdict";

        /// <summary>The category codes a check named (string array): the blocking ones for block, the flagged ones for flag.</summary>
        public const string GuardCategories = "gateway.guard.categories";

        /// <summary>How long the check took, in seconds (the span's duration, as the gateway measured it).</summary>
        public const string GuardLatency = "gateway.guard.latency";

        /// <summary>How the check used the verdict cache: <c>hit</c>, <c>miss</c> or <c>off</c>.</summary>
        public const string CacheResult = "gateway.cache.result";

        /// <summary>The stream filter's mode: <c>windowed</c>, <c>buffered</c>, <c>audit</c> or <c>none</c>.</summary>
        public const string StreamMode = "gateway.stream.mode";

        /// <summary>Prefix of the audit record's per-role attributes: <c>gateway.moderation.prompt.*</c>.</summary>
        public const string PromptPrefix = "gateway.moderation.prompt.";

        /// <summary>Prefix of the audit record's per-role attributes: <c>gateway.moderation.response.*</c>.</summary>
        public const string ResponsePrefix = "gateway.moderation.response.";

        /// <summary>Per-role audit attribute (after a prefix): the decision's outcome (<see cref="Outcomes"/>).</summary>
        public const string VerdictSuffix = "verdict";

        /// <summary>Per-role audit attribute (after a prefix): the category codes (string array).</summary>
        public const string CategoriesSuffix = "categories";

        /// <summary>Per-role audit attribute (after a prefix): what the gateway enforced (<see cref="Guardrail.ActionType"/> values, or <c>none</c>).</summary>
        public const string ActionSuffix = "action";

        /// <summary>Per-role audit attribute (after a prefix): the cache use, <c>hit</c>, <c>miss</c> or <c>none</c>.</summary>
        public const string CacheSuffix = "cache";

        /// <summary>Per-role audit attribute (after a prefix): the text, only with <c>Telemetry:AuditContent</c> on.</summary>
        public const string TextSuffix = "text";

        /// <summary>Audit attribute: how many guard checks judged the streamed response.</summary>
        public const string StreamChecks = "gateway.moderation.response.stream_checks";

        /// <summary>Audit attribute: how many of them came from the cache.</summary>
        public const string StreamCacheHits = "gateway.moderation.response.stream_cache_hits";

        /// <summary><see cref="Role"/>: the prompt check.</summary>
        public const string RolePrompt = "prompt";

        /// <summary><see cref="Role"/>: the response check.</summary>
        public const string RoleResponse = "response";
    }

    /// <summary>Moderation outcomes, as tags, attributes and response metadata spell them.</summary>
    public static class Outcomes
    {
        /// <summary>Checked and passed.</summary>
        public const string Allowed = "allowed";

        /// <summary>Checked, passed and flagged.</summary>
        public const string Flagged = "flagged";

        /// <summary>Checked and stopped.</summary>
        public const string Blocked = "blocked";

        /// <summary>No usable verdict; the policy lets it pass.</summary>
        public const string FailOpen = "fail-open";

        /// <summary>No usable verdict; the policy stops it.</summary>
        public const string FailClosed = "fail-closed";

        /// <summary>Not checked (the policy does not check the role, no guard is configured, or the request is exempt).</summary>
        public const string NotChecked = "not-checked";

        /// <summary>The request failed for a reason other than moderation (invalid request, upstream failure, cut stream).</summary>
        public const string Error = "error";
    }

    /// <summary>The stream filter's modes, as the <c>mode</c> tag and <c>gateway.stream.mode</c> spell them.</summary>
    public static class StreamModes
    {
        /// <summary>Events held until a check of their window passed.</summary>
        public const string Windowed = "windowed";

        /// <summary>Events held until one check of the whole response passed.</summary>
        public const string Buffered = "buffered";

        /// <summary>Events relayed at once, checked and recorded only.</summary>
        public const string Audit = "audit";

        /// <summary>The stream is not checked.</summary>
        public const string None = "none";
    }

    /// <summary>The gateway's metric instruments (meter <c>Gateway</c>) and their tags.</summary>
    public static class Metrics
    {
        /// <summary>Counter: finished text-generation requests. Tags: <see cref="TagApi"/>, <see cref="TagModel"/>,
        /// <see cref="General.HttpResponseStatusCode"/>, <see cref="TagOutcome"/>.</summary>
        public const string Requests = "gateway.requests";

        /// <summary>Histogram (s): request start to the last byte of the response; the same tags as <see cref="Requests"/>.</summary>
        public const string RequestDuration = "gateway.request.duration";

        /// <summary>Counter: guard decisions. Tags: <see cref="TagPolicy"/>, <see cref="TagRole"/>, <see cref="TagOutcome"/>.</summary>
        public const string Decisions = "gateway.moderation.decisions";

        /// <summary>Counter: one per category code of each blocked prompt or response (what the gateway stopped: a
        /// stream in audit mode is not; a closed failure is not a block). Tags: <see cref="TagRole"/>,
        /// <see cref="TagCategory"/>, <see cref="TagPolicy"/>.</summary>
        public const string Blocks = "gateway.moderation.blocks";

        /// <summary>Histogram (s): every guard check, cache included. Tags: <see cref="TagEngine"/>, <see cref="TagRole"/>,
        /// <see cref="TagCache"/>, <see cref="TagOutcome"/>.</summary>
        public const string GuardDuration = "gateway.guard.duration";

        /// <summary>Counter: verdict cache lookups. Tag: <see cref="TagResult"/>.</summary>
        public const string CacheVerdicts = "gateway.cache.verdicts";

        /// <summary>Counter: failed Redis operations of the verdict cache. Tag: <see cref="TagOperation"/>.</summary>
        public const string RedisFailures = "gateway.cache.redis.failures";

        /// <summary>Histogram (s): request start to the first SSE bytes written to the client. Tags: <see cref="TagApi"/>,
        /// <see cref="TagModel"/>, <see cref="TagMode"/>.</summary>
        public const string StreamTimeToFirstByte = "gateway.stream.time_to_first_byte";

        /// <summary>Histogram (s): how long each released event was held by the stream filter. Tag: <see cref="TagMode"/>.</summary>
        public const string StreamHoldDuration = "gateway.stream.hold.duration";

        /// <summary>The API surface.</summary>
        public const string TagApi = "api";

        /// <summary>The catalog model id, or <see cref="UnknownModel"/>.</summary>
        public const string TagModel = "model";

        /// <summary>A moderation outcome (<see cref="Outcomes"/>).</summary>
        public const string TagOutcome = "outcome";

        /// <summary>The policy's name.</summary>
        public const string TagPolicy = "policy";

        /// <summary><c>prompt</c> or <c>response</c>.</summary>
        public const string TagRole = "role";

        /// <summary>A category code of the policy's taxonomy; <c>unknown</c> for codes it does not know, <c>none</c> for
        /// a block that named none.</summary>
        public const string TagCategory = "category";

        /// <summary>The guard engine's name.</summary>
        public const string TagEngine = "engine";

        /// <summary><c>hit</c> (the verdict came from the cache) or <c>miss</c> (the guard was called, also when the
        /// cache is off).</summary>
        public const string TagCache = "cache";

        /// <summary><c>hit</c> or <c>miss</c>.</summary>
        public const string TagResult = "result";

        /// <summary>The Redis operation.</summary>
        public const string TagOperation = "operation";

        /// <summary>The stream filter's mode: <c>windowed</c>, <c>buffered</c>, <c>audit</c> or <c>none</c>.</summary>
        public const string TagMode = "mode";

        /// <summary><see cref="TagModel"/> for a model outside the catalog (client input never becomes a tag).</summary>
        public const string UnknownModel = "unknown";

        /// <summary><see cref="TagCategory"/> for a code outside the policy's taxonomy.</summary>
        public const string UnknownCategory = "unknown";

        /// <summary><see cref="TagCategory"/> for a block that named no code.</summary>
        public const string NoCategory = "none";

        /// <summary><see cref="TagCache"/>, <see cref="TagResult"/>: from the cache.</summary>
        public const string Hit = "hit";

        /// <summary><see cref="TagCache"/>, <see cref="TagResult"/>: not from the cache.</summary>
        public const string Miss = "miss";
    }
}
