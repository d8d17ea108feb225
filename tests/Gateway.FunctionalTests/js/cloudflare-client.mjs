// Drives the gateway's Workers AI REST surface (/client/v4/accounts/{account_id}/ai/run/{model}) with the official
// `cloudflare` npm client and prints a JSON report. Usage: node cloudflare-client.mjs <gateway-base-url> [scenario...]
//
// How cloudflare@7 handles `ai.run` (node_modules/cloudflare/resources/ai/ai.mjs, internal/parse.mjs):
// - run() POSTs to `/accounts/${account_id}/ai/run/${modelName}`; the path tag percent-encodes the model name, so
//   '@cf/meta/x' goes on the wire as '@cf%2Fmeta%2Fx' (the gateway must decode it).
// - The body is parsed by content type (application/json -> JSON, anything else -> text) and then unwrapped with
//   `obj => obj.result`, so a non-streamed call resolves to {response, usage}.
// - There is no SSE support for ai.run in this SDK: a `stream: true` answer (text/event-stream) is read as one string
//   and `'...'.result` is undefined, so awaiting it resolves to undefined after the whole stream has been buffered.
//   To stream, take the raw fetch Response with `.asResponse()` and parse its SSE body ourselves (readSseData).
import Cloudflare from 'cloudflare';
import { EXPECTED_TEXT, EXPECTED_TOTAL_TOKENS, MODEL, describeError, gatewayUrl, readSseData, rejection, runScenarios } from './harness.mjs';

const client = new Cloudflare({ apiToken: 'client-token', baseURL: gatewayUrl() + '/client/v4', maxRetries: 0, timeout: 20_000 });
const account_id = 'acct';
const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello' }];

/** Streams one ai.run call through the raw Response and checks the Workers AI SSE shape. */
async function streamed(params, { check, equal }) {
  const response = await client.ai.run(MODEL, { account_id, ...params, stream: true }).asResponse();
  equal(response.status, 200, 'status');
  const contentType = response.headers.get('content-type');
  check(contentType?.split(';')[0].trim() === 'text/event-stream', `content-type is text/event-stream, got ${contentType}`);
  const events = await readSseData(response.body);
  equal(events.at(-1), '[DONE]', 'last event');
  equal(events.filter((e) => e === '[DONE]').length, 1, 'number of [DONE] events');
  let text = '';
  let usage;
  for (const data of events.slice(0, -1)) {
    const event = JSON.parse(data);
    check(typeof event.response === 'string', `event has a string response: ${data}`);
    text += event.response ?? '';
    if (event.usage) usage = event.usage;
  }
  equal(text, EXPECTED_TEXT, 'concatenated response');
  equal(usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens');
  return { contentType, events: events.length, text, usage };
}

await runScenarios({
  async promptNonStream({ check, equal }) {
    const result = await client.ai.run(MODEL, { account_id, prompt: 'hello' });
    check(result && typeof result === 'object', 'resolves to the unwrapped result object');
    equal(result?.response, EXPECTED_TEXT, 'response');
    equal(result?.usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens');
    return result;
  },

  async messagesNonStream({ equal }) {
    const { data, response } = await client.ai.run(MODEL, { account_id, messages }).withResponse();
    equal(response.status, 200, 'status');
    equal(data?.response, EXPECTED_TEXT, 'response');
    equal(data?.usage?.total_tokens, EXPECTED_TOTAL_TOKENS, 'usage.total_tokens');
    return data;
  },

  async promptStream(checks) {
    return streamed({ prompt: 'hello' }, checks);
  },

  async messagesStream(checks) {
    return streamed({ messages }, checks);
  },

  async streamAwaitedDirectly({ equal }) {
    // Documents the SDK limitation described at the top: the SSE text is not parsed and `.result` of a string is undefined.
    const result = await client.ai.run(MODEL, { account_id, prompt: 'hello', stream: true });
    equal(result, undefined, 'awaited streamed ai.run');
    return { type: typeof result };
  },

  async invalidParameterIsBadRequest({ check, equal }) {
    const e = await rejection(client.ai.run(MODEL, { account_id, prompt: 'hello', temperature: 9 }), check);
    check(e instanceof Cloudflare.BadRequestError, `throws Cloudflare.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.errors?.length, 1, 'errors.length');
    equal(e?.errors?.[0]?.code, 5006, 'errors[0].code');
    equal(e?.errors?.[0]?.message, "'temperature' must be between 0 and 5, got 9 (at 'temperature')", 'errors[0].message');
    equal(e?.error?.success, false, 'success');
    return describeError(e);
  },

  async invalidStreamingParameterIsBadRequest({ check, equal }) {
    const e = await rejection(client.ai.run(MODEL, { account_id, prompt: 'hello', stream: true, top_k: 'x' }), check);
    check(e instanceof Cloudflare.BadRequestError, `throws Cloudflare.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.errors?.[0]?.code, 5006, 'errors[0].code');
    return describeError(e);
  },

  async unknownModelIsBadRequest({ check, equal }) {
    // Workers AI reports an unknown model as 400 with code 5007 (the OpenAI surface uses 404).
    const e = await rejection(client.ai.run('@cf/nobody/no-such-model', { account_id, prompt: 'hello' }), check);
    check(e instanceof Cloudflare.BadRequestError, `throws Cloudflare.BadRequestError, got ${e?.constructor?.name}`);
    equal(e?.status, 400, 'status');
    equal(e?.errors?.[0]?.code, 5007, 'errors[0].code');
    equal(e?.errors?.[0]?.message, 'No such model @cf/nobody/no-such-model or task', 'errors[0].message');
    return describeError(e);
  },
}, {
  async promptStreamCutByUpstream({ check, equal }) {
    // Run on request: the test scripts the upstream to send one token ("partial") and then end its body in the
    // middle of an event. The gateway ends the stream with a Workers AI error envelope as the last event, no [DONE].
    const response = await client.ai.run(MODEL, { account_id, prompt: 'hello', stream: true }).asResponse();
    equal(response.status, 200, 'status');
    const events = await readSseData(response.body);
    check(!events.includes('[DONE]'), 'no [DONE]');
    const parsed = events.map((e) => JSON.parse(e));
    equal(parsed.slice(0, -1).map((e) => e.response).join(''), 'partial', 'text before the cut');
    const last = parsed.at(-1);
    equal(last?.success, false, 'last event success');
    equal(last?.errors?.[0]?.code, 9001, 'last event errors[0].code');
    return { events: parsed };
  },
});
