// Drives the gateway's Workers AI REST surface under a blocking moderation policy with the official `cloudflare` npm
// client (`client.ai.run`) and prints a JSON report. Usage: node moderation-cloudflare.mjs <gateway-base-url> [scenario...]
//
// What the gateway answers (docs/api.md), and how the client surfaces it:
// - A blocked prompt: HTTP 400 with the error envelope, code 2016, so ai.run() throws Cloudflare.BadRequestError whose
//   `errors[0].code` is 2016 (with stream: true too: the check runs before the stream starts).
// - A blocked unary answer: HTTP 400, code 2017: ai.run() throws Cloudflare.BadRequestError with code 2017.
// - A blocked stream: HTTP 200 text/event-stream; the text released before the cut (maybe none), then the error
//   envelope {"success":false,"errors":[{"code":2017,...}]} as an event, then [DONE]. This SDK has no SSE support for
//   ai.run (see cloudflare-client.mjs): awaiting a streamed call resolves to undefined, so the 2017 is only visible
//   through the raw Response (`.asResponse()`).
import Cloudflare from 'cloudflare';
import { MODEL, MODERATION, checkNoMarker, describeError, gatewayUrl, readSseData, rejection, runScenarios } from './harness.mjs';

const client = new Cloudflare({ apiToken: 'client-token', baseURL: gatewayUrl() + '/client/v4', maxRetries: 0, timeout: 20_000 });
const account_id = 'acct';
const { PROMPT_MARKER, UNSAFE_ASK, SAFE_OPENING, SAFE_TEXT } = MODERATION;
const unsafeMessages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: UNSAFE_ASK }];

/** Checks a typed error from ai.run: BadRequestError, 400, one error with `code` and `message`, no marker. */
function checkBlocked(e, code, message, { check, equal }) {
  check(e instanceof Cloudflare.BadRequestError, `throws Cloudflare.BadRequestError, got ${e?.constructor?.name}`);
  equal(e?.status, 400, 'status');
  equal(e?.errors?.length, 1, 'errors.length');
  equal(e?.errors?.[0]?.code, code, 'errors[0].code');
  equal(e?.errors?.[0]?.message, message, 'errors[0].message');
  equal(e?.error?.success, false, 'success');
  checkNoMarker(describeError(e), check, 'the error');
  return describeError(e);
}

/** Streams one ai.run call through its raw Response: the status, the events' data, the text and the parsed events. */
async function rawStream(params) {
  const response = await client.ai.run(MODEL, { account_id, ...params, stream: true }).asResponse();
  const events = await readSseData(response.body);
  const parsed = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
  const text = parsed.filter((e) => e.success !== false).map((e) => e.response ?? '').join('');
  return { status: response.status, contentType: response.headers.get('content-type'), moderation: response.headers.get('x-moderation-stream'), events, parsed, text };
}

/** Checks a blocked stream: a prefix of the safe opening, then the 2017 error event, then [DONE]. */
function checkStreamBlocked(stream, { check, equal }) {
  equal(stream.status, 200, 'status');
  equal(stream.events.at(-1), '[DONE]', 'last event');
  equal(stream.events.filter((e) => e === '[DONE]').length, 1, 'number of [DONE] events');
  const terminal = stream.parsed.at(-1);
  equal(terminal?.success, false, 'the event before [DONE] is an error envelope');
  equal(terminal?.errors?.[0]?.code, 2017, 'its errors[0].code');
  equal(terminal?.errors?.[0]?.message, 'Response blocked due to security configurations (categories: S1).', 'its errors[0].message');
  equal(stream.parsed.filter((e) => e.success === false).length, 1, 'one error event');
  check(SAFE_OPENING.startsWith(stream.text), `text before the cut is a prefix of the safe opening, got ${JSON.stringify(stream.text)}`);
  checkNoMarker(stream.events, check, 'the events');
}

await runScenarios({
  async blockedPrompt(checks) {
    const e = await rejection(client.ai.run(MODEL, { account_id, prompt: `please ${PROMPT_MARKER} now` }), checks.check);
    return checkBlocked(e, 2016, 'Prompt blocked due to security configurations (categories: S1).', checks);
  },

  async blockedPromptStream(checks) {
    const e = await rejection(client.ai.run(MODEL, { account_id, messages: [{ role: 'user', content: PROMPT_MARKER }], stream: true }), checks.check);
    return checkBlocked(e, 2016, 'Prompt blocked due to security configurations (categories: S1).', checks);
  },

  async blockedResponse(checks) {
    const e = await rejection(client.ai.run(MODEL, { account_id, messages: unsafeMessages }), checks.check);
    return checkBlocked(e, 2017, 'Response blocked due to security configurations (categories: S1).', checks);
  },

  async blockedPromptResponse(checks) {
    const e = await rejection(client.ai.run(MODEL, { account_id, prompt: UNSAFE_ASK }), checks.check);
    return checkBlocked(e, 2017, 'Response blocked due to security configurations (categories: S1).', checks);
  },

  async blockedStream(checks) {
    const stream = await rawStream({ messages: unsafeMessages });
    checkStreamBlocked(stream, checks);
    checks.check(stream.contentType?.startsWith('text/event-stream'), `content-type is text/event-stream, got ${stream.contentType}`);
    checks.equal(stream.moderation, 'windowed', 'x-moderation-stream');
    return { text: stream.text, events: stream.parsed, contentType: stream.contentType };
  },

  async blockedStreamAwaitedDirectly({ equal }) {
    // The SDK reads the event stream as one string and unwraps `.result`: the cut is invisible this way.
    const result = await client.ai.run(MODEL, { account_id, messages: unsafeMessages, stream: true });
    equal(result, undefined, 'awaited streamed ai.run');
    return { type: typeof result };
  },

  async safeStream({ check, equal }) {
    const stream = await rawStream({ prompt: 'hello' });
    equal(stream.status, 200, 'status');
    equal(stream.events.at(-1), '[DONE]', 'last event');
    equal(stream.parsed.filter((e) => e.success === false).length, 0, 'no error event');
    equal(stream.text, SAFE_TEXT, 'concatenated response');
    check(stream.parsed.length > 2, `several events, got ${stream.parsed.length}`);
    return { text: stream.text, events: stream.parsed.length };
  },

  async safeUnary({ equal }) {
    const result = await client.ai.run(MODEL, { account_id, messages: [{ role: 'user', content: 'hello' }] });
    equal(result?.response, SAFE_TEXT, 'response');
    return result;
  },
});
