using System.Collections;
using System.Text;
using Gateway.Auth;
using Gateway.Moderation;
using Gateway.Telemetry;
using Microsoft.Extensions.Logging;
using G = Gateway.Telemetry.SemanticNames.Gateway;

namespace Gateway.Pipeline;

/// <summary>Records what moderation decided for the request, whether it was forwarded, blocked or failed: one audit
/// record per request (event 6100, <c>gateway.moderation.audit</c>) with the policy, the request's outcome, each
/// check's verdict, categories, action and cache use, the request id and the tenant, as structured attributes that
/// the OpenTelemetry log exporter sends as they are (docs/observability.md#audit-record). It never carries prompt or
/// response text unless <c>Telemetry:AuditContent</c> is on. It runs last, always.</summary>
internal sealed class AuditStep(ILogger<AuditStep> logger)
{
    /// <summary>The audit record's event id.</summary>
    public static readonly EventId EventId = new(6100, G.AuditEvent);

    // With Telemetry:AuditContent on, each text is cut to this length.
    private const int MaxTextChars = 16 * 1024;

    public void Record(ModerationContext context, int status)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Policy is not { } policy || !logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        var prompt = context.PromptDecision;
        var response = context.ResponseDecision;
        var audit = context.StreamMode == SemanticNames.StreamModes.Audit;
        // Room for every attribute, the texts and the template, so the list never grows.
        var record = new AuditRecord(new List<KeyValuePair<string, object?>>(21)
        {
            new(G.Policy, policy.Name),
            new(G.RequestId, context.HttpContext.TraceIdentifier),
            new(G.Tenant, context.HttpContext.Features.Get<CallerIdentity>()?.Tenant ?? ""),
            new(SemanticNames.GenAi.RequestModel, context.Request.Model.Id),
            new(G.Api, context.Request.Api.ToString()),
            new(SemanticNames.General.HttpResponseStatusCode, status),
            new(G.Outcome, RequestOutcome.Of(context, status)),
            new(G.PromptPrefix + G.VerdictSuffix, prompt?.Outcome ?? SemanticNames.Outcomes.NotChecked),
            new(G.PromptPrefix + G.CategoriesSuffix, Categories(prompt)),
            new(G.PromptPrefix + G.ActionSuffix, Action(prompt, enforced: true)),
            new(G.PromptPrefix + G.CacheSuffix, prompt?.Cache ?? "none"),
            new(G.ResponsePrefix + G.VerdictSuffix, response?.Outcome ?? SemanticNames.Outcomes.NotChecked),
            new(G.ResponsePrefix + G.CategoriesSuffix, Categories(response)),
            new(G.ResponsePrefix + G.ActionSuffix, Action(response, enforced: !audit)),
            new(G.ResponsePrefix + G.CacheSuffix, response?.Cache ?? "none"),
            new(G.StreamMode, context.StreamMode ?? SemanticNames.StreamModes.None),
            new(G.StreamChecks, context.StreamChecks),
            new(G.StreamCacheHits, context.StreamCacheHits),
        });
        if (context.CaptureContent)
        {
            record.Add(new(G.PromptPrefix + G.TextSuffix, Cut(PromptText(context))));
            record.Add(new(G.ResponsePrefix + G.TextSuffix, Cut(context.ResponseText ?? "")));
        }
        record.Add(new("{OriginalFormat}", AuditRecord.Template));
        logger.Log(LogLevel.Information, EventId, record, null, static (r, _) => r.ToString());
    }

    private static string Categories(ModerationDecision? decision) =>
        decision?.Categories is { Count: > 0 } c ? string.Join(',', c) : "";

    /// <summary>What the gateway enforced for a check: allow, block, audit (checked, recorded only) or none (not checked).</summary>
    private static string Action(ModerationDecision? decision, bool enforced) => decision switch
    {
        null or { Outcome: null or SemanticNames.Outcomes.NotChecked } => "none",
        _ when !enforced => SemanticNames.Guardrail.ActionAudit,
        { Allowed: false } => SemanticNames.Guardrail.ActionBlock,
        _ => SemanticNames.Guardrail.ActionAllow,
    };

    private static string PromptText(ModerationContext context) =>
        context.Request.Prompt ?? string.Join("\n", context.Request.Messages?.Select(m => $"{m.Role}: {m.Content}") ?? []);

    private static string Cut(string text) => text.Length <= MaxTextChars ? text : text[..MaxTextChars] + "...";

    /// <summary>The record's attributes, in the shape loggers read structured state in; the OpenTelemetry exporter
    /// sends each as an attribute and <c>{OriginalFormat}</c> as the body.</summary>
    private sealed class AuditRecord(List<KeyValuePair<string, object?>> attributes) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public const string Template =
            "Moderation: policy {gateway.moderation.policy}, request {gateway.request.id}, tenant {gateway.tenant}, model {gen_ai.request.model}, " +
            "status {http.response.status_code}, outcome {gateway.moderation.outcome}, prompt {gateway.moderation.prompt.verdict} " +
            "[{gateway.moderation.prompt.categories}] action {gateway.moderation.prompt.action} cache {gateway.moderation.prompt.cache}, " +
            "response {gateway.moderation.response.verdict} [{gateway.moderation.response.categories}] action {gateway.moderation.response.action} " +
            "cache {gateway.moderation.response.cache}, stream {gateway.stream.mode} checks {gateway.moderation.response.stream_checks} " +
            "({gateway.moderation.response.stream_cache_hits} from the cache)";

        public int Count => attributes.Count;

        public KeyValuePair<string, object?> this[int index] => attributes[index];

        public void Add(KeyValuePair<string, object?> attribute) => attributes.Add(attribute);

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => attributes.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        // The template cut at its placeholders, once: literal text, then the attribute whose value follows it (null
        // after the last literal).
        private static readonly (string Literal, string? Key)[] Segments = Parse(Template);

        /// <summary>The human-readable line: the template with each placeholder replaced by its value.</summary>
        public override string ToString()
        {
            var text = new StringBuilder(Template.Length + 64);
            foreach (var (literal, key) in Segments)
            {
                text.Append(literal);
                if (key is not null)
                {
                    text.Append(Convert.ToString(Value(key), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            return text.ToString();
        }

        private object? Value(string key)
        {
            foreach (var (name, value) in attributes)
            {
                if (name == key)
                {
                    return value;
                }
            }
            return null;
        }

        private static (string Literal, string? Key)[] Parse(string template)
        {
            var segments = new List<(string, string?)>();
            var start = 0;
            while (template.IndexOf('{', start) is var open and >= 0)
            {
                var close = template.IndexOf('}', open);
                segments.Add((template[start..open], template[(open + 1)..close]));
                start = close + 1;
            }
            segments.Add((template[start..], null));
            return [.. segments];
        }
    }
}
