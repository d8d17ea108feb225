using System.Collections;
using System.Text;
using Gateway.Auth;
using Gateway.Generation;
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
        // The values in the order of AuditRecord.Keys; the texts (when captured) and the template follow.
        var content = context.CaptureContent;
        var values = new object?[AuditRecord.Keys.Length + (content ? 2 : 0)];
        values[0] = policy.Name;
        values[1] = context.HttpContext.TraceIdentifier;
        values[2] = context.HttpContext.Features.Get<CallerIdentity>()?.Tenant ?? "";
        values[3] = context.Request.Model.Id;
        values[4] = ApiName(context.Request.Api);
        values[5] = Boxed(status);
        values[6] = RequestOutcome.Of(context, status);
        values[7] = prompt?.Outcome ?? SemanticNames.Outcomes.NotChecked;
        values[8] = Categories(prompt);
        values[9] = Action(prompt, enforced: true);
        values[10] = prompt?.Cache ?? "none";
        values[11] = response?.Outcome ?? SemanticNames.Outcomes.NotChecked;
        values[12] = Categories(response);
        values[13] = Action(response, enforced: !audit);
        values[14] = response?.Cache ?? "none";
        values[15] = context.StreamMode ?? SemanticNames.StreamModes.None;
        values[16] = Boxed(context.StreamChecks);
        values[17] = Boxed(context.StreamCacheHits);
        if (content)
        {
            values[18] = Cut(PromptText(context));
            values[19] = Cut(context.ResponseText ?? "");
        }
        logger.Log(LogLevel.Information, EventId, new AuditRecord(values), null, static (r, _) => r.ToString());
    }

    // Boxes of the integers most records carry (status codes, small counts), made once instead of once per record.
    private static readonly object[] SmallIntegers = [.. Enumerable.Range(0, 600).Select(static i => (object)i)];

    private static object Boxed(int value) => (uint)value < (uint)SmallIntegers.Length ? SmallIntegers[value] : value;

    private static string ApiName(ClientApi api) => api switch
    {
        ClientApi.WorkersAiShort => nameof(ClientApi.WorkersAiShort),
        ClientApi.WorkersAiRest => nameof(ClientApi.WorkersAiRest),
        ClientApi.OpenAiChat => nameof(ClientApi.OpenAiChat),
        ClientApi.OpenAiCompletions => nameof(ClientApi.OpenAiCompletions),
        _ => api.ToString(),
    };

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
    private sealed class AuditRecord(object?[] values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public const string Template =
            "Moderation: policy {gateway.moderation.policy}, request {gateway.request.id}, tenant {gateway.tenant}, model {gen_ai.request.model}, " +
            "status {http.response.status_code}, outcome {gateway.moderation.outcome}, prompt {gateway.moderation.prompt.verdict} " +
            "[{gateway.moderation.prompt.categories}] action {gateway.moderation.prompt.action} cache {gateway.moderation.prompt.cache}, " +
            "response {gateway.moderation.response.verdict} [{gateway.moderation.response.categories}] action {gateway.moderation.response.action} " +
            "cache {gateway.moderation.response.cache}, stream {gateway.stream.mode} checks {gateway.moderation.response.stream_checks} " +
            "({gateway.moderation.response.stream_cache_hits} from the cache)";

        /// <summary>The attribute names, in the order of the values; the prompt and response texts follow them when
        /// captured.</summary>
        public static readonly string[] Keys =
        [
            G.Policy, G.RequestId, G.Tenant, SemanticNames.GenAi.RequestModel, G.Api,
            SemanticNames.General.HttpResponseStatusCode, G.Outcome,
            G.PromptPrefix + G.VerdictSuffix, G.PromptPrefix + G.CategoriesSuffix, G.PromptPrefix + G.ActionSuffix, G.PromptPrefix + G.CacheSuffix,
            G.ResponsePrefix + G.VerdictSuffix, G.ResponsePrefix + G.CategoriesSuffix, G.ResponsePrefix + G.ActionSuffix, G.ResponsePrefix + G.CacheSuffix,
            G.StreamMode, G.StreamChecks, G.StreamCacheHits,
        ];

        private static readonly string[] TextKeys = [G.PromptPrefix + G.TextSuffix, G.ResponsePrefix + G.TextSuffix];

        // The template cut at its placeholders, once: literal text, then the index of the value that follows it (-1
        // after the last literal).
        private static readonly (string Literal, int Index)[] Segments = Parse(Template);

        // The message is built in one builder per thread, reused (not kept once texts made it large).
        [ThreadStatic]
        private static StringBuilder? _builder;

        // The values, then the template as {OriginalFormat}.
        public int Count => values.Length + 1;

        public KeyValuePair<string, object?> this[int index] =>
            index < Keys.Length ? new(Keys[index], values[index])
            : index < values.Length ? new(TextKeys[index - Keys.Length], values[index])
            : index == values.Length ? new("{OriginalFormat}", Template)
            : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        /// <summary>The human-readable line: the template with each placeholder replaced by its value.</summary>
        public override string ToString()
        {
            var text = _builder ?? new StringBuilder(Template.Length + 128);
            _builder = null;
            text.Clear();
            foreach (var (literal, index) in Segments)
            {
                text.Append(literal);
                switch (index < 0 ? null : values[index])
                {
                    case string s:
                        text.Append(s);
                        break;
                    case int n:
                        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{n}");
                        break;
                    case { } other:
                        text.Append(Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture));
                        break;
                }
            }
            var line = text.ToString();
            if (text.Capacity <= 4 * Template.Length)
            {
                _builder = text;
            }
            return line;
        }

        private static (string Literal, int Index)[] Parse(string template)
        {
            var segments = new List<(string, int)>();
            var start = 0;
            while (template.IndexOf('{', start) is var open and >= 0)
            {
                var close = template.IndexOf('}', open);
                var index = Array.IndexOf(Keys, template[(open + 1)..close]);
                if (index < 0)
                {
                    throw new InvalidOperationException("The audit template names an attribute the record does not carry.");
                }
                segments.Add((template[start..open], index));
                start = close + 1;
            }
            segments.Add((template[start..], -1));
            return [.. segments];
        }
    }
}
